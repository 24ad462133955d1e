"""The ingest checks read what HQ holds for a whole batch in one lookup (and the GST
rates with the terminal's lock); with the lookup cut into many small statements (tiny
chunk limits) every answer stays the same."""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hq import checks, manage
from hq.db import Database, open_database
from hq.ingest import ingest_batch
from hq.wire import read_push
from tests.events import envelope, push_body, sale
from tests.hq.conftest import Hq


async def _push(
    hq: Hq | str, terminal_id: str, events: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    db = open_database(hq if isinstance(hq, str) else hq.database_url)
    try:
        batch = read_push(json.dumps(push_body(terminal_id, events)).encode())
        async with db.sessions() as session, session.begin():
            answer = await ingest_batch(
                session=session, terminal_id=terminal_id, events=batch.events
            )
    finally:
        await db.dispose()
    return [(r.status, r.reason or "") for r in answer.results]


@pytest.mark.parametrize("chunks", ["one statement", "many statements"])
def test_collisions_duplicates_and_balances_whatever_the_statements(
    hq: Hq, chunks: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if chunks == "many statements":  # 2 ids per probe, 3 per statement: customers lead some
        monkeypatch.setattr(checks, "_CHUNK", 2)
        monkeypatch.setattr(checks, "_PARAMS", 3)
    terminal_id, _ = hq.enroll()
    member = uuid.uuid4()
    first = [sale(terminal_id, seq, customer_id=member, points=5) for seq in (1, 2, 3)]
    assert asyncio.run(_push(hq, terminal_id, first)) == [("accepted", "")] * 3

    reused_sale = sale(terminal_id, 4)
    reused_sale["payload"]["sale_id"] = first[0]["payload"]["sale_id"]
    twice = sale(terminal_id, 5)
    twice_again = sale(terminal_id, 6)
    twice_again["payload"]["payments"] = copy.deepcopy(twice["payload"]["payments"])
    fine = [sale(terminal_id, seq, customer_id=member, points=7) for seq in (7, 8, 9)]
    beyond = envelope(
        terminal_id,
        10,
        "loyalty.adjusted",
        {
            "delta": {
                "entry_id": str(uuid.uuid4()),
                "customer_id": str(member),
                "points": checks.MAX_LOYALTY_BALANCE,  # on top of the 36 held: too many
                "reason": "adjust",
            }
        },
    )
    answers = asyncio.run(
        _push(hq, terminal_id, [first[1], reused_sale, twice, twice_again, *fine, beyond])
    )
    assert answers[0] == ("duplicate", "")
    assert answers[1][0] == "rejected" and "already held by another sales record" in answers[1][1]
    assert answers[2] == ("accepted", "")
    assert answers[3][0] == "rejected" and "made twice in this batch" in answers[3][1]
    assert answers[4:7] == [("accepted", "")] * 3
    assert answers[7][0] == "rejected" and "beyond +/-" in answers[7][1]
    key = member.hex if hq.backend == "sqlite" else member
    balance = "SELECT loyalty_balance FROM customers WHERE customer_id = :c"
    assert hq.scalar(balance, c=key) == 3 * 5 + 3 * 7
    assert hq.scalar("SELECT placeholder FROM customers WHERE customer_id = :c", c=key)


def test_the_gst_rates_read_with_the_terminal_lock_are_checked(tmp_path: Path) -> None:
    """A store of its own (the rates are store-wide): a sale whose GST adds up at a rate
    not in force is refused; the same sale at the rate in force is accepted."""
    from sqlalchemy import create_engine, text

    from hq import manage

    url = f"sqlite:///{tmp_path / 'hq.db'}"
    manage.run(url, manage.do_migrate)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO settings (id, store_name, address, gst_reg_no, gst_rates, "
                "loyalty_cents_per_point_earned, loyalty_point_value_cents, change_seq) "
                "VALUES (1, 'Kedai', '', 'M9', :rates, 100, 1, 1)"
            ),
            {"rates": json.dumps([{"effective_from": "2024-01-01", "rate_bp": 900}])},
        )
    engine.dispose()
    terminal_id = manage.enroll_terminal_sync(url, outlet="GST", terminal="T1").terminal_id
    off_rate, in_force = sale(terminal_id, 1), sale(terminal_id, 2)
    total = off_rate["payload"]["total_cents"]
    off_rate["payload"].update(gst_rate_bp=1000, tax_cents=checks.inclusive_tax(total, 1000))
    answers = asyncio.run(_push(url, terminal_id, [off_rate, in_force]))
    assert answers[0][0] == "rejected" and "not the rate in force ([900])" in answers[0][1]
    assert answers[1] == ("accepted", "")


@pytest.mark.postgres
def test_the_lookup_reads_each_id_by_its_key_after_the_tables_grew(own_postgres_url: str) -> None:
    """A backlog drain grows the fact tables faster than autovacuum analyses them. The
    lookup, run many times on one connection while ``payments`` was small and analysed
    (where PostgreSQL would settle on one cached plan for it), still reads ``payments``
    through its key once it holds 20,000 rows more, never by a scan of the whole table."""
    url = own_postgres_url
    terminal_id = manage.enroll_terminal_sync(url, outlet="TST", terminal="T01").terminal_id
    scans = text(
        "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'payments'"
    )

    async def push(session: AsyncSession, first_seq: int) -> list[str]:
        """Twenty sales: more ids than PostgreSQL's guess for an array it cannot see, so
        that a plan made for no ids in particular looks the cheaper one to keep."""
        sales = [sale(terminal_id, seq) for seq in range(first_seq, first_seq + 20)]
        batch = read_push(json.dumps(push_body(terminal_id, sales)).encode())
        answer = await ingest_batch(session=session, terminal_id=terminal_id, events=batch.events)
        return [r.status for r in answer.results]

    async def add_payments(db: Database, n: int, *, analyse: bool) -> None:
        async with db.engine.connect() as other:
            other = await other.execution_options(isolation_level="AUTOCOMMIT")
            await other.execute(
                text(
                    "INSERT INTO payments (payment_id, sale_id, tender, amount_cents, "
                    "tendered_cents) SELECT gen_random_uuid(), gen_random_uuid(), 'cash', 100, "
                    "100 FROM generate_series(1, :n)"
                ),
                {"n": n},
            )
            if analyse:
                await other.execute(text("VACUUM ANALYZE payments"))

    async def run() -> tuple[Any, ...]:
        db = open_database(url)
        try:
            await add_payments(db, 100, analyse=True)
            async with db.engine.connect() as conn:
                session = AsyncSession(bind=conn)
                for batch_no in range(8):  # more than the five runs after which a plan is kept
                    async with conn.begin():
                        assert await push(session, 1 + 20 * batch_no) == ["accepted"] * 20
                await add_payments(db, 20_000, analyse=False)
                async with conn.begin():  # counted within one transaction: none flushed
                    before = (await conn.execute(scans)).one()
                    assert await push(session, 161) == ["accepted"] * 20
                    after = (await conn.execute(scans)).one()
                    return after[0] - before[0], after[1] - before[1]
        finally:
            await db.dispose()

    seq_scans, index_scans = asyncio.run(run())
    assert seq_scans == 0, "the lookup scanned the whole payments table"
    assert index_scans >= 1
