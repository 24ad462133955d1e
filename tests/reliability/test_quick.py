"""The quick chaos run, as CI runs it: ``python -m tests.reliability --quick --json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


def test_quick_chaos_run_loses_nothing_and_never_5xx() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tests.reliability", "--quick", "--json", "--seed", "20261130"],
        capture_output=True,
        text=True,
        timeout=1200,
        env=os.environ,
        check=False,
    )
    assert out.stdout.strip(), out.stderr[-3000:]
    figures = json.loads(out.stdout)
    assert figures["problems"] == []
    assert figures["lost"] == 0
    assert figures["duplicated"] == 0
    assert figures["balance_mismatches"] == 0
    assert figures["http_5xx"] == 0
    assert figures["quarantined_unexpected"] == 0
    assert figures["quarantined_expected"] > 0
    assert figures["faults_injected"] >= 50
    assert figures["sales_committed"] == figures["sales_at_hq"] > 0
    assert figures["till_kills"] > 0 and figures["hq_kills"] > 0
    assert out.returncode == 0, figures
