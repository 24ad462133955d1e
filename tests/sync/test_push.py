"""Pushing the outbox to the real HQ app: batching, marking only from answers, faults."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text, update

from sync.agent import SyncAgent
from sync.agent.errors import SyncProtocolError, SyncRefusedError, SyncTransportError
from sync.protocol import PushRequest, parse_payload
from terminal.db.engine import Database
from terminal.db.models import OutboxEvent, SyncState
from terminal.services.sync_store import TillSyncStore
from terminal.services.uow import reading, writing
from tests.sync.conftest import OTHER_TERMINAL, TERMINAL, URL, LocalHq, make_agent, make_sales


async def statuses(db: Database) -> dict[int, str]:
    async with reading(db) as s:
        return dict((await s.execute(select(OutboxEvent.seq, OutboxEvent.status))).all())


async def test_batches_are_bounded_by_count_in_seq_order_and_gzipped(
    till: Database, hq: LocalHq
) -> None:
    await make_sales(till, 45)
    agent = make_agent(till, hq, batch_events=20)
    report = await agent.sync_once()
    await agent.aclose()

    assert [len(p.seqs) for p in hq.transport.pushes] == [20, 20, 5]
    assert all(p.encoding == "gzip" for p in hq.transport.pushes)
    assert hq.transport.pushed_seqs == list(range(1, 46))
    assert report.pushed == 45 and report.batches == 3 and report.contiguous_seq == 45
    assert set((await statuses(till)).values()) == {"sent"}
    assert await hq.held() == list(range(1, 46)) and await hq.mark() == 45


async def test_batches_are_bounded_by_bytes(till: Database, hq: LocalHq) -> None:
    await make_sales(till, 30)
    agent = make_agent(till, hq, batch_bytes=6_000)
    await agent.sync_once()
    await agent.aclose()

    sizes = [p.size for p in hq.transport.pushes]
    assert len(sizes) > 3, "a 6 kB limit must split 30 sales into several batches"
    assert max(sizes) <= 6_000
    assert await hq.held() == list(range(1, 31))


async def test_events_not_answered_for_stay_pending_and_go_again(
    agent: SyncAgent, till: Database, hq: LocalHq
) -> None:
    await make_sales(till, 5)
    hq.transport.faults = ["omit"]

    with pytest.raises(SyncProtocolError, match="did not answer for 1"):
        await agent.sync_once()
    assert await statuses(till) == {1: "sent", 2: "sent", 3: "sent", 4: "sent", 5: "pending"}

    report = await agent.sync_once()
    assert hq.transport.pushes[-1].seqs == [5]
    assert report.pushed == 1, "HQ already held it: answered duplicate, counted as sent"
    assert set((await statuses(till)).values()) == {"sent"}


async def test_rejected_events_keep_hqs_reason_and_do_not_block_later_ones(
    agent: SyncAgent, till: Database, hq: LocalHq
) -> None:
    await make_sales(till, 8)
    async with writing(till) as s:  # damage three rows by hand: one not even JSON
        await s.execute(update(OutboxEvent).where(OutboxEvent.seq == 3).values(payload="{oops"))
        await s.execute(
            text("UPDATE outbox SET payload = json_remove(payload, '$.lines') WHERE seq = 5")
        )
        await s.execute(update(OutboxEvent).where(OutboxEvent.seq == 6).values(payload="[1, 2]"))

    report = await agent.sync_once()

    assert report.rejected == 3 and report.pushed == 5
    quarantined = await hq.quarantined()
    assert sorted(quarantined) == [3, 5, 6]
    assert await hq.mark() == 8, "rejected events still count as held at HQ"
    async with reading(till) as s:
        rows = dict(
            (
                await s.execute(
                    select(OutboxEvent.seq, OutboxEvent.reason).where(
                        OutboxEvent.status == "rejected"
                    )
                )
            ).all()
        )
    assert rows == quarantined, "the till keeps HQ's own reason"
    assert all(rows.values())
    assert agent.state.rejected == 3 and agent.state.pending == 0

    await make_sales(till, 2, seed=9)
    await agent.sync_once()
    assert hq.transport.pushes[-1].seqs == [9, 10], "rejected events are not sent again"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("drop", SyncTransportError),
        ("500", SyncProtocolError),
        ("timeout", SyncTransportError),
        ("lost", SyncTransportError),
    ],
)
async def test_failed_push_loses_nothing_and_duplicates_nothing(
    agent: SyncAgent, till: Database, hq: LocalHq, fault: str, error: type[Exception]
) -> None:
    await make_sales(till, 12)
    hq.transport.faults = [fault]

    with pytest.raises(error):
        await agent.sync_once()
    assert set((await statuses(till)).values()) == {"pending"}, "no answer, no marks"
    async with reading(till) as s:
        state = (await s.execute(select(SyncState))).scalar_one()
        attempts = (await s.execute(select(OutboxEvent.attempts))).scalars().all()
    assert state.last_error and state.last_error_at is not None
    assert set(attempts) == {1}
    assert agent.state.online is (fault == "500")
    assert await hq.held() == (list(range(1, 13)) if fault == "lost" else [])

    report = await agent.sync_once()
    assert set((await statuses(till)).values()) == {"sent"}
    assert await hq.held() == list(range(1, 13)), "each event once at HQ"
    assert report.pushed == 12  # after a lost answer the resend is answered 'duplicate'
    async with reading(till) as s:
        assert (await s.execute(select(SyncState.last_error))).scalar_one() is None


async def test_refused_token_is_a_refusal_not_a_transport_error(
    till: Database, hq: LocalHq
) -> None:
    async with writing(till) as s:
        await s.execute(update(SyncState).values(token="not-a-token-hq-knows"))
    agent = make_agent(till, hq)
    with pytest.raises(SyncRefusedError, match="401"):
        await agent.sync_once()
    await agent.aclose()
    assert agent.state.online is True, "HQ answered: it is reachable"
    assert "refused" in (agent.state.last_error or "")


async def test_token_of_another_terminal_is_refused(till: Database, hq: LocalHq) -> None:
    await make_sales(till, 1)
    async with writing(till) as s:
        await s.execute(update(SyncState).values(token=hq.tokens[OTHER_TERMINAL]))
    agent = make_agent(till, hq)
    with pytest.raises(SyncRefusedError, match=OTHER_TERMINAL):
        await agent.sync_once()
    await agent.aclose()
    assert hq.transport.pushes == []


async def test_garbage_answer_is_a_protocol_error(till: Database) -> None:
    """A captive portal or proxy answering HTML: no HQ involved at all."""
    await make_sales(till, 1)
    transport = httpx.MockTransport(lambda r: httpx.Response(200, text="<html>proxy</html>"))
    agent = SyncAgent(TillSyncStore(till), transport=transport)
    with pytest.raises(SyncProtocolError, match="not a valid WhoAmI"):
        await agent.sync_once()
    await agent.aclose()
    assert set((await statuses(till)).values()) == {"pending"}


async def test_hq_restored_from_backup_gets_the_lost_events_again(
    agent: SyncAgent, till: Database, hq: LocalHq, tmp_path: Path
) -> None:
    await make_sales(till, 12)
    await agent.sync_once()
    hq.snapshot(tmp_path / "backup.db")
    await make_sales(till, 18, seed=2)
    await agent.sync_once()
    async with writing(till) as s:
        await s.execute(update(SyncState).values(change_cursor=7))
    await hq.restore(tmp_path / "backup.db")
    assert await hq.held() == list(range(1, 13))

    report = await agent.sync_once()

    assert report.hq_restored and report.resent == 18
    assert await hq.held() == list(range(1, 31)) and await hq.mark() == 30
    assert hq.transport.pushed_seqs[-18:] == list(range(13, 31))
    async with reading(till) as s:
        state = (await s.execute(select(SyncState))).scalar_one()
    assert state.acked_seq == 30
    assert state.change_cursor == 0, "HQ's change feed went back too: re-read it"
    asked = len(hq.transport.requests)
    again = await agent.sync_once()
    assert again.pushed == 0 and again.resent == 0
    assert hq.transport.requests[asked] == "GET /v1/sync/whoami", "a restore re-asks whoami"


async def test_hq_restored_during_a_drain_gets_the_lost_events_again(
    till: Database, hq: LocalHq, tmp_path: Path
) -> None:
    """An answer is stored while the next batch goes; when a stored answer says HQ went
    back, the answer to the batch sent meanwhile is not stored and the drain goes again
    from HQ's mark (HQ answers duplicate for what it has)."""
    await make_sales(till, 12)
    first = make_agent(till, hq)
    await first.sync_once()
    await first.aclose()
    hq.snapshot(tmp_path / "backup.db")
    await make_sales(till, 20, seed=2)
    pushes_before = len(hq.transport.pushes)

    async def restore_at_the_third_push() -> None:
        if len(hq.transport.pushes) - pushes_before == 3:
            await hq.restore(tmp_path / "backup.db")

    hq.transport.on_push = restore_at_the_third_push
    agent = make_agent(till, hq, batch_events=5)
    report = await agent.sync_once()
    await agent.aclose()

    sent = [p.seqs for p in hq.transport.pushes[pushes_before:]]
    assert sent[:4] == [list(range(s, s + 5)) for s in (13, 18, 23, 28)], (
        "the fourth batch went while the third answer (HQ back at 12) was being stored"
    )
    assert sent[4:] == [list(range(s, s + 5)) for s in (13, 18, 23, 28)], "again from 12"
    assert report.hq_restored and report.resent == 15 and report.contiguous_seq == 32
    assert report.batches == 3 + 4, "the answer to the fourth batch, sent meanwhile, is not stored"
    assert report.pushed == 3 * 5 + 20
    assert await hq.held() == list(range(1, 33)) and await hq.mark() == 32
    assert set((await statuses(till)).values()) == {"sent"}
    async with reading(till) as s:
        assert (await s.execute(select(SyncState.acked_seq))).scalar_one() == 32


async def test_push_holds_no_write_lock_while_waiting_for_hq(till: Database, hq: LocalHq) -> None:
    """A checkout during the HTTP round trip commits at once (busy_timeout would bite)."""
    await make_sales(till, 3)
    waits: list[float] = []

    async def sell_during_push() -> None:
        if waits:
            return
        started = time.perf_counter()
        await make_sales(till, 1, seed=5)
        waits.append(time.perf_counter() - started)

    hq.transport.on_push = sell_during_push
    agent = make_agent(till, hq)
    await asyncio.wait_for(agent.sync_once(), timeout=30)
    await agent.aclose()
    assert len(waits) == 1 and waits[0] < 5.0, "well under the 30 s busy timeout"
    assert await statuses(till) == {1: "sent", 2: "sent", 3: "sent", 4: "sent"}, (
        "the sale made during the push is drained in the same sync"
    )


async def test_envelope_is_what_hq_expects(agent: SyncAgent, till: Database, hq: LocalHq) -> None:
    """terminal_id is filled at push time; the payload goes as stored."""
    await make_sales(till, 1)
    await agent.sync_once()

    push = PushRequest.model_validate(hq.transport.pushes[0].body)
    (event,) = push.events
    assert push.terminal_id == event.terminal_id == "DEMO-T01"
    assert event.terminal_seq == 1 and event.type == "sale.completed"
    parse_payload(event)
    assert await hq.held() == [1] and await hq.quarantined() == {}


async def test_a_second_sync_waits_for_the_running_cycle(till: Database, hq: LocalHq) -> None:
    """'Sync now' during the agent's own cycle must not push the same events twice."""
    await make_sales(till, 30)
    in_flight = peak = 0
    inner = hq.transport

    class Counting(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                for _ in range(20):  # let the other sync_once run as far as it can
                    await asyncio.sleep(0)
                return await inner.handle_async_request(request)
            finally:
                in_flight -= 1

    agent = SyncAgent(TillSyncStore(till), transport=Counting(), batch_events=10)
    first, second = await asyncio.gather(agent.sync_once(), agent.sync_once())
    await agent.aclose()

    assert peak == 1
    assert hq.transport.pushed_seqs == list(range(1, 31))  # each event once, in order
    assert first.pushed + second.pushed == 30 and not (first.hq_restored or second.hq_restored)


async def test_hq_keeps_what_the_till_says_of_itself_with_a_push(
    till: Database, hq: LocalHq
) -> None:
    from sync.agent.hq_client import USER_AGENT

    await make_sales(till, 45)
    agent = make_agent(till, hq, batch_events=20)
    await agent.refresh()  # the agent knows its backlog before it pushes
    await agent.sync_once()
    await agent.aclose()
    (row,) = await hq.rows(
        "SELECT reported_pending, app_version FROM terminals WHERE terminal_id = :t", t=TERMINAL
    )
    assert row == (0, USER_AGENT.removeprefix("kedai-till/"))
    # A push without the headers (or with nonsense in them) keeps what was said before.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=hq.app), base_url=URL) as c:
        r = await c.post(
            "/v1/sync/push",
            json={"terminal_id": TERMINAL, "events": []},
            headers={
                "Authorization": f"Bearer {hq.tokens[TERMINAL]}",
                "X-Kedai-Pending": "-3",
                "User-Agent": "kedai-till/<script>",
            },
        )
    assert r.status_code == 200, r.text
    (again,) = await hq.rows(
        "SELECT reported_pending, app_version FROM terminals WHERE terminal_id = :t", t=TERMINAL
    )
    assert again == row
