"""End to end: a real ``kedai-hq serve`` on loopback, real till files, both CLIs.

Marked slow; the whole module takes ~30-40 s on two cores (each test starts its own HQ
so restores and outages do not leak between tests).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from sync.agent import SyncAgent
from sync.agent.errors import SyncTransportError
from terminal.db.engine import Database, open_database
from terminal.db.models import Customer, LoyaltyEntry, OutboxEvent, Product
from terminal.services.sync_store import TillSyncStore
from terminal.services.uow import reading, writing
from tests.sync.conftest import make_sales, redeem_sale
from tests.sync.faultproxy import FaultProxy
from tests.sync.hq_site import HQ_CLI, TILL, Site, run, till_status, till_sync

pytestmark = pytest.mark.slow


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """HQ on a temporary SQLite file, demo-seeded, torn down after the test."""
    s = Site(tmp_path)
    s.start()
    s.seed_demo()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
async def till(site: Site) -> AsyncIterator[Database]:
    """A till enrolled through both CLIs, with HQ's catalog pulled by `sync --once`."""
    path, _ = site.enroll_till("till")
    assert till_sync(path).returncode == 0
    db = open_database(path)
    try:
        yield db
    finally:
        await db.dispose()


async def sync_in_process(db: Database, **kw: object) -> None:
    agent = SyncAgent(TillSyncStore(db), **kw)  # type: ignore[arg-type]
    try:
        await agent.sync_once()
    finally:
        await agent.aclose()


async def test_sales_made_while_hq_is_down_arrive_once(site: Site, till: Database) -> None:
    site.stop()
    await make_sales(till, 40)
    down = till_sync(till.path)
    assert down.returncode == 75
    assert down.stderr.count("\n") == 1 and "HQ unreachable" in down.stderr

    site.start()
    up = till_sync(till.path)
    assert up.returncode == 0, up.stderr
    assert "pushed 40 events" in up.stdout
    assert site.scalar("SELECT count(*) FROM sales") == 40
    assert site.scalar("SELECT contiguous_seq FROM terminals") == 40
    till_total = till_status(till.path)["sales_total_cents"]
    assert site.scalar("SELECT sum(total_cents) FROM sales") == till_total

    again = till_sync(till.path)
    assert again.returncode == 0 and "pushed 0 events" in again.stdout
    assert site.scalar("SELECT count(*) FROM events") == 40
    status = till_status(till.path)
    assert (status["outbox_pending"], status["outbox_sent"], status["acked_seq"]) == (0, 40, 40)


async def test_two_tills_earning_and_redeeming_add_up_at_hq(site: Site, tmp_path: Path) -> None:
    paths = [site.enroll_till(name)[0] for name in ("a", "b")]
    for p in paths:
        assert till_sync(p).returncode == 0
    dbs = [open_database(p) for p in paths]
    try:
        async with reading(dbs[0]) as s:
            customers = (await s.execute(select(Customer.id).order_by(Customer.id))).scalars().all()
        before = site.scalar("SELECT sum(loyalty_balance) FROM customers")
        for i, db in enumerate(dbs):
            await make_sales(db, 60, seed=i)
            for c in customers[:3]:
                await redeem_sale(db, c, 2)
        deltas = 0
        for db in dbs:
            await sync_in_process(db)
            async with reading(db) as s:
                deltas += (await s.execute(select(func.sum(LoyaltyEntry.points)))).scalar_one()
        assert site.scalar("SELECT sum(loyalty_balance) FROM customers") == before + deltas
        summary = json.loads(
            run(
                [*HQ_CLI, "report", "summary", "--json", "--database-url", site.database_url]
            ).stdout
        )
        assert summary["loyalty_points_outstanding"] == before + deltas
        assert summary["sales_count"] == 2 * (60 + 3)

        for db in dbs:  # each till now pulls the other's effect on the balances
            await sync_in_process(db)
        hq_balances = dict(
            (await _hq_rows(site, "SELECT customer_id, loyalty_balance FROM customers")).items()
        )
        for db in dbs:
            async with reading(db) as s:
                shown = dict((await s.execute(select(Customer.id, Customer.hq_balance))).all())
                uncounted = (
                    await s.execute(
                        select(func.count()).where(LoyaltyEntry.counted_at_hq.is_(False))
                    )
                ).scalar_one()
            assert uncounted == 0
            assert {str(k).replace("-", ""): v for k, v in shown.items()} == hq_balances
    finally:
        for db in dbs:
            await db.dispose()


async def _hq_rows(site: Site, sql: str) -> dict[str, int]:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(site.db_file)) as conn:
        return {str(k).replace("-", ""): v for k, v in conn.execute(sql)}


async def test_price_changed_at_hq_reaches_the_till(
    site: Site, till: Database, tmp_path: Path
) -> None:
    async with reading(till) as s:
        sku, name = (
            await s.execute(select(Product.sku, Product.name).order_by(Product.sku))
        ).first()
    csv = tmp_path / "prices.csv"
    csv.write_text(f"sku,name,price_cents\n{sku},{name},4321\n")
    run([*HQ_CLI, "import-catalog", str(csv), "--database-url", site.database_url])

    assert till_sync(till.path).returncode == 0
    async with reading(till) as s:
        price = (await s.execute(select(Product.price_cents).where(Product.sku == sku))).scalar()
    assert price == 4321


# Over real sockets only what a real socket adds: an answer lost after HQ committed (the
# client's own read timeout) and an answer cut half way. A 500 and a request that never
# reaches HQ are covered in-process (tests/sync/test_push.py), without a server each.
@pytest.mark.parametrize("fault", ["hang_after", "drop"])
async def test_hq_faults_lose_nothing_and_duplicate_nothing(
    site: Site, till: Database, fault: str
) -> None:
    await make_sales(till, 50)
    async with FaultProxy(site.port) as proxy:
        async with writing(till) as s:
            await s.execute(text("UPDATE sync_state SET hq_url = :u"), {"u": proxy.url})
        proxy.faults = [fault, fault]
        timeout = httpx.Timeout(connect=2, read=1.0, write=2, pool=2)
        async with httpx.AsyncClient(timeout=timeout) as client:
            for _ in range(2):
                with pytest.raises(SyncTransportError):
                    await sync_in_process(till, client=client, batch_events=20)
            assert proxy.applied == [fault, fault]
            await sync_in_process(till, client=client, batch_events=20)

    assert site.scalar("SELECT count(*) FROM sales") == 50
    assert site.scalar("SELECT count(DISTINCT event_id) FROM events") == 50
    assert site.scalar("SELECT count(*) FROM events") == 50
    assert site.scalar("SELECT contiguous_seq FROM terminals") == 50
    async with reading(till) as s:
        left = (
            await s.execute(select(func.count()).where(OutboxEvent.status != "sent"))
        ).scalar_one()
    assert left == 0


async def test_poison_event_is_quarantined_and_later_events_arrive(
    site: Site, till: Database
) -> None:
    await make_sales(till, 10)
    async with writing(till) as s:
        await s.execute(
            text(
                "UPDATE outbox SET payload = json_set(payload, '$.total_cents', 'lots') "
                "WHERE seq = 4"
            )
        )
    await make_sales(till, 5, seed=3)

    assert till_sync(till.path).returncode == 0
    assert site.scalar("SELECT count(*) FROM quarantine") == 1
    assert site.scalar("SELECT terminal_seq FROM quarantine") == 4
    assert site.scalar("SELECT count(*) FROM sales") == 14
    assert site.scalar("SELECT contiguous_seq FROM terminals") == 15
    async with reading(till) as s:
        status, reason = (
            await s.execute(
                select(OutboxEvent.status, OutboxEvent.reason).where(OutboxEvent.seq == 4)
            )
        ).one()
    assert status == "rejected" and reason and "total_cents" in reason
    assert till_status(till.path)["outbox_rejected"] == 1


async def test_hq_restored_from_an_older_copy_converges(
    site: Site, till: Database, tmp_path: Path
) -> None:
    await make_sales(till, 30)
    assert till_sync(till.path).returncode == 0
    site.snapshot(tmp_path / "backup.db")
    await make_sales(till, 25, seed=2)
    assert till_sync(till.path).returncode == 0
    assert site.scalar("SELECT count(*) FROM sales") == 55

    site.stop()
    site.restore(tmp_path / "backup.db")
    site.start()
    assert site.scalar("SELECT count(*) FROM sales") == 30  # HQ lost 25 sales

    done = till_sync(till.path)
    assert done.returncode == 0, done.stderr
    assert "pushed 25 events" in done.stdout
    assert site.scalar("SELECT count(*) FROM sales") == 55
    assert site.scalar("SELECT count(*) FROM events") == 55
    assert site.scalar("SELECT contiguous_seq FROM terminals") == 55
    assert till_status(till.path)["acked_seq"] == 55


async def test_sync_forever_exits_cleanly_on_sigterm(site: Site, till: Database) -> None:
    import signal
    import subprocess
    import sys

    await make_sales(till, 5)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from terminal.cli import main; main()",
            "sync",
            "--db",
            str(till.path),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(200):
            if site.scalar("SELECT count(*) FROM sales") == 5:
                break
            await asyncio.sleep(0.05)
        assert site.scalar("SELECT count(*) FROM sales") == 5
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "sync agent stopped" in err


async def test_enroll_refuses_a_bad_token_and_a_foreign_till(site: Site, till: Database) -> None:
    bad = run(
        [
            *TILL,
            "enroll",
            "--server",
            site.url,
            "--token",
            "nope",
            "--db",
            str(till.path.parent / "other.db"),
        ],
        check=False,
    )
    assert bad.returncode == 77 and bad.stderr.count("\n") == 1 and "refused" in bad.stderr

    await make_sales(till, 1)
    async with writing(till) as s:  # pretend these sales were made as another terminal
        await s.execute(text("UPDATE store_settings SET terminal_code = 'T77'"))
    with pytest.raises(AssertionError, match="already has sales as DEMO-T77"):
        site.enroll_till("till")  # a fresh token for DEMO-T02 into this till's file
    async with reading(till) as s:
        terminal = (await s.execute(text("SELECT terminal_id FROM sync_state"))).scalar()
    assert terminal == "DEMO-T01", "nothing changed"
