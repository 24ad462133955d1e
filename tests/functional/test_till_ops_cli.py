"""`kedai-till simulate` with till operations, `report x|z` and `print-test`, as run by a user."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

TILL = [sys.executable, "-m", "terminal"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TILL, *args], capture_output=True, text=True, timeout=300, env=env, check=False
    )


def test_a_simulated_day_with_shifts_reports_its_z(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    done = run(
        "simulate", "--db", db, "--sales", "60", "--customers", "--seed", "4",
        "--refund-rate", "0.2", "--redeem-rate", "0.3", "--new-customer-rate", "0.1",
        "--cancel-rate", "0.1", "--shifts", "2",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2 shifts closed" in done.stdout and "refunds" in done.stdout
    with closing(sqlite3.connect(db)) as c:
        types = dict(c.execute("SELECT type, count(*) FROM outbox GROUP BY type").fetchall())
        [last_shift] = c.execute(
            "SELECT id FROM shifts ORDER BY closed_at DESC, rowid DESC LIMIT 1"
        ).fetchone()
    assert types["shift.z_report"] == types["shift.closed"] == 2
    assert types["sale.refunded"] > 0 and types["sale.cancelled"] > 0
    assert types["customer.created"] > 0

    z = run("report", "z", "--db", db, "--json")
    assert z.returncode == 0, z.stderr
    report = json.loads(z.stdout)
    assert report["kind"] == "z" and report["shift_id"].replace("-", "") == last_shift
    assert report["variance_cents"] == report["counted_cash_cents"] - report["expected_cash_cents"]
    text = run("report", "z", "--db", db, "--shift", report["shift_id"])
    assert "Z REPORT" in text.stdout and "Expected cash" in text.stdout
    x = run("report", "x", "--db", db)
    assert x.returncode == 1 and "No shift is open" in x.stderr


def test_print_test_goes_to_the_configured_printer(tmp_path: Path) -> None:
    roll = tmp_path / "roll.txt"
    env = {
        **os.environ,
        "KEDAI_TILL_PRINTER_KIND": "file",
        "KEDAI_TILL_PRINTER_ADDRESS": str(roll),
        "KEDAI_TILL_RECEIPT_WIDTH": "32",
    }
    done = run("print-test", "--kick", env=env)
    assert done.returncode == 0, done.stderr
    slip = roll.read_text()
    assert "KEDAI PRINTER TEST" in slip and "[drawer opened]" in slip
    assert "01234567890123456789012345678901" in slip
    none = run("print-test", env={**os.environ, "KEDAI_TILL_PRINTER_KIND": "none"})
    assert none.returncode == 1 and "no printer is set up" in none.stderr
