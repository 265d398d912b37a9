"""`condvest --help` answers at once: the help, the version and a usage error import none
of the heavy modules (each costs seconds to import); the commands import them themselves.
A fresh interpreter per case, since this test process has imported everything already."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

import pytest

from core.paths import REPO_ROOT

HEAVY = ("dbt", "pandas", "sklearn", "duckdb", "pyarrow", "boto3", "botocore", "numpy")

PROBE = """
import json, sys
from condvest.cli import main
try:
    main(sys.argv[1:], prog_name="condvest")
except SystemExit as exit:
    code = exit.code
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(HEAVY)))
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def start(*args: str) -> tuple[dict, str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.replace("HEAVY", repr(json.dumps(HEAVY))), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    *_, outcome = done.stderr.strip().splitlines()
    return json.loads(outcome), done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("--version",),
        ("daily", "--help"),
        ("ingest", "--help"),
        ("train", "--help"),
        ("vacuum", "--help"),
        ("track-record", "--help"),
        ("ingest", "--no-such-option"),
    ],
    ids=" ".join,
)
def test_the_cli_starts_without_the_heavy_modules(args):
    outcome, stdout = start(*args)
    assert outcome["heavy"] == []
    assert outcome["code"] in (0, 2)  # 2: click's usage error
    if args == ("--help",):
        assert "daily" in stdout and "ingest" in stdout


def test_track_record_offers_the_periods_it_trains_by():
    """--every's choices are orchestration.periods', which the ML steps train by."""
    from orchestration.periods import DEFAULT_PERIOD, PERIODS

    _, stdout = start("track-record", "--help")
    assert f"[{'|'.join(PERIODS)}]" in stdout
    assert f"[default: {DEFAULT_PERIOD}]" in stdout


def test_version_is_the_packages():
    _, stdout = start("--version")
    assert stdout.strip() == f"condvest, version {version('condvest-lakehouse')}"


def test_a_command_still_imports_what_it_needs():
    """The probe itself can see a heavy import: a command that runs shows it."""
    outcome, stdout = start("landing-ddl", "--lake-root", "s3://bucket/lake")
    assert outcome["code"] in (0, None)
    assert "CREATE EXTERNAL TABLE" in stdout
    assert outcome["heavy"]  # the DDL module reads the lake's schemas from pyarrow
