"""Pulling changes, loyalty bookkeeping, pruning, the run loop and the published state,
against the real HQ app in-process."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import stamina
from sqlalchemy import func, select

from hq import catalog as hq_catalog
from hq import enroll as hq_enroll
from sync import demo_data
from sync.agent import AgentState, SyncAgent, load_agent_state
from sync.agent.errors import NotEnrolledError
from sync.agent.port import StoreError
from sync.protocol import ChangePage, CustomerCreated
from terminal.db.engine import Database
from terminal.db.models import Customer, LoyaltyEntry, OutboxEvent, Product, SyncState
from terminal.services.outbox import append_event
from terminal.services.sync_store import TillSyncStore
from terminal.services.uow import reading, writing
from tests.events import sale
from tests.sync.conftest import (
    OTHER_TERMINAL,
    TERMINAL,
    LocalHq,
    make_agent,
    make_sales,
    redeem_sale,
)


async def shown_balances(db: Database) -> dict[uuid.UUID, int]:
    """What the till shows: HQ's balance plus deltas HQ has not counted."""
    uncounted = (
        select(func.coalesce(func.sum(LoyaltyEntry.points), 0))
        .where(LoyaltyEntry.customer_id == Customer.id, LoyaltyEntry.counted_at_hq.is_(False))
        .scalar_subquery()
    )
    async with reading(db) as s:
        rows = await s.execute(select(Customer.id, Customer.hq_balance + uncounted))
        return dict(rows.all())


async def test_pull_applies_pages_and_stores_the_cursor(
    agent: SyncAgent, till: Database, hq: LocalHq
) -> None:
    products = demo_data.demo_products()
    async with hq.db.sessions() as s, s.begin():
        await hq_catalog.upsert_products(
            session=s,
            products=[
                p.model_copy(update={"price_cents": 1234 + i}) for i, p in enumerate(products)
            ],
        )
    tables = ("products", "customers", "cashiers", "tenders", "settings")
    counts = " + ".join(f"(SELECT count(*) FROM {t})" for t in tables)
    maxima = ", ".join(f"(SELECT max(change_seq) FROM {t})" for t in tables)
    ((rows, last_change),) = await hq.rows(f"SELECT {counts}, max({maxima})")
    agent._pull_limit = 3  # several pages

    report = await agent.sync_once()

    assert report.changes == rows, "the first pull reads HQ's whole feed, a row once"
    assert report.pages == -(-rows // 3)
    async with reading(till) as s:
        prices = dict((await s.execute(select(Product.id, Product.price_cents))).all())
        state = (await s.execute(select(SyncState))).scalar_one()
    assert prices[products[0].product_id] == 1234
    assert prices[products[-1].product_id] == 1234 + len(products) - 1
    assert state.change_cursor == last_change and state.last_pull_ok_at is not None
    asked = [r for r in hq.transport.requests if r.endswith("/changes")]

    await agent.sync_once()  # nothing new: one request from the stored cursor
    assert len([r for r in hq.transport.requests if r.endswith("/changes")]) == len(asked) + 1


async def test_shown_balance_holds_steady_through_push_and_pull(
    agent: SyncAgent, till: Database, hq: LocalHq
) -> None:
    customer = demo_data.demo_customers()[0]
    await agent.sync_once()  # the till takes HQ's balances first
    await make_sales(till, 40)
    await redeem_sale(till, customer.customer_id, 5)
    before = await shown_balances(till)

    await agent.sync_once()
    async with reading(till) as s:
        uncounted = (
            await s.execute(select(func.count()).where(LoyaltyEntry.counted_at_hq.is_(False)))
        ).scalar_one()
    assert uncounted == 0
    assert await shown_balances(till) == before, "hq_balance absorbed exactly the deltas"
    await agent.sync_once()  # HQ's own figures come down: the same numbers
    assert await shown_balances(till) == before

    # Another till earns points for the same customer: HQ's balance wins at this till.
    await hq.push(
        OTHER_TERMINAL, [sale(OTHER_TERMINAL, 1, customer_id=customer.customer_id, points=1000)]
    )
    await agent.sync_once()
    assert (await shown_balances(till))[customer.customer_id] == before[customer.customer_id] + 1000


async def test_prune_deletes_only_old_unreferenced_sent_events(till: Database, hq: LocalHq) -> None:
    await make_sales(till, 3)
    async with writing(till) as s:
        payload = CustomerCreated(customer_id=uuid.uuid4(), name="Ah Kow", phone=None)
        await append_event(s, "customer.created", payload, datetime.now(UTC))
    now = [datetime.now(UTC)]
    agent = make_agent(till, hq, clock=lambda: now[0])
    assert (await agent.sync_once()).pruned == 0  # too young

    agent._last_prune = None
    now[0] += timedelta(days=91)
    report = await agent.sync_once()
    await agent.aclose()

    assert report.pruned == 1
    async with reading(till) as s:
        left = (await s.execute(select(OutboxEvent.seq).order_by(OutboxEvent.seq))).scalars()
        assert list(left) == [1, 2, 3], "sale events stay: sales.event_seq refers to them"


async def test_run_drains_on_nudge_and_publishes_state(till: Database, hq: LocalHq) -> None:
    agent = make_agent(till, hq, tick_seconds=3600)
    seen: list[AgentState] = []
    unsubscribe = agent.subscribe(seen.append)
    task = asyncio.create_task(agent.run())
    try:
        await _until(lambda: agent.state.last_success_at is not None)  # the first cycle
        first = agent.state.last_success_at
        await make_sales(till, 3)
        agent.nudge()
        await _until(lambda: agent.state.last_success_at != first)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await agent.aclose()

    final = agent.state
    assert final.enrolled and final.sent_total == 3 and final.last_success_at is not None
    assert final.hq_url == "http://hq.test" and await hq.held() == [1, 2, 3]
    assert any(s.backlog_total == 3 for s in seen), "the drain announced its backlog"
    assert seen[-1] == final
    unsubscribe()
    agent._publish(pending=99)
    assert seen[-1] == final, "no calls after unsubscribe"


async def test_run_retries_transient_failures_with_stamina(till: Database, hq: LocalHq) -> None:
    await make_sales(till, 2)
    hq.transport.faults = ["500", "timeout"]
    agent = make_agent(till, hq, tick_seconds=3600)
    with stamina.set_testing(True, attempts=3):  # no real sleeping, at most 3 tries
        task = asyncio.create_task(agent.run())
        try:
            await _until(lambda: agent.state.sent_total == 2)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await agent.aclose()
    assert len(hq.transport.pushes) == 3, "two failures retried by stamina without waiting a tick"
    assert await hq.held() == [1, 2]


async def test_run_does_not_hammer_hq_after_a_refusal(till: Database, hq: LocalHq) -> None:
    async with hq.db.sessions() as s, s.begin():
        assert await hq_enroll.revoke_terminal(session=s, terminal_id=TERMINAL)
    agent = make_agent(till, hq, tick_seconds=3600)
    with stamina.set_testing(True, attempts=5):
        task = asyncio.create_task(agent.run())
        await _until(lambda: agent.state.last_error is not None)
        for _ in range(50):  # give a (wrong) retry every chance to run
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    await agent.aclose()
    assert hq.transport.requests == ["GET /v1/sync/whoami"], "a refusal waits for the next tick"


async def test_load_agent_state_reads_the_database(till: Database, hq: LocalHq) -> None:
    await make_sales(till, 4)
    state = await load_agent_state(TillSyncStore(till))
    assert (state.online, state.enrolled, state.pending, state.sent_total) == (None, True, 4, 0)

    hq.transport.faults = ["500"]
    agent = make_agent(till, hq)
    with pytest.raises(Exception, match="500"):
        await agent.sync_once()
    await agent.aclose()
    state = await load_agent_state(TillSyncStore(till))
    assert state.last_error is not None and "500" in state.last_error
    assert state.last_error_at is not None and state.pending == 4


async def test_not_enrolled_till_raises_without_network(till_db: Database) -> None:
    calls: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(500))
    agent = SyncAgent(TillSyncStore(till_db), transport=transport)
    with pytest.raises(NotEnrolledError):
        await agent.sync_once()
    await agent.aclose()
    assert calls == [] and agent.state.enrolled is False


async def _until(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


class _WatchedStore(TillSyncStore):
    """The till's store, holding each page's apply until HQ has been asked for the next
    (or failing the apply of page ``fail_at``)."""

    def __init__(self, db: Database, hq: LocalHq, fail_at: int | None = None) -> None:
        super().__init__(db)
        self.hq, self.fail_at, self.applied = hq, fail_at, 0

    def asked(self) -> int:
        return sum(r.endswith("/changes") for r in self.hq.transport.requests)

    async def apply_change_page(self, page: ChangePage, *, at: datetime) -> None:
        if self.fail_at == self.applied + 1:
            raise StoreError("the disk is full")
        if page.more:
            while self.asked() < self.applied + 2:  # the next page is asked for meanwhile
                await asyncio.sleep(0)
        await super().apply_change_page(page, at=at)
        self.applied += 1


async def test_the_next_page_is_read_while_this_one_is_stored(till: Database, hq: LocalHq) -> None:
    store = _WatchedStore(till, hq)
    agent = SyncAgent(store, transport=hq.transport, tick_seconds=3600, pull_limit=4)
    try:
        report = await asyncio.wait_for(agent.sync_once(), timeout=120)
    finally:
        await agent.aclose()
    assert report.pages == store.applied > 2
    assert store.asked() == report.pages  # one request per page, none wasted


async def test_a_page_that_cannot_be_stored_stops_the_pull_at_the_page_before(
    till: Database, hq: LocalHq
) -> None:
    store = _WatchedStore(till, hq, fail_at=2)
    agent = SyncAgent(store, transport=hq.transport, tick_seconds=3600, pull_limit=4)
    try:
        with pytest.raises(StoreError, match="disk is full"):
            await agent.sync_once()
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
    finally:
        await agent.aclose()
    async with reading(till) as s:
        cursor = (await s.execute(select(SyncState.change_cursor))).scalar_one()
    first = await hq.rows(
        "SELECT change_seq FROM (SELECT change_seq FROM products UNION ALL "
        "SELECT change_seq FROM customers UNION ALL SELECT change_seq FROM cashiers UNION ALL "
        "SELECT change_seq FROM tenders UNION ALL SELECT change_seq FROM settings) "
        "ORDER BY change_seq LIMIT 4"
    )
    assert cursor == first[-1][0]  # page 1 kept; page 2 to be read again next time
