"""Retake the README's screenshots of a daily report (docs/report-*.png) in the same
headless chromium the browser tests use:

    .venv/bin/python scripts/report_screenshots.py data/lake/reports/daily/2025-12-31.html
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg
import matplotlib.pyplot as plt

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.python import browser  # noqa: E402 - the repository root is on the path now

DOCS = REPO_ROOT / "docs"


def main(page: Path) -> None:
    DOCS.mkdir(exist_ok=True)
    with browser.chromium(height=1250) as driver:
        if browser.open_page(driver, page):
            raise SystemExit(f"{page}: the browser console reported errors")
        (DOCS / "report-overview.png").write_bytes(driver.get_screenshot_as_png())
        full = browser.full_screenshot(driver)
        figure = driver.find_element("css selector", "figure.chart")
        (DOCS / "report-chart.png").write_bytes(figure.screenshot_as_png)
        top, bottom = driver.execute_script(
            "const h = Array.from(document.querySelectorAll('h2'))"
            ".find(e => e.textContent.startsWith('The model'));"
            "const v = document.getElementById('model-verdict');"
            "return [h.getBoundingClientRect().top + window.scrollY,"
            " v.getBoundingClientRect().bottom + window.scrollY];"
        )
    pixels = mpimg.imread(io.BytesIO(full))
    plt.imsave(DOCS / "report-model.png", pixels[int(top) - 10 : int(bottom) + 20])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
