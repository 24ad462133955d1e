"""Till crash: a till selling through its own services, SIGKILLed at random moments.

After every kill the till's file must be whole: ``PRAGMA integrity_check`` ok, every sale
complete (its lines and payments add up, its event is in the outbox), receipt numbers
and event seqs gapless, and every sale that was visible (committed: its receipt could
have been printed) before the kill still there.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

TILL = [sys.executable, "-m", "terminal"]


@dataclass
class CrashFigures:
    kills: int = 0
    sales_committed: int = 0
    problems: list[str] = field(default_factory=list)


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db, timeout=30)) as c:
        return c.execute(sql).fetchall()


def _count(db: Path) -> int:
    try:
        (n,) = _query(db, "SELECT count(*) FROM sales")[0]
        return int(str(n))
    except sqlite3.Error:
        return 0


def whole_and_gapless(db: Path) -> list[str]:
    """What is wrong with the till file (empty when nothing is)."""
    problems = []
    if _query(db, "PRAGMA integrity_check") != [("ok",)]:
        problems.append("integrity_check failed")
    n = _count(db)
    receipts = [r[0] for r in _query(db, "SELECT receipt_seq FROM sales ORDER BY 1")]
    if receipts != list(range(1, n + 1)):
        problems.append("receipt numbers have a gap")
    seqs = [r[0] for r in _query(db, "SELECT seq FROM outbox ORDER BY 1")]
    if seqs != list(range(1, len(seqs) + 1)):
        problems.append("event seqs have a gap")
    broken = _query(
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
    if broken:
        problems.append(f"{len(broken)} partial sale(s), e.g. {broken[0][0]}")
    orphans = _query(
        db,
        "SELECT count(*) FROM outbox WHERE type = 'sale.completed'"
        " AND seq NOT IN (SELECT event_seq FROM sales)",
    )
    if orphans != [(0,)]:
        problems.append("a sale event without its sale")
    return problems


def run_till_crashes(
    tmp: Path, *, kills: int, seed: int, deadline: float, tills: int = 2
) -> CrashFigures:
    """``kills`` SIGKILLs spread over ``tills`` till files killed side by side."""
    rng = random.Random(seed)
    shares = [kills // tills + (1 if i < kills % tills else 0) for i in range(tills)]
    with ThreadPoolExecutor(tills) as pool:
        parts = list(
            pool.map(
                lambda job: _crash_one(tmp / f"crash-till-{job[0]}.db", job[1], job[2], deadline),
                [(i, share, rng.randrange(2**31)) for i, share in enumerate(shares)],
            )
        )
    figures = CrashFigures()
    for part in parts:
        figures.kills += part.kills
        figures.sales_committed += part.sales_committed
        figures.problems += part.problems
    return figures


def _crash_one(db: Path, kills: int, seed: int, deadline: float) -> CrashFigures:
    rng = random.Random(seed)
    subprocess.run(
        [*TILL, "--db", str(db), "simulate", "--sales", "3", "--seed", str(seed)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    figures = CrashFigures()
    seen = _count(db)
    for round_ in range(kills):
        if time.monotonic() > deadline:
            figures.problems.append(f"{db.name}: time ran out after {round_} kills")
            break
        proc = subprocess.Popen(
            [*TILL, "--db", str(db), "simulate", "--sales", "1000000",
             "--seed", str(rng.randrange(2**31))],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_until = time.monotonic() + 120
            while time.monotonic() < wait_until and proc.poll() is None:
                if _count(db) > seen:  # it is selling: now kill it at a random moment
                    break
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.25))
            visible = _count(db)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        figures.kills += 1
        problems = whole_and_gapless(db)
        after = _count(db)
        if after < visible:
            problems.append(f"{visible - after} committed sale(s) lost by the kill")
        figures.problems += [f"{db.name} kill {round_ + 1}: {p}" for p in problems]
        seen = after
        print(f"till crash {db.name}: kill {round_ + 1}/{kills}, {after} sales, "
              f"{len(figures.problems)} problem(s)", file=sys.stderr, flush=True)  # fmt: skip
    figures.sales_committed = seen
    return figures
