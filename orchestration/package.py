"""Build the deployable artifacts: `python -m orchestration.package [--out build]`.

Into the output directory (default `build/`):

- `lambda.zip`: the code of the seven Lambda functions (every handler lives in `ingestion`,
  `orchestration` or `ml`) with the trading calendar they read, and the third-party
  packages they import, pinned by uv.lock and installed as manylinux wheels for the Lambda
  runtime (`LAMBDA_PYTHON`, x86_64). orchestration/template.yaml points CodeUri at it.
- `ml-source.tar.gz`: the SageMaker jobs' source,
  `orchestration.sagemaker_launcher.build_source_dir` at the archive root (train_entry.py,
  predict_entry.py, ml/..., core/...); the deploy uploads it to the template's MlSourceUri.
- `lambda-requirements.txt` and `dbt-requirements.txt`: the pins installed in lambda.zip,
  and those the dbt image installs (orchestration/docker/Dockerfile: dbt, and the Report
  state's reader of the Iceberg tables).

Both archives are reproducible: entries sorted, fixed timestamps, owners and permissions,
so the same sources and lock give the same bytes (and the same sha256). The installed
wheels are cached under `<out>/.cache/`, keyed by the requirements, the target runtime and
the pip options, so a rebuild after a code change does not download anything.

Prints a JSON summary (paths, sizes, sha256) on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.markers import Marker

REPO_ROOT = Path(__file__).resolve().parents[1]

# The Lambda runtime, and the template's Runtime (a test keeps them equal). Not 3.11: the
# locked pyarrow and numpy publish manylinux_2_28 wheels only, and the python3.11 runtime
# is Amazon Linux 2 (glibc 2.26); python3.12 is Amazon Linux 2023 (glibc 2.34).
LAMBDA_PYTHON = "3.12"
LAMBDA_GLIBC_MINOR = 34
# pip matches --platform tags exactly (it only expands manylinux2014 to the older
# aliases), so name every manylinux tag the runtime's glibc can load.
LAMBDA_PLATFORMS = (
    "manylinux2014_x86_64",
    *(f"manylinux_2_{minor}_x86_64" for minor in range(17, LAMBDA_GLIBC_MINOR + 1)),
)
# Code and data the handlers need, as paths in the zip (= under /var/task).
LAMBDA_PACKAGES = ("core", "ingestion", "orchestration", "ml")
LAMBDA_DATA_FILES = ("seeds/trading_calendar.csv",)
# Build tooling, not handler code.
LAMBDA_EXCLUDED_FILES = ("orchestration/package.py",)
# What the handlers import, with their dependencies taken from the lock. Not dbt, duckdb,
# pandas, scikit-learn, ta-lib or sagemaker. Nor boto3: the runtime has it, and pinning it
# (boto3, botocore, s3transfer, jmespath: 33 MB) took the zip past Lambda's 250 MB limit
# (266 MB unzipped with it).
LAMBDA_ROOTS = ("numpy", "psycopg", "psycopg-binary", "pyarrow", "requests")
# Files of the installed wheels that nothing imports at run time: test suites, C/C++
# headers and Cython sources (those compiled into the extension modules), console scripts
# (their shebang is the build interpreter). Matched against the path in the zip.
LAMBDA_PRUNED = re.compile(
    r"^(bin/.*"
    r"|(numpy|pyarrow|certifi)/(.+/)?tests/.*"
    r"|pyarrow/(include|src)/.*"
    r"|numpy/_core/include/.*"
    r"|.*\.(pyx|pxd|pxi|h|hpp|cc|cpp))$"
)
# What the dbt image needs to run `dbt build --target athena`, and the Report state in the
# same image (`python -m reports.aws_report`: DuckDB and its extensions from PyPI, never
# downloaded at run time, matplotlib for the charts, pyarrow for the lake).
DBT_ROOTS = (
    "dbt-athena-community",
    "dbt-core",
    "duckdb",
    "duckdb-extension-avro",
    "duckdb-extension-aws",
    "duckdb-extension-httpfs",
    "duckdb-extension-iceberg",
    "matplotlib",
    "pyarrow",
)
# Lambda's limit on a function's unzipped code (layers included): 250 MB.
LAMBDA_UNZIPPED_LIMIT = 262_144_000

# 1980-01-01, the earliest time a zip entry can carry: every entry gets it.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FIXED_EPOCH = 315_532_800


def _environment(python: str, machine: str = "x86_64") -> dict[str, str]:
    """PEP 508 marker variables of a CPython `python` (major.minor) on Linux."""
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "os_name": "posix",
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{python}.0",
        "python_version": python,
        "sys_platform": "linux",
        "extra": "",
    }


LAMBDA_ENVIRONMENT = _environment(LAMBDA_PYTHON)
# python:3.11-slim, the dbt image's base (the project's own Python).
DBT_ENVIRONMENT = _environment("3.11")


def normalize(name: str) -> str:
    """PEP 503 name: what pip and uv compare."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: str | None
    # The packages that require this one, as `uv export` annotates it ("# via ...").
    required_by: tuple[str, ...]

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>.+?))?\s*\\?$"
)


def parse_export(text: str) -> dict[str, Pin]:
    """The pins of a `uv export --no-hashes` requirements file, with their "via" parents.

    uv writes `# via parent` on one line or `# via` followed by one `#   parent` per line.
    """
    pins: dict[str, Pin] = {}
    current: dict[str, Any] | None = None

    def close() -> None:
        if current is not None:
            pins[current["name"]] = Pin(
                current["name"], current["version"], current["marker"], tuple(current["via"])
            )

    in_via = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not raw[0].isspace() and not line.startswith("#"):
            match = _PIN.match(line)
            if not match:
                raise ValueError(f"unexpected requirement line (hashes or a URL?): {raw!r}")
            close()
            current = {
                "name": normalize(match["name"]),
                "version": match["version"],
                "marker": match["marker"],
                "via": [],
            }
            in_via = False
            continue
        if current is None or not line.startswith("#"):
            continue
        comment = line.lstrip("#").strip()
        if comment.startswith("via"):
            parent = comment.removeprefix("via").strip()
            in_via = not parent
            if parent:
                current["via"].append(normalize(parent))
        elif in_via and comment:
            current["via"].append(normalize(comment))
    close()
    return pins


def select_requirements(
    export_text: str, roots: Iterable[str], environment: Mapping[str, str]
) -> list[str]:
    """`name==version` of `roots` and everything they need, from a uv export, for
    `environment` (PEP 508 marker variables), sorted.

    A package is needed when a needed package requires it ("via"); pins whose marker is
    false for `environment` are left out, and so is what only they required.
    """
    pins = parse_export(export_text)
    wanted = {normalize(root) for root in roots}
    missing = sorted(wanted - pins.keys())
    if missing:
        raise ValueError(f"not in the lock export: {', '.join(missing)}")
    applicable = {
        name: pin
        for name, pin in pins.items()
        if pin.marker is None or Marker(pin.marker).evaluate(dict(environment))
    }
    kept = wanted & applicable.keys()
    changed = True
    while changed:
        changed = False
        for name, pin in applicable.items():
            if name not in kept and kept.intersection(pin.required_by):
                kept.add(name)
                changed = True
    return [applicable[name].requirement for name in sorted(kept)]


def lock_export(repo: Path = REPO_ROOT, extras: Iterable[str] = ()) -> str:
    """`uv export` of uv.lock: the project's runtime dependencies (and `extras`), pinned."""
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not uv:
        raise RuntimeError("uv is not installed (it is in the project's .venv: make install)")
    command = [uv, "export", "--frozen", "--no-hashes", "--no-dev", "--no-emit-project"]
    for extra in extras:
        command += ["--extra", extra]
    # The command is made of constants and the caller's extras: no shell, no user input.
    return subprocess.run(  # noqa: S603
        command, cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pip_command(target: Path, requirements: Path) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        # The requirements are the whole closure: pip must not resolve anything else.
        "--no-deps",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        LAMBDA_PYTHON,
        # Bytecode would be the build interpreter's, not the runtime's.
        "--no-compile",
        "--target",
        str(target),
        "--requirement",
        str(requirements),
    ]
    for platform in LAMBDA_PLATFORMS:
        command += ["--platform", platform]
    return command


def install_dependencies(requirements: list[str], cache: Path) -> Path:
    """The Lambda's third-party packages installed in a directory, reused while the
    requirements, the runtime and the pip options stay the same."""
    text = "".join(f"{line}\n" for line in requirements)
    key_source = json.dumps(
        {
            "requirements": text,
            "command": _pip_command(Path("T"), Path("R"))[3:],
            "pruned": LAMBDA_PRUNED.pattern,
        },
        sort_keys=True,
    )
    key = hashlib.sha256(key_source.encode()).hexdigest()[:16]
    target = cache / f"lambda-deps-{key}"
    if (target / ".complete").exists():
        _log(f"lambda dependencies: cached in {target}")
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="tmp-", dir=cache))
    try:
        requirements_file = staging / "requirements.txt"
        requirements_file.write_text(text)
        site = staging / "site"
        _log(f"lambda dependencies: pip install {len(requirements)} pinned wheels")
        # pip of this interpreter on pins from the lock; no shell.
        subprocess.run(_pip_command(site, requirements_file), check=True)  # noqa: S603
        for path in list(_files_under(site)):
            if LAMBDA_PRUNED.match(path.relative_to(site).as_posix()):
                path.unlink()
        (site / ".complete").write_text(text)
        shutil.rmtree(target, ignore_errors=True)
        site.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # One cached set is enough: older ones only take space.
    for stale in cache.glob("lambda-deps-*"):
        if stale != target and (stale / ".complete").exists():
            shutil.rmtree(stale, ignore_errors=True)
    return target


def _files_under(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path


def lambda_sources(repo: Path = REPO_ROOT) -> dict[str, Path]:
    """Zip path -> file of the project's own part of lambda.zip."""
    files: dict[str, Path] = {}
    for package in LAMBDA_PACKAGES:
        for path in (repo / package).rglob("*.py"):
            arcname = path.relative_to(repo).as_posix()
            if "__pycache__" not in path.parts and arcname not in LAMBDA_EXCLUDED_FILES:
                files[arcname] = path
    for name in LAMBDA_DATA_FILES:
        files[name] = repo / name
    return files


def write_zip(destination: Path, files: Mapping[str, Path]) -> int:
    """A reproducible zip of `files` (zip path -> file); returns the unzipped size."""
    unzipped = 0
    temporary = destination.with_suffix(".zip.tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for arcname in sorted(files):
            info = zipfile.ZipInfo(arcname, date_time=FIXED_TIME)
            # Lambda only needs files world-readable (it runs as another user).
            info.external_attr = (0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = files[arcname].read_bytes()
            unzipped += len(data)
            archive.writestr(info, data)
    temporary.replace(destination)
    return unzipped


def build_lambda_zip(out: Path, requirements: list[str], repo: Path = REPO_ROOT) -> dict[str, Any]:
    dependencies = install_dependencies(requirements, out / ".cache")
    files = {
        path.relative_to(dependencies).as_posix(): path
        for path in _files_under(dependencies)
        if path.name != ".complete"
    }
    own = lambda_sources(repo)
    clash = sorted(set(files) & set(own))
    if clash:
        raise RuntimeError(f"project files shadow dependency files: {clash[:5]}")
    files.update(own)
    destination = out / "lambda.zip"
    _log(f"lambda.zip: {len(files)} files")
    unzipped = write_zip(destination, files)
    summary: dict[str, Any] = {
        "path": str(destination),
        "bytes": destination.stat().st_size,
        "unzipped_bytes": unzipped,
        "unzipped_limit_bytes": LAMBDA_UNZIPPED_LIMIT,
        "within_limit": unzipped <= LAMBDA_UNZIPPED_LIMIT,
        "files": len(files),
        "sha256": _sha256(destination),
        "runtime": f"python{LAMBDA_PYTHON}",
    }
    if not summary["within_limit"]:
        summary["fix"] = (
            "over Lambda's 250 MB unzipped limit, which layers count towards too: deploy the "
            "functions as a container image (10 GB) from the same requirements, or prune "
            "more of pyarrow (libarrow_flight, 31 MB, is never imported)"
        )
    return summary


def _tar_info(name: str, *, directory: bool = False, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = FIXED_EPOCH
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if directory:
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    else:
        info.mode = 0o644
        info.size = size
    return info


def write_tar_gz(destination: Path, root: Path) -> list[str]:
    """A reproducible tar.gz of the content of `root` (at the archive root); returns the
    member names."""
    members: list[str] = []
    paths = sorted(root.rglob("*"), key=lambda path: path.relative_to(root).as_posix())
    raw = io.BytesIO()
    # mtime=0 and no file name keep the gzip header constant too.
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for path in paths:
            if "__pycache__" in path.parts:
                continue
            name = path.relative_to(root).as_posix()
            if path.is_dir():
                archive.addfile(_tar_info(name, directory=True))
            else:
                data = path.read_bytes()
                archive.addfile(_tar_info(name, size=len(data)), io.BytesIO(data))
            members.append(name)
    destination.write_bytes(raw.getvalue())
    return members


def build_ml_source(out: Path) -> dict[str, Any]:
    """ml-source.tar.gz: what the SageMaker jobs run, laid out by the launcher itself."""
    from orchestration.sagemaker_launcher import build_source_dir

    destination = out / "ml-source.tar.gz"
    with tempfile.TemporaryDirectory(prefix="ml-source-") as directory:
        members = write_tar_gz(destination, build_source_dir(Path(directory)))
    return {
        "path": str(destination),
        "bytes": destination.stat().st_size,
        "members": len(members),
        "sha256": _sha256(destination),
    }


def write_requirements(destination: Path, requirements: list[str], header: str) -> None:
    destination.write_text(f"# {header}\n" + "".join(f"{line}\n" for line in requirements))


ARTIFACTS = ("lambda", "ml-source", "dbt-requirements")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.package", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build", help="default: build/")
    parser.add_argument(
        "--only",
        action="append",
        choices=ARTIFACTS,
        help="build only this artifact (repeatable); default: all",
    )
    args = parser.parse_args(argv)
    wanted = set(args.only or ARTIFACTS)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"out": str(out)}

    # The athena extra: the dbt image's adapter (the Lambda closure does not reach it).
    export = lock_export(extras=["athena"]) if wanted & {"lambda", "dbt-requirements"} else ""
    if "dbt-requirements" in wanted:
        dbt = select_requirements(export, DBT_ROOTS, DBT_ENVIRONMENT)
        path = out / "dbt-requirements.txt"
        write_requirements(path, dbt, "dbt image (orchestration/docker/Dockerfile), from uv.lock")
        summary["dbt_requirements"] = {"path": str(path), "count": len(dbt)}
    if "lambda" in wanted:
        lambda_requirements = select_requirements(export, LAMBDA_ROOTS, LAMBDA_ENVIRONMENT)
        path = out / "lambda-requirements.txt"
        write_requirements(
            path, lambda_requirements, f"lambda.zip (python{LAMBDA_PYTHON}), from uv.lock"
        )
        summary["lambda_requirements"] = lambda_requirements
        summary["lambda_zip"] = build_lambda_zip(out, lambda_requirements)
    if "ml-source" in wanted:
        summary["ml_source"] = build_ml_source(out)

    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    result = main()
    # A zip Lambda would refuse is a failed build.
    if not result.get("lambda_zip", {}).get("within_limit", True):
        _log(f"ERROR: {result['lambda_zip']['fix']}")
        sys.exit(1)
