"""`make run` as a new user runs it, on a fresh data directory: a quiet run that fits on a
screen (a line per state, dbt's summary, the report), with dbt's full log in a file."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from core.paths import REPO_ROOT
from orchestration import asl

MAX_LINES = 40
# condvest.cli_text.state_line: "  <State>  <seconds> s  <what it did>"
STATE_LINE = re.compile(r"^  (\w+) +\d+\.\d s(?:  |$)")


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a first run: landing, dbt build from empty, training
@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_on_a_fresh_data_dir_prints_under_40_lines(tmp_path):
    env = {
        name: value
        for name, value in os.environ.items()
        # the user's own choices would send the run elsewhere
        if name not in {"MARKET_SOURCE", "DBT_TARGET", "RDS_SECRET_ARN", "SNS_TOPIC_ARN"}
        and not name.startswith(("NOTIFY_", "MAKE", "MFLAGS"))
    }
    env |= {
        "LAKE_ROOT": str(tmp_path / "lake"),
        "WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
        "WATERMARK_DSN": f"sqlite:///{tmp_path / 'watermarks.sqlite'}",
    }
    # The install is up to date first (a no-op once done): the limit is the run's output.
    install = _make(".venv/.installed-run", env, timeout=900)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    done = _make("run", env, timeout=1700)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    lines = output.splitlines()
    assert len(lines) < MAX_LINES, output

    # a line per Task state the run went through, each with its seconds
    tasks = asl.task_states()
    state_lines = {
        match[1]: line for line in lines if (match := STATE_LINE.match(line)) is not None
    }
    ran = [name for name in tasks if name in state_lines]
    assert {"ResolveRunDate", "FetchOhlcv", "DbtBuild", "Predict", "NotifySuccess"} <= set(ran)
    # dbt's summary line, and where its full log went
    dbt_log = tmp_path / "logs" / "dbt.log"
    assert "Done. PASS=" in state_lines["DbtBuild"] and "ERROR=0" in state_lines["DbtBuild"]
    assert f"(log: {dbt_log})" in state_lines["DbtBuild"]
    log_lines = dbt_log.read_text().splitlines()
    assert len(log_lines) > 100 and any("OK created sql incremental model" in x for x in log_lines)
    assert not any("START sql" in line for line in lines)  # dbt's node lines stay in the file
    assert "condvest daily 2025-12-31: SUCCEEDED" in output


def _make(target: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", target],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
