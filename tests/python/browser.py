"""Debian's chromium, headless, driven by selenium through /usr/bin/chromedriver: the real
browser the report and chart pages are checked in. Nothing is downloaded: a machine
without /usr/bin/chromium skips the browser tests (.ci/run installs it)."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# What works in this container: no sandbox (root), no GPU, no network chatter.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
WIDTH = 1200


def available() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


@contextmanager
def chromium(height: int = 900) -> Iterator[Any]:
    """A headless chromium session with the browser's console log enabled."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver: Any, path: Path) -> list[dict[str, Any]]:
    """Load a local file and wait for it; returns the console messages of the load."""
    driver.get(path.resolve().as_uri())
    driver.execute_script("return document.readyState")  # the load has completed
    return list(driver.get_log("browser"))


def loaded_images(driver: Any, selector: str) -> list[dict[str, Any]]:
    """Every matching <img> with its decoded size: 0 x 0 when it did not render."""
    return list(
        driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0])).map(img => ({"
            "alt: img.alt, complete: img.complete, width: img.naturalWidth,"
            "height: img.naturalHeight}))",
            selector,
        )
    )


def full_screenshot(driver: Any) -> bytes:
    """The whole page as PNG: the window grown to the document's height first."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(WIDTH, height)
    return bytes(driver.get_screenshot_as_png())


def colours(png: bytes) -> dict[tuple[int, int, int], int]:
    """Pixel counts per RGB colour of a PNG (matplotlib reads it)."""
    import matplotlib.image as mpimg
    import numpy as np

    pixels = (mpimg.imread(io.BytesIO(png), format="png")[:, :, :3] * 255).round().astype(int)
    values, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
    return {
        (int(value[0]), int(value[1]), int(value[2])): int(n)
        for value, n in zip(values, counts, strict=True)
    }
