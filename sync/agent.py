"""The background sync agent: the till's outbox up to HQ, HQ's changes down to the till.

It runs as an asyncio task inside the till UI and on its own as ``kedai-till sync``.
Nothing a cashier does waits for it (invariant 9): the agent reads the outbox in a short
read unit of work, talks to HQ with no transaction open, then writes HQ's answer in a
short write unit of work (:mod:`terminal.services.sync_store`). One cycle is:

1. ``whoami``: is HQ there, is the token still ours, and where is HQ's contiguous mark?
   A mark below what HQ told us before means HQ was restored from a backup: the events
   above it go back to pending and are sent again (invariant 6).
2. Push every pending event in ``terminal_seq`` order, in batches bounded by count and
   bytes, gzipped. Events are marked only from HQ's per-event results: accepted and
   duplicate become sent, rejected keeps HQ's reason and never blocks later events.
   A lost answer leaves the batch pending, and the resend is answered ``duplicate``.
3. Pull HQ's change feed page by page from the stored cursor; each page and its cursor
   are applied in one local transaction (invariant 8).

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
from datetime import UTC, datetime, timedelta

import httpx
import stamina
from pydantic import BaseModel, ConfigDict

from sync.batches import batch_body
from sync.errors import (
    NotEnrolledError,
    SyncError,
    SyncProtocolError,
    SyncRefusedError,
    SyncTransportError,
)
from sync.hq_client import DEFAULT_TIMEOUT, HqClient
from sync.protocol import MAX_PUSH_EVENTS, WhoAmI
from terminal.db.engine import Database
from terminal.services import sync_store as store
from terminal.services.errors import TillError

__all__ = [
    "AgentState",
    "SyncAgent",
    "SyncReport",
    "enroll",
    "load_agent_state",
]

log = logging.getLogger(__name__)


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


async def load_agent_state(db: Database) -> AgentState:
    """The agent's state as far as the database knows it (for a UI with no agent)."""
    cfg = await store.load_sync_config(db)
    counts = await store.outbox_counts(db)
    return _state_from(cfg, counts, AgentState())


def _state_from(cfg: store.SyncConfig, counts: store.OutboxCounts, old: AgentState) -> AgentState:
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

    ``client`` (or ``transport``) is injectable for tests; without one the agent makes
    its own long-lived client with :data:`DEFAULT_TIMEOUT` and closes it in
    :meth:`aclose`. ``clock`` is the agent's only source of "now".
    """

    def __init__(
        self,
        db: Database,
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
        self._db = db
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
            except TillError as exc:
                log.warning("sync cycle stopped by the local store: %s", exc.message)
                self._publish(last_error=exc.message, last_error_at=self._clock())
            except Exception:  # the loop outlives any one bad cycle; it is logged in full
                log.exception("sync cycle failed unexpectedly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudged.wait(), timeout=self._tick)

    async def sync_once(self) -> SyncReport:
        """Push everything pending, then pull every page; raise a SyncError on failure.

        The failure is also stored in ``sync_state`` (``last_error``) and published.
        A call while another cycle runs waits for it, then runs its own.
        """
        async with self._cycle_lock:
            return await self._sync_once()

    async def _sync_once(self) -> SyncReport:
        cfg = await store.load_sync_config(self._db)
        await self._refresh_from(cfg)
        if not cfg.enrolled:
            raise NotEnrolledError("this till is not enrolled: run `kedai-till enroll`")
        assert cfg.hq_url and cfg.token and cfg.terminal_id
        attempted: list[int] = []
        try:
            report = await self._cycle(cfg.hq_url, cfg.token, cfg.terminal_id, attempted)
        except SyncError as exc:
            at = self._clock()
            log.warning("sync failed: %s", exc.message)
            await store.record_error(self._db, message=exc.message, at=at, attempted_seqs=attempted)
            self._publish(
                online=not isinstance(exc, SyncTransportError),
                last_error=exc.message,
                last_error_at=at,
            )
            raise
        return report

    async def refresh(self) -> AgentState:
        """Reload counts and settings from the database and publish them."""
        await self._refresh_from(await store.load_sync_config(self._db))
        return self._state

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    # ------------------------------------------------------------------- a cycle

    async def _cycle(
        self, base: str, token: str, terminal_id: str, attempted: list[int]
    ) -> SyncReport:
        who = await self._http.whoami(base, token)
        self._publish(online=True)
        if who.terminal_id != terminal_id:
            raise SyncRefusedError(
                f"the token belongs to terminal {who.terminal_id}, not {terminal_id}"
            )
        check = await store.reconcile_hq_mark(
            self._db, contiguous_seq=who.contiguous_seq, at=self._clock()
        )
        if check.reset_for_resend:
            log.warning(
                "HQ holds events only up to %d%s: re-sending %d events",
                who.contiguous_seq,
                " (restored from a backup)" if check.hq_went_back else "",
                check.reset_for_resend,
            )
        report = await self._push_all(base, token, terminal_id, attempted)
        report = report.model_copy(
            update={
                "resent": report.resent + check.reset_for_resend,
                "hq_restored": report.hq_restored or check.hq_went_back,
            }
        )
        if not report.batches:
            report = report.model_copy(update={"contiguous_seq": who.contiguous_seq})
        await store.record_push_ok(self._db, at=self._clock())
        changes, pages = await self._pull_all(base, token)
        pruned = await self._maybe_prune()
        now = self._clock()
        await self.refresh()
        self._publish(last_success_at=now, last_error=None, last_error_at=None)
        return report.model_copy(update={"changes": changes, "pages": pages, "pruned": pruned})

    async def _push_all(
        self, base: str, token: str, terminal_id: str, attempted: list[int]
    ) -> SyncReport:
        counts = await store.outbox_counts(self._db)
        self._publish(
            backlog_total=counts.pending,
            pending=counts.pending,
            rejected=counts.rejected,
            sent_total=counts.sent,
        )
        pushed = rejected = batches = resent = unanswered = 0
        restored = restarted = False
        mark = 0
        ready = await self._prepare(0, terminal_id)
        while ready is not None:
            batch, gz = ready
            attempted[:] = [e.seq for e in batch]
            # Read and gzip the next batch while HQ works on this one (read-only, so safe
            # to throw away if this answer says HQ went back and we must start over).
            prefetch = asyncio.create_task(self._prepare(batch[-1].seq, terminal_id))
            try:
                answer = await self._http.push(base, token, gz)
            except BaseException:
                prefetch.cancel()
                with contextlib.suppress(BaseException):
                    await prefetch
                raise
            by_id = {e.event_id: e.seq for e in batch}
            outcomes: list[store.Outcome] = [
                (by_id[str(r.event_id)], r.status, r.reason)
                for r in answer.results
                if str(r.event_id) in by_id
            ]
            if not outcomes:
                raise SyncProtocolError(
                    f"HQ answered about none of the {len(batch)} events sent (seq "
                    f"{batch[0].seq}..{batch[-1].seq})"
                )
            marked = await store.record_push_answer(
                self._db, outcomes=outcomes, contiguous_seq=answer.contiguous_seq, at=self._clock()
            )
            attempted.clear()
            batches += 1
            pushed += marked.sent
            rejected += marked.rejected
            unanswered += len(batch) - len(outcomes)
            mark = answer.contiguous_seq
            for seq, status, reason in outcomes:
                if status == "rejected":
                    log.warning("HQ rejected event %d: %s", seq, reason)
            self._publish(
                pending=max(0, self._state.pending - marked.sent - marked.rejected)
                + marked.reset_for_resend,
                rejected=self._state.rejected + marked.rejected,
                sent_total=self._state.sent_total + marked.sent,
            )
            if marked.reset_for_resend:
                resent += marked.reset_for_resend
                restored = restored or marked.hq_went_back
                if not restarted:  # once per drain: a broken HQ cannot make us spin
                    restarted = True
                    prefetch.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await prefetch
                    ready = await self._prepare(mark, terminal_id)
                    continue
            # The prefetch may have run before a sale committed during this round trip.
            ready = await prefetch or await self._prepare(batch[-1].seq, terminal_id)
        if unanswered:
            raise SyncProtocolError(f"HQ did not answer for {unanswered} events; they stay pending")
        return SyncReport(
            pushed=pushed,
            rejected=rejected,
            batches=batches,
            resent=resent,
            hq_restored=restored,
            contiguous_seq=mark,
        )

    async def _prepare(
        self, after: int, terminal_id: str
    ) -> tuple[list[store.PendingEvent], bytes] | None:
        """The next batch after ``after`` and its gzip body, or None when none is pending."""
        rows = await store.read_pending(self._db, after_seq=after, limit=self._batch_events)
        if not rows:
            return None
        batch, body = batch_body(rows, terminal_id, self._batch_bytes)
        return batch, gzip.compress(body, compresslevel=self._gzip_level)

    async def _pull_all(self, base: str, token: str) -> tuple[int, int]:
        cursor = (await store.load_sync_config(self._db)).change_cursor
        changes = pages = 0
        while True:
            page = await self._http.changes(base, token, cursor, self._pull_limit)
            if page.more and page.next <= cursor:
                raise SyncProtocolError(f"HQ's change feed did not advance past {cursor}")
            await store.apply_change_page(self._db, page, at=self._clock())
            changes += len(page.changes)
            pages += 1
            cursor = page.next
            if not page.more:
                return changes, pages

    async def _maybe_prune(self) -> int:
        """Prune at most hourly: the query scans the outbox, and nothing is urgent."""
        now = self._clock()
        if self._last_prune and now - self._last_prune < timedelta(hours=1):
            return 0
        self._last_prune = now
        pruned = await store.prune_sent(self._db, older_than=now - self._retention)
        if pruned:
            log.info("pruned %d sent events older than %s", pruned, self._retention)
        return pruned

    # --------------------------------------------------------------------- state

    async def _refresh_from(self, cfg: store.SyncConfig) -> None:
        counts = await store.outbox_counts(self._db)
        new = _state_from(cfg, counts, self._state)
        self._set(new)

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


def _is_transient(exc: Exception) -> bool:
    """Retry with backoff: HQ unreachable or answering oddly (5xx, bad body)."""
    return isinstance(exc, SyncTransportError | SyncProtocolError)


# ------------------------------------------------------------------------ enrollment


async def enroll(
    db: Database,
    *,
    server: str,
    token: str,
    client: httpx.AsyncClient | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> WhoAmI:
    """Ask HQ who this token is, then store URL, token and identity at the till.

    Raises :class:`SyncRefusedError` for a bad token, :class:`SyncTransportError` if HQ
    cannot be reached, ``EnrollmentRefused`` if this till's sales belong to another
    identity. The database file (and WAL/SHM) is then made owner-only: it holds the token.
    """
    base = server.rstrip("/")
    own = client is None
    http_client = client or httpx.AsyncClient(transport=transport, timeout=DEFAULT_TIMEOUT)
    try:
        who = await HqClient(http_client).whoami(base, token)
    finally:
        if own:
            await http_client.aclose()
    await store.enroll_till(db, hq_url=base, token=token, who=who)
    store.restrict_permissions(db.path)
    return who
