"""The background sync agent: the till's outbox up to HQ, HQ's changes down to the till.

It runs as an asyncio task inside the till UI and on its own as ``kedai-till sync``.
Nothing a cashier does waits for it (invariant 9): the agent reads the outbox in a short
read unit of work, talks to HQ with no transaction open, then writes HQ's answer in a
short write unit of work, all through the :class:`~sync.agent.port.TillStore` port the
till implements. One cycle is:

1. ``whoami``, only on the first cycle and after a failure or a restore: is HQ there and
   is the token still ours?
2. Pull HQ's change feed page by page from the stored cursor; each page and its cursor
   are applied in one local transaction (invariant 8); an empty page writes nothing.
   Every page carries HQ's contiguous mark for this till. A mark other than the one HQ
   gave last (``acked_seq``) is reconciled before pushing: below it means HQ was
   restored from a backup, and the events above it go back to pending and are sent
   again (invariant 6).
3. Push every pending event in ``terminal_seq`` order, in batches bounded by count and
   bytes, gzipped. Events are marked only from HQ's per-event results: accepted and
   duplicate become sent, rejected keeps HQ's reason and never blocks later events.
   A lost answer leaves the batch pending, and the resend is answered ``duplicate``.
   Each answer carries the mark too, so a restore is also noticed mid-drain.
4. The cycle's bookkeeping (last good push and pull, last error cleared) rides on the
   last push answer's write; only a cycle with nothing to push writes it on its own.

Measured per online sale (one sale committed, then one cycle with nothing to pull,
``tests/sync/test_chatter.py``): 2 HTTP requests, 1 write and 2 read transactions,
against 3 requests, 4 writes and 9 reads when every cycle began with ``whoami`` and
wrote its bookkeeping separately.

Between cycles the agent waits for a nudge (one per committed sale) or the periodic
tick; on failure it backs off exponentially with jitter (``stamina``), with bounded
connect/read timeouts on one long-lived ``httpx.AsyncClient``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import stamina
from pydantic import BaseModel, ConfigDict

from sync.agent.batches import batch_body
from sync.agent.errors import (
    NotEnrolledError,
    SyncError,
    SyncProtocolError,
    SyncRefusedError,
    SyncTransportError,
)
from sync.agent.hq_client import DEFAULT_TIMEOUT, HqClient
from sync.agent.port import (
    MarkResult,
    OutboxCounts,
    Outcome,
    PendingEvent,
    StoreError,
    SyncConfig,
    TillStore,
)
from sync.protocol import MAX_PUSH_EVENTS, ChangePage, SaleLookup, WhoAmI

__all__ = [
    "AgentState",
    "SyncAgent",
    "SyncReport",
    "enroll",
    "load_agent_state",
]

log = logging.getLogger(__name__)
T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AgentState(BaseModel):
    """What the UI's status bar and ``kedai-till status`` show about sync."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    online: bool | None = None
    """HQ answered the last request (``None``: not yet known)."""
    enrolled: bool = False
    pending: int = 0
    """Events waiting to go to HQ."""
    rejected: int = 0
    """Events HQ refused (kept, with HQ's reason); they never block later ones."""
    sent_total: int = 0
    """Events held at the till as acknowledged by HQ."""
    backlog_total: int = 0
    """Events pending when the current drain started: progress = 1 - pending/backlog."""
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    hq_url: str | None = None


class SyncReport(BaseModel):
    """What one :meth:`SyncAgent.sync_once` did."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pushed: int = 0
    """Events HQ acknowledged (accepted or duplicate)."""
    rejected: int = 0
    batches: int = 0
    resent: int = 0
    """Events set back to pending because HQ's mark was below them (restore)."""
    hq_restored: bool = False
    changes: int = 0
    pages: int = 0
    pruned: int = 0
    contiguous_seq: int = 0


async def load_agent_state(store: TillStore) -> AgentState:
    """The agent's state as far as the store knows it (for a UI with no agent)."""
    cfg = await store.load_sync_config()
    counts = await store.outbox_counts()
    return _state_from(cfg, counts, AgentState())


def _state_from(cfg: SyncConfig, counts: OutboxCounts, old: AgentState) -> AgentState:
    return old.model_copy(
        update={
            "enrolled": cfg.enrolled,
            "pending": counts.pending,
            "rejected": counts.rejected,
            "sent_total": counts.sent,
            "last_success_at": cfg.last_push_ok_at,
            "last_error": cfg.last_error,
            "last_error_at": cfg.last_error_at,
            "hq_url": cfg.hq_url,
        }
    )


# ----------------------------------------------------------------------------- agent


class SyncAgent:
    """Moves events up and changes down; see the module docstring for one cycle.

    ``store`` is the till's side (:class:`~sync.agent.port.TillStore`). ``client`` (or
    ``transport``) is injectable for tests; without one the agent makes its own
    long-lived client with :data:`DEFAULT_TIMEOUT` and closes it in :meth:`aclose`.
    ``clock`` is the agent's only source of "now".
    """

    def __init__(
        self,
        store: TillStore,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        batch_events: int = MAX_PUSH_EVENTS,
        batch_bytes: int = 2 * 1024 * 1024,
        pull_limit: int = 500,
        tick_seconds: float = 30.0,
        retention_days: int = 90,
        gzip_level: int = 5,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if not 1 <= batch_events <= MAX_PUSH_EVENTS:
            raise ValueError(f"batch_events must be 1..{MAX_PUSH_EVENTS}")
        self._store = store
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            transport=transport,
            timeout=DEFAULT_TIMEOUT,
            headers={"User-Agent": "kedai-till"},
        )
        self._http = HqClient(self._client)
        self._batch_events = batch_events
        self._batch_bytes = batch_bytes
        self._pull_limit = pull_limit
        self._tick = tick_seconds
        self._retention = timedelta(days=retention_days)
        self._gzip_level = gzip_level
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._clock = clock
        self._nudged = asyncio.Event()
        self._cycle_lock = asyncio.Lock()
        """One cycle at a time: a "sync now" from the UI while the loop is mid-push would
        otherwise send the same events twice and could read a late answer's lower mark
        as an HQ restore."""
        self._state = AgentState()
        self._subscribers: list[Callable[[AgentState], None]] = []
        self._last_prune: datetime | None = None
        self._identity_checked = False
        """``whoami`` is asked on the first cycle and again after any failure."""

    # ------------------------------------------------------------------ public API

    @property
    def state(self) -> AgentState:
        return self._state

    def subscribe(self, callback: Callable[[AgentState], None]) -> Callable[[], None]:
        """Call ``callback(state)`` on every state change; returns the unsubscribe."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def nudge(self) -> None:
        """Wake the loop now (call after each committed sale). Never blocks."""
        self._nudged.set()

    async def local_change(self) -> None:
        """A sale (or any event) was committed locally: publish the new pending count
        at once (a local fact, one short read) and wake the loop."""
        self.nudge()
        with contextlib.suppress(StoreError):
            counts = await self._store.outbox_counts()
            self._publish(pending=counts.pending, rejected=counts.rejected, sent_total=counts.sent)

    async def run(self) -> None:
        """Sync until cancelled: a cycle, then wait for a nudge or the tick.

        Transient failures (HQ unreachable, unexpected answers) are retried by
        ``stamina`` with exponential backoff and jitter; a refusal or a till that is not
        enrolled waits for the next nudge/tick, since retrying fast cannot fix either.
        """
        await self.refresh()
        while True:
            self._nudged.clear()
            try:
                async for attempt in stamina.retry_context(
                    on=_is_transient,
                    attempts=None,
                    timeout=None,
                    wait_initial=self._backoff_initial,
                    wait_max=self._backoff_max,
                    wait_jitter=self._backoff_initial,
                ):
                    with attempt:
                        await self.sync_once()
            except SyncError as exc:
                log.info("sync paused: %s", exc.message)
            except StoreError as exc:
                log.warning("sync cycle stopped by the local store: %s", exc.message)
                self._publish(last_error=exc.message, last_error_at=self._clock())
            except Exception:  # the loop outlives any one bad cycle; it is logged in full
                log.exception("sync cycle failed unexpectedly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudged.wait(), timeout=self._tick)

    async def sync_once(self) -> SyncReport:
        """Push everything pending, then pull every page; raise a SyncError on failure.

        The failure is also stored (``last_error``) and published. A call while
        another cycle runs waits for it, then runs its own.
        """
        async with self._cycle_lock:
            return await self._sync_once()

    async def _sync_once(self) -> SyncReport:
        cfg = await self._store.load_sync_config()
        self._publish(enrolled=cfg.enrolled, hq_url=cfg.hq_url)
        if not cfg.enrolled:
            raise NotEnrolledError("this till is not enrolled: run `kedai-till enroll`")
        assert cfg.hq_url and cfg.token and cfg.terminal_id
        attempted: list[int] = []
        try:
            report = await self._cycle(cfg, attempted)
        except SyncError as exc:
            self._identity_checked = False
            at = self._clock()
            log.warning("sync failed: %s", exc.message)
            await self._store.record_error(message=exc.message, at=at, attempted_seqs=attempted)
            self._publish(
                online=not isinstance(exc, SyncTransportError),
                last_error=exc.message,
                last_error_at=at,
            )
            raise
        return report

    async def lookup_sale(self, receipt_no: str) -> SaleLookup | None:
        """A sale HQ holds (made at any till of the chain), for a refund; None if HQ has
        no such sale (or has not received it yet).

        Asked while the cashier waits, so with a short timeout and outside the sync
        cycle's lock. Raises :class:`NotEnrolledError`, :class:`SyncTransportError`
        (HQ unreachable: offer a manual return), :class:`SyncRefusedError` or
        :class:`SyncProtocolError`.
        """
        cfg = await self._store.load_sync_config()
        if not cfg.enrolled or not cfg.hq_url or not cfg.token:
            raise NotEnrolledError("this till is not enrolled: it cannot ask HQ")
        return await self._http.sale(cfg.hq_url, cfg.token, receipt_no)

    async def refresh(self) -> AgentState:
        """Reload counts and settings from the store and publish them."""
        cfg = await self._store.load_sync_config()
        counts = await self._store.outbox_counts()
        self._set(_state_from(cfg, counts, self._state))
        return self._state

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    # ------------------------------------------------------------------- a cycle

    async def _cycle(self, cfg: SyncConfig, attempted: list[int]) -> SyncReport:
        assert cfg.hq_url and cfg.token and cfg.terminal_id
        base, token, terminal_id = cfg.hq_url, cfg.token, cfg.terminal_id
        who_mark: int | None = None
        if not self._identity_checked:
            who_mark = await self._check_identity(base, token, terminal_id)
        changes, pages, page_mark = await self._pull_all(base, token, cfg.change_cursor)
        pulled_at = self._clock()
        mark = page_mark if page_mark is not None else who_mark
        resent, restored = 0, False
        if mark is not None and (mark != cfg.acked_seq or who_mark is not None):
            # HQ's mark moved without a push of ours (restored from a backup, an answer
            # lost after HQ applied it, another copy of this till pushed), or this is a
            # first cycle or one after a failure, when the till checks it in any case.
            check = await self._store.reconcile_hq_mark(contiguous_seq=mark, at=pulled_at)
            resent, restored = check.reset_for_resend, check.hq_went_back
            if resent:
                log.warning(
                    "HQ holds events only up to %d%s: re-sending %d events",
                    mark,
                    " (restored from a backup)" if restored else "",
                    resent,
                )
        pushed = await self._push_all(base, token, terminal_id, attempted, pulled_at)
        restored = restored or pushed.hq_restored
        if restored:
            self._identity_checked = False  # a restored HQ may not know our token
        now = self._clock()
        if not pushed.batches:
            await self._store.record_sync_ok(pushed=True, pulled=True, at=now)
        pruned = await self._maybe_prune()
        self._publish(online=True, last_success_at=now, last_error=None, last_error_at=None)
        return pushed.model_copy(
            update={
                "resent": pushed.resent + resent,
                "hq_restored": restored,
                "contiguous_seq": (
                    pushed.contiguous_seq
                    if pushed.batches
                    else (mark if mark is not None else cfg.acked_seq)
                ),
                "changes": changes,
                "pages": pages,
                "pruned": pruned,
            }
        )

    async def _check_identity(self, base: str, token: str, terminal_id: str) -> int:
        """Ask ``whoami``; refuse a token of another terminal; return HQ's mark."""
        who = await self._http.whoami(base, token)
        self._publish(online=True)
        if who.terminal_id != terminal_id:
            raise SyncRefusedError(
                f"the token belongs to terminal {who.terminal_id}, not {terminal_id}"
            )
        self._identity_checked = True
        return who.contiguous_seq

    async def _push_all(
        self,
        base: str,
        token: str,
        terminal_id: str,
        attempted: list[int],
        pulled_at: datetime,
    ) -> SyncReport:
        """Push every pending batch; each answer is stored while the next batch goes.

        The next batch is read and gzipped while HQ works on this one, and an answer is
        written to the till while HQ works on the next batch: HQ's answer to a batch
        does not change what the next one holds. Answers are still stored one after
        another and in order. Should an answer say HQ went back (restored from a backup),
        the answer to the batch already sent meanwhile is not stored: those events go
        again with the rest from HQ's mark, and HQ answers ``duplicate`` for any it has.
        """
        drain = _Drain()
        recording: asyncio.Task[MarkResult] | None = None
        ready = await self._prepare(0, terminal_id)
        while ready is not None:
            batch, gz, more = ready
            attempted[:] = [e.seq for e in batch]
            # Read and gzip the next batch while HQ works on this one (read-only, so safe
            # to throw away if this answer says HQ went back and we must start over).
            prefetch = (
                asyncio.create_task(self._prepare(batch[-1].seq, terminal_id)) if more else None
            )
            try:
                answer = await self._http.push(
                    base, token, gz, pending_after=self.state.pending - drain.unstored - len(batch)
                )
            except BaseException as exc:
                await _cancel(prefetch)
                await _settle(recording, keep=isinstance(exc, Exception))
                raise
            self._publish(online=True)
            by_id = {e.event_id: e.seq for e in batch}
            outcomes: list[Outcome] = [
                (by_id[str(r.event_id)], r.status, r.reason)
                for r in answer.results
                if str(r.event_id) in by_id
            ]
            if not outcomes:
                await _cancel(prefetch)
                await _settle(recording, keep=True)
                raise SyncProtocolError(
                    f"HQ answered about none of the {len(batch)} events sent (seq "
                    f"{batch[0].seq}..{batch[-1].seq})"
                )
            if recording is not None:
                restart = self._stored(drain, await _finish(recording, prefetch))
                recording = None
                if restart:
                    await _cancel(prefetch)
                    ready = await self._prepare(drain.mark, terminal_id)
                    continue
            drain.sent(batch, outcomes, answer.contiguous_seq)
            for seq, status, reason in outcomes:
                if status == "rejected":
                    log.warning("HQ rejected event %d: %s", seq, reason)
            recording = asyncio.create_task(
                self._store.record_push_answer(
                    outcomes=outcomes,
                    contiguous_seq=answer.contiguous_seq,
                    at=self._clock(),
                    pulled_at=pulled_at,
                )
            )
            attempted.clear()
            try:
                ready = await prefetch if prefetch is not None else None
            except BaseException as exc:
                await _settle(recording, keep=isinstance(exc, Exception))
                raise
            if ready is None:
                # The last answer is stored before deciding we are done.
                restart = self._stored(drain, await recording)
                recording = None
                counts = drain.counts
                if restart:
                    ready = await self._prepare(drain.mark, terminal_id)
                elif counts is None or counts.pending:
                    # A sale may have committed during this round trip, after the prefetch.
                    ready = await self._prepare(batch[-1].seq, terminal_id)
        if drain.unanswered:
            raise SyncProtocolError(
                f"HQ did not answer for {drain.unanswered} events; they stay pending"
            )
        return SyncReport(
            pushed=drain.pushed,
            rejected=drain.rejected,
            batches=drain.batches,
            resent=drain.resent,
            hq_restored=drain.restored,
            contiguous_seq=drain.mark,
        )

    def _stored(self, drain: _Drain, marked: MarkResult) -> bool:
        """Count a stored answer and publish the outbox counts; True when HQ's mark fell
        below events we hold as sent and the drain must go again from it (once per drain:
        a broken HQ cannot make us spin)."""
        drain.pushed += marked.sent
        drain.rejected += marked.rejected
        first = drain.batches == 0
        drain.batches += 1
        _, mark = drain.in_flight.pop(0)
        drain.counts = marked.counts
        if marked.counts is not None:
            if first:
                self._publish(backlog_total=marked.counts.pending + marked.sent + marked.rejected)
            self._publish(
                pending=marked.counts.pending,
                rejected=marked.counts.rejected,
                sent_total=marked.counts.sent,
            )
        if not marked.reset_for_resend:
            return False
        drain.resent += marked.reset_for_resend
        drain.restored = drain.restored or marked.hq_went_back
        if drain.restarted:
            return False
        drain.restarted = True
        drain.mark = mark  # an answer sent for meanwhile is not stored: go again from here
        drain.in_flight = []
        return True

    async def _prepare(
        self, after: int, terminal_id: str
    ) -> tuple[list[PendingEvent], bytes, bool] | None:
        """The next batch after ``after``, its gzip body, and whether more may follow
        (the read was cut by the count or the batch by bytes); None when none is pending."""
        rows = await self._store.read_pending(after_seq=after, limit=self._batch_events)
        if not rows:
            return None
        # Off the event loop: building and gzipping 500 events is CPU work of 20-200 ms
        # that would otherwise stall the till UI sharing this loop during a drain.
        return await asyncio.to_thread(self._body, rows, terminal_id)

    def _body(
        self, rows: list[PendingEvent], terminal_id: str
    ) -> tuple[list[PendingEvent], bytes, bool]:
        batch, body = batch_body(rows, terminal_id, self._batch_bytes)
        more = len(rows) == self._batch_events or len(batch) < len(rows)
        return batch, gzip.compress(body, compresslevel=self._gzip_level), more

    async def _pull_all(self, base: str, token: str, cursor: int) -> tuple[int, int, int | None]:
        """Pull every page; returns (changes, pages, HQ's mark for us from the first page).

        The next page is asked for as soon as a page says there is more, and arrives
        while this one is being stored: HQ reads the feed and the till writes in the same
        time, one request in flight at a time, pages still applied in order.
        """
        changes = pages = 0
        hq_mark: int | None = None
        fetch = self._fetch(base, token, cursor)
        try:
            while True:
                page = await fetch
                if pages == 0 and page.head is not None and page.head < cursor:
                    # HQ's feed is behind what we applied: it was restored from a backup,
                    # and changes it makes now reuse seqs we have passed. Read it all again.
                    log.warning(
                        "HQ's change feed went back to %d (we had %d): re-reading it",
                        page.head,
                        cursor,
                    )
                    cursor = 0
                    fetch = self._fetch(base, token, cursor)
                    continue
                if page.more and page.next <= cursor:
                    raise SyncProtocolError(f"HQ's change feed did not advance past {cursor}")
                if page.more:
                    fetch = self._fetch(base, token, page.next)
                if page.changes or page.next != cursor:
                    await self._store.apply_change_page(page, at=self._clock())
                if pages == 0:
                    hq_mark = page.contiguous_seq
                changes += len(page.changes)
                pages += 1
                cursor = page.next
                if not page.more:
                    return changes, pages, hq_mark
        finally:
            await _cancel(fetch)  # a page asked for and not used: stop it

    def _fetch(self, base: str, token: str, since: int) -> asyncio.Task[ChangePage]:
        return asyncio.create_task(self._http.changes(base, token, since, self._pull_limit))

    async def _maybe_prune(self) -> int:
        """Prune at most hourly: the query scans the outbox, and nothing is urgent."""
        now = self._clock()
        if self._last_prune and now - self._last_prune < timedelta(hours=1):
            return 0
        self._last_prune = now
        pruned = await self._store.prune_sent(older_than=now - self._retention)
        if pruned:
            log.info("pruned %d sent events older than %s", pruned, self._retention)
        return pruned

    # --------------------------------------------------------------------- state

    def _publish(self, **changes: object) -> None:
        self._set(self._state.model_copy(update=changes))

    def _set(self, new: AgentState) -> None:
        if new == self._state:
            return
        self._state = new
        for callback in list(self._subscribers):
            try:
                callback(new)
            except Exception:  # a broken listener must not stop sync
                log.exception("sync state subscriber failed")


@dataclass
class _Drain:
    """One drain's tally, and the answers sent for but not yet stored at the till."""

    pushed: int = 0
    rejected: int = 0
    batches: int = 0
    resent: int = 0
    unanswered: int = 0
    restored: bool = False
    restarted: bool = False
    mark: int = 0
    """HQ's contiguous mark in the newest answer kept."""
    counts: OutboxCounts | None = None
    in_flight: list[tuple[int, int]] = field(default_factory=list)
    """(events answered, HQ's mark) of each answer not yet stored, oldest first."""

    @property
    def unstored(self) -> int:
        """Events whose answer is being stored (no longer pending to HQ's eyes)."""
        return sum(answered for answered, _ in self.in_flight)

    def sent(self, batch: list[PendingEvent], outcomes: list[Outcome], mark: int) -> None:
        """An answer about to be stored."""
        self.unanswered += len(batch) - len(outcomes)
        self.in_flight.append((len(outcomes), mark))
        self.mark = mark


async def _finish(task: asyncio.Task[T], other: asyncio.Task[Any] | None) -> T:
    """``task``'s result; should it fail, ``other`` (a prefetch) is cancelled first."""
    try:
        return await task
    except BaseException:
        await _cancel(other)
        raise


async def _settle(task: asyncio.Task[MarkResult] | None, *, keep: bool) -> None:
    """Before an error leaves the drain: let the answer being stored land (``keep``: it is
    HQ's word and still good), or cancel it (the drain itself is cancelled)."""
    if task is None:
        return
    if not keep:
        await _cancel(task)
        return
    with contextlib.suppress(Exception):
        await task


async def _cancel(task: asyncio.Task[object] | None) -> None:
    """Cancel a prefetch nobody will use, and wait for it to end."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


def _is_transient(exc: Exception) -> bool:
    """Retry with backoff: HQ unreachable or answering oddly (5xx, bad body)."""
    return isinstance(exc, SyncTransportError | SyncProtocolError)


# ------------------------------------------------------------------------ enrollment


async def enroll(
    store: TillStore,
    *,
    server: str,
    token: str,
    client: httpx.AsyncClient | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> WhoAmI:
    """Ask HQ who this token is, then store URL, token and identity at the till.

    Raises :class:`SyncRefusedError` for a bad token, :class:`SyncTransportError` if HQ
    cannot be reached, and whatever the store raises if it refuses the identity (the
    till's sales belong to another terminal).
    """
    base = server.rstrip("/")
    own = client is None
    http_client = client or httpx.AsyncClient(transport=transport, timeout=DEFAULT_TIMEOUT)
    try:
        who = await HqClient(http_client).whoami(base, token)
    finally:
        if own:
            await http_client.aclose()
    await store.enroll(hq_url=base, token=token, who=who)
    return who
