"""`kedai-till` as a user runs it: real processes, real files."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

TILL = [sys.executable, "-m", "terminal"]


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TILL, *args], capture_output=True, text=True, check=check, timeout=120)


def query(db: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(db)) as c:
        return c.execute(sql).fetchall()


def test_simulate_then_status_reports_every_sale_pending(tmp_path):
    db = tmp_path / "t.db"
    out = run("simulate", "--db", str(db), "--sales", "300", "--customers", "--seed", "7")
    assert "300 sales" in out.stdout
    status = json.loads(run("status", "--db", str(db), "--json").stdout)
    assert status["sales_count"] == 300
    assert status["outbox_pending"] == 300
    assert status["outbox_rejected"] == 0
    assert status["last_push_ok_at"] is None and status["hq_url"] is None
    total = query(db, "SELECT sum(total_cents) FROM sales")[0][0]
    assert status["sales_total_cents"] == total > 0
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "PRAGMA journal_mode") == [("wal",)]
    assert_whole_and_gapless(db)


def test_db_path_comes_from_the_environment(tmp_path):
    db = tmp_path / "env.db"
    env = {**os.environ, "KEDAI_TILL_DB": str(db)}
    subprocess.run([*TILL, "simulate", "--sales", "3"], env=env, check=True, capture_output=True)
    out = subprocess.run([*TILL, "status", "--json"], env=env, check=True, capture_output=True)
    assert json.loads(out.stdout)["sales_count"] == 3
    assert db.exists()


def test_status_without_a_database_says_what_to_do(tmp_path):
    out = run("status", "--db", str(tmp_path / "missing.db"), "--json", check=False)
    assert out.returncode != 0
    assert "kedai-till init" in out.stderr
    assert "Traceback" not in out.stderr


def assert_whole_and_gapless(db: Path) -> int:
    """Every sale is complete and consistent; receipt and event numbers have no gaps."""
    n = query(db, "SELECT count(*) FROM sales")[0][0]
    assert [r[0] for r in query(db, "SELECT receipt_seq FROM sales ORDER BY 1")] == list(
        range(1, n + 1)
    )
    seqs = [r[0] for r in query(db, "SELECT seq FROM outbox ORDER BY 1")]
    assert seqs == list(range(1, len(seqs) + 1))
    assert dict(query(db, "SELECT name, value FROM counters")) == {"receipt": n, "event": len(seqs)}
    # each sale's lines and payments add up; no orphan lines, payments or events
    broken = query(
        db,
        """
        SELECT s.receipt_no FROM sales s
        WHERE s.total_cents != (SELECT coalesce(sum(total_cents), -1) FROM sale_lines
                                WHERE sale_id = s.id)
           OR s.total_cents + s.rounding_cents != (SELECT coalesce(sum(amount_cents), -1)
                                                   FROM payments WHERE sale_id = s.id)
           OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.seq = s.event_seq)
        """,
    )
    assert broken == []
    assert query(
        db, "SELECT count(*) FROM sale_lines WHERE sale_id NOT IN (SELECT id FROM sales)"
    ) == [(0,)]
    assert query(
        db, "SELECT count(*) FROM payments WHERE sale_id NOT IN (SELECT id FROM sales)"
    ) == [(0,)]
    assert query(
        db,
        "SELECT count(*) FROM outbox WHERE type = 'sale.completed'"
        " AND seq NOT IN (SELECT event_seq FROM sales)",
    ) == [(0,)]
    sold = dict(query(db, "SELECT product_id, sum(qty) FROM sale_lines GROUP BY 1"))
    stock = dict(query(db, "SELECT product_id, 1000 - on_hand FROM stock"))
    assert {k: v for k, v in stock.items() if v} == sold
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    return n


@pytest.mark.slow
def test_sigkill_mid_checkout_leaves_only_whole_sales(tmp_path):
    """Kill the till hard, repeatedly, while it is selling; the file stays whole."""
    db = tmp_path / "crash.db"
    run("simulate", "--db", str(db), "--sales", "5")  # create + seed before the kills
    seen = 5
    for round_ in range(4):
        proc = subprocess.Popen(
            [*TILL, "simulate", "--db", str(db), "--sales", "100000", "--seed", str(round_)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # let it sell a while (WAL: reading is safe)
                time.sleep(0.2)
                if query(db, "SELECT count(*) FROM sales")[0][0] >= seen + 40:
                    break
            time.sleep(0.05 * round_)  # land the kill at different points of a sale
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        n = assert_whole_and_gapless(db)
        assert n > seen, "the simulator made no sales before the kill"
        seen = n
