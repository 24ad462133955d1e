"""The same batch pushed 20 times at once, to two worker processes: applied exactly once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
import pytest

from tests.events import push_body, sale
from tests.hq.conftest import Hq


async def _push_many(hq: Hq, token: str, body: dict, times: int) -> list[dict]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=hq.base_url, headers=headers, timeout=60) as c:
        replies = await asyncio.gather(*(c.post("/v1/sync/push", json=body) for _ in range(times)))
    assert [r.status_code for r in replies] == [200] * times, [r.text for r in replies]
    return [r.json() for r in replies]


async def test_same_batch_twenty_times_in_parallel_counts_once(
    hq: Hq, terminal: tuple[str, str]
) -> None:
    tid, token = terminal
    customers = [uuid.uuid4() for _ in range(3)]
    events = [sale(tid, seq, customer_id=customers[seq % 3], points=seq) for seq in range(1, 41)]
    answers = await _push_many(hq, token, push_body(tid, events), 20)

    accepted = Counter(
        r["event_id"] for a in answers for r in a["results"] if r["status"] == "accepted"
    )
    assert set(accepted.values()) == {1} and len(accepted) == 40
    assert all(r["status"] in ("accepted", "duplicate") for a in answers for r in a["results"])
    assert {a["contiguous_seq"] for a in answers} == {40}
    assert hq.scalar("SELECT count(*) FROM sales WHERE terminal_id = :t", t=tid) == 40
    assert hq.scalar("SELECT count(*) FROM events WHERE terminal_id = :t", t=tid) == 40
    for i, customer in enumerate(customers):
        expected = sum(seq for seq in range(1, 41) if seq % 3 == i)
        key = customer.hex if hq.backend == "sqlite" else customer
        balance = hq.scalar("SELECT loyalty_balance FROM customers WHERE customer_id = :c", c=key)
        ledger = hq.scalar("SELECT sum(points) FROM loyalty_entries WHERE customer_id = :c", c=key)
        assert balance == ledger == expected


@pytest.fixture
def tills(hq: Hq) -> list[tuple[str, str]]:
    return [hq.enroll() for _ in range(4)]


async def test_tills_earning_for_one_customer_at_once_add_up(
    hq: Hq, tills: list[tuple[str, str]]
) -> None:
    customer = uuid.uuid4()

    async def till_pushes(tid: str, token: str) -> None:
        for batch in range(3):
            events = [sale(tid, batch * 5 + i, customer_id=customer, points=2) for i in range(1, 6)]
            await _push_many(hq, token, push_body(tid, events), 2)

    await asyncio.gather(*(till_pushes(tid, token) for tid, token in tills))
    key = customer.hex if hq.backend == "sqlite" else customer
    assert hq.scalar("SELECT loyalty_balance FROM customers WHERE customer_id = :c", c=key) == (
        4 * 3 * 5 * 2
    )
