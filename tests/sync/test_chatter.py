"""What one online sale costs in requests to HQ and transactions at the till.

Counted on the real HQ app and the real till store: one sale committed, then one agent
cycle. When every cycle began with ``whoami`` and wrote its bookkeeping separately
(commit a6dcb96) the figures were 3 requests, 4 write and 9 read transactions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection

from sync.agent import SyncAgent
from sync.agent.errors import SyncTransportError
from terminal.db.engine import Database
from tests.sync.conftest import LocalHq, make_sales


@pytest.fixture
def transactions(till: Database) -> Iterator[Counter[str]]:
    """Transactions the till's engine begins, by kind (``BEGIN IMMEDIATE`` is a write)."""
    seen: Counter[str] = Counter()

    def on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("kedai_begin") == "IMMEDIATE"
        seen["write" if immediate else "read"] += 1

    event.listen(till.engine.sync_engine, "begin", on_begin)
    yield seen
    event.remove(till.engine.sync_engine, "begin", on_begin)


async def test_an_online_sale_costs_two_requests_and_one_write(
    agent: SyncAgent, till: Database, hq: LocalHq, transactions: Counter[str]
) -> None:
    await agent.sync_once()  # the first cycle: whoami and HQ's catalogue
    for n in range(1, 4):
        await make_sales(till, 1, seed=n)
        hq.transport.requests.clear()
        transactions.clear()

        report = await agent.sync_once()

        assert report.pushed == 1 and await hq.held() == list(range(1, n + 1))
        assert hq.transport.requests == ["GET /v1/sync/changes", "POST /v1/sync/push"]
        assert transactions == {"write": 1, "read": 2}, "HQ's answer and the stamp: one write"


async def test_a_failure_makes_the_next_cycle_ask_whoami_again(
    agent: SyncAgent, till: Database, hq: LocalHq
) -> None:
    await agent.sync_once()
    await make_sales(till, 1)
    hq.transport.faults = ["drop"]
    with pytest.raises(SyncTransportError, match="unreachable"):
        await agent.sync_once()
    hq.transport.requests.clear()

    await agent.sync_once()
    assert hq.transport.requests == [
        "GET /v1/sync/whoami",
        "GET /v1/sync/changes",
        "POST /v1/sync/push",
    ]
    hq.transport.requests.clear()
    await agent.sync_once()
    assert hq.transport.requests == ["GET /v1/sync/changes"], "nothing pending, no push"
