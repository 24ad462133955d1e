"""The till-side data functions the sync agent calls, each one short unit of work.

The agent never holds a SQLite transaction across a network call: it reads (a short
read unit of work here), talks to HQ, then writes the outcome (a short ``BEGIN
IMMEDIATE`` unit of work here). So a cashier's checkout waits at most for one of these
few-millisecond writes, never for HQ. Every function takes plain values and returns
plain values or frozen pydantic models, never ORM objects.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import (
    Delete,
    String,
    Table,
    bindparam,
    delete,
    exists,
    func,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from sync.agent.port import (
    MarkResult,
    OutboxCounts,
    Outcome,
    PendingEvent,
    StoreError,
    SyncConfig,
)
from sync.protocol import ChangePage, WhoAmI
from terminal.db.engine import Database
from terminal.db.models import (
    Base,
    Customer,
    LoyaltyEntry,
    OutboxEvent,
    Sale,
    StoreSettings,
    SyncState,
    db_time,
)
from terminal.services.errors import NotInitialisedError, TillError
from terminal.services.outbox import count_outbox
from terminal.services.reference import apply_changes, product_writer
from terminal.services.uow import reading, writing, writing_in_one_trip

OUTBOX: Table = OutboxEvent.__table__  # type: ignore[assignment]
LEDGER: Table = LoyaltyEntry.__table__  # type: ignore[assignment]
CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]


class EnrollmentRefused(TillError):
    """This till's existing sales belong to another outlet/terminal identity."""

    code = "enroll_refused"


# ---------------------------------------------------------------------------- reads


async def load_sync_config(db: Database) -> SyncConfig:
    async with reading(db) as s:
        row = (await s.execute(select(SyncState).where(SyncState.id == 1))).scalar_one_or_none()
    if row is None:
        raise NotInitialisedError("This till has no sync settings: run `kedai-till init`.")
    return SyncConfig(
        hq_url=row.hq_url,
        token=row.token,
        terminal_id=row.terminal_id,
        change_cursor=row.change_cursor,
        acked_seq=row.acked_seq,
        last_push_ok_at=row.last_push_ok_at,
        last_pull_ok_at=row.last_pull_ok_at,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
    )


async def outbox_counts(db: Database) -> OutboxCounts:
    async with reading(db) as s:
        return await count_outbox(s)


async def read_pending(db: Database, *, after_seq: int, limit: int) -> list[PendingEvent]:
    """Pending events after ``after_seq`` in ``terminal_seq`` order (one short read).

    Reads raw column values (no ORM objects, no datetime round trip): the stored
    ``occurred_at`` text is already the ISO-8601 UTC form the wire carries.
    """
    stmt = (
        select(
            OUTBOX.c.seq,
            OUTBOX.c.event_id,
            OUTBOX.c.type,
            OUTBOX.c.schema_version,
            type_coerce(OUTBOX.c.occurred_at, String),
            OUTBOX.c.payload,
        )
        .where(OUTBOX.c.status == "pending", OUTBOX.c.seq > after_seq)
        .order_by(OUTBOX.c.seq)
        .limit(limit)
    )
    async with reading(db) as s:
        rows = (await s.execute(stmt)).all()
    return [
        PendingEvent(
            seq=seq,
            event_id=str(event_id),
            type=type_,
            schema_version=version,
            occurred_at=occurred,
            payload=payload,
        )
        for seq, event_id, type_, version, occurred, payload in rows
    ]


# --------------------------------------------------------------------------- writes


async def record_push_answer(
    db: Database,
    *,
    outcomes: Sequence[Outcome],
    contiguous_seq: int,
    at: datetime,
    pulled_at: datetime | None = None,
) -> MarkResult:
    """Apply HQ's per-event answer to one batch, in one write unit of work.

    Only events HQ named are touched: accepted/duplicate become ``sent``, rejected
    become ``rejected`` with HQ's reason; an event HQ did not mention stays pending and
    goes again. In the same transaction the loyalty entries of the sent events are
    marked counted at HQ and their points added to ``customers.hq_balance``, so the
    balance the till shows (HQ balance + uncounted deltas) does not jump; the next pull
    overwrites ``hq_balance`` with HQ's own figure. Then HQ's contiguous mark is
    compared (see :func:`_reconcile_mark`) and stored with the cycle's bookkeeping
    (last good push and pull, last error cleared), and the outbox is counted for the
    agent's status: everything an online sale needs after its push, in one write.
    """
    sent = [seq for seq, status, _ in outcomes if status != "rejected"]
    rejected = [
        {"b_seq": seq, "b_reason": reason or "rejected by HQ"}
        for seq, status, reason in outcomes
        if status == "rejected"
    ]
    async with writing(db) as s:
        if sent:
            await s.execute(
                update(OUTBOX)
                .where(OUTBOX.c.seq.in_(sent))
                .values(
                    status="sent",
                    sent_at=at,
                    reason=None,
                    attempts=OUTBOX.c.attempts + 1,
                )
            )
            accepted = [seq for seq, status, _ in outcomes if status == "accepted"]
            await _count_loyalty_at_hq(s, accepted, sent)
        if rejected:
            await s.execute(
                update(OUTBOX)
                .where(OUTBOX.c.seq == bindparam("b_seq"))
                .values(
                    status="rejected", reason=bindparam("b_reason"), attempts=OUTBOX.c.attempts + 1
                )
                .execution_options(synchronize_session=False),
                rejected,
            )
        reset, went_back = await _reconcile_mark(s, contiguous_seq)
        values: dict[str, object] = {
            "acked_seq": contiguous_seq,
            "last_attempt_at": at,
            "last_push_ok_at": at,
            "last_error": None,
            "last_error_at": None,
        }
        if pulled_at is not None:
            values["last_pull_ok_at"] = pulled_at
        await s.execute(update(SyncState).where(SyncState.id == 1).values(**values))
        counts = await count_outbox(s)
    return MarkResult(
        sent=len(sent),
        rejected=len(rejected),
        reset_for_resend=reset,
        hq_went_back=went_back,
        counts=counts,
    )


async def _count_loyalty_at_hq(s: AsyncSession, accepted: list[int], sent: list[int]) -> None:
    """Move the points of events HQ has just applied into ``hq_balance``; mark every sent
    event's points as counted.

    Only ``accepted`` events add: HQ applied them now, after the balance this till last
    pulled. A ``duplicate`` was applied by HQ earlier (its answer was lost), so the
    balance already pulled may hold its points: adding them again would show them twice
    until the member next changes at HQ. Its points are only marked counted; if the
    last pull came before HQ applied it, the next pull brings HQ's figure with them.

    The batch's points are summed per member by ``event_seq`` (indexed), then each
    member's balance is updated by key: a correlated sum per member would read every
    uncounted entry the member has, thousands on a till that was offline for days.
    """
    ledger = LEDGER
    deltas = (
        await s.execute(
            select(ledger.c.customer_id, func.sum(ledger.c.points))
            .where(ledger.c.counted_at_hq.is_(False), ledger.c.event_seq.in_(accepted))
            .group_by(ledger.c.customer_id)
        )
    ).all()
    if deltas:
        await s.execute(
            update(CUSTOMERS)
            .where(CUSTOMERS.c.id == bindparam("b_customer"))
            .values(hq_balance=CUSTOMERS.c.hq_balance + bindparam("b_points")),
            [{"b_customer": customer, "b_points": points} for customer, points in deltas],
        )
    await s.execute(
        update(ledger)
        .where(ledger.c.counted_at_hq.is_(False), ledger.c.event_seq.in_(sent))
        .values(counted_at_hq=True)
        .execution_options(synchronize_session=False)
    )


async def _reconcile_mark(s: AsyncSession, mark: int) -> tuple[int, bool]:
    """Compare HQ's contiguous mark with what this till believes HQ holds.

    HQ's mark only ever rises, unless HQ was restored from an older copy of its
    database. Then it is below the mark it told us before (``acked_seq``), and below
    events we marked sent: those are set back to pending (rejected ones too, since HQ's
    quarantine was restored with it) so the agent sends them again; HQ answers
    ``duplicate`` for any it still has. The same applies whenever the event right after
    HQ's mark is one we hold as sent: HQ is missing it, whatever the reason. If that
    event was pruned there is nothing to resend and nothing is reset (no resend loop).
    Returns (events reset, HQ went back). HQ's change feed went back with it, so the
    change cursor is rewound to 0 and the next pull re-reads everything (idempotent).
    """
    next_status_q = select(OUTBOX.c.status).where(OUTBOX.c.seq == mark + 1).scalar_subquery()
    acked, next_status = (
        await s.execute(select(SyncState.acked_seq, next_status_q).where(SyncState.id == 1))
    ).one()
    went_back = mark < acked
    if not went_back and next_status in (None, "pending"):
        return 0, False
    result = await s.execute(
        update(OUTBOX)
        .where(OUTBOX.c.seq > mark, OUTBOX.c.status.in_(("sent", "rejected")))
        .values(status="pending", sent_at=None, reason=None)
    )
    if went_back:
        await s.execute(update(SyncState).where(SyncState.id == 1).values(change_cursor=0))
    return int(result.rowcount), went_back  # type: ignore[attr-defined]


async def reconcile_hq_mark(db: Database, *, contiguous_seq: int, at: datetime) -> MarkResult:
    """Check HQ's mark as a change page reported it, before a push (one write unit of work)."""
    async with writing(db) as s:
        reset, went_back = await _reconcile_mark(s, contiguous_seq)
        await s.execute(
            update(SyncState)
            .where(SyncState.id == 1)
            .values(acked_seq=contiguous_seq, last_attempt_at=at)
        )
    return MarkResult(sent=0, rejected=0, reset_for_resend=reset, hq_went_back=went_back)


async def apply_change_page(db: Database, page: ChangePage, *, at: datetime) -> None:
    """Apply one pulled page and store its cursor in the same unit of work (invariant 8).

    A page of products alone (every page of a catalog pull or a price change) is one
    function on the driver's thread, ``BEGIN IMMEDIATE`` to ``COMMIT``: one hand-off
    instead of about eight through a session, and none of its per-statement work.
    """
    if all(c.kind == "product" for c in page.changes):
        write = product_writer([c.data for c in page.changes if c.kind == "product"])
        cursor: tuple[object, ...] = (page.next,) if page.more else (page.next, db_time(at))
        sql = _CURSOR_MORE if page.more else _CURSOR_LAST

        def unit(conn: sqlite3.Connection) -> None:
            write(conn)
            conn.execute(sql, cursor)

        await writing_in_one_trip(db, unit)
        return
    values: dict[str, object] = {"change_cursor": page.next}
    if not page.more:
        values["last_pull_ok_at"] = at
    async with writing(db) as s:
        await apply_changes(s, page.changes)
        await s.execute(update(SyncState).where(SyncState.id == 1).values(**values))


_CURSOR_MORE = "UPDATE sync_state SET change_cursor = ? WHERE id = 1"
_CURSOR_LAST = "UPDATE sync_state SET change_cursor = ?, last_pull_ok_at = ? WHERE id = 1"


async def record_sync_ok(db: Database, *, pushed: bool, pulled: bool, at: datetime) -> None:
    """A cycle finished: stamp what it did and clear the last error (one write)."""
    values: dict[str, object] = {"last_attempt_at": at, "last_error": None, "last_error_at": None}
    if pushed:
        values["last_push_ok_at"] = at
    if pulled:
        values["last_pull_ok_at"] = at
    async with writing(db) as s:
        await s.execute(update(SyncState).where(SyncState.id == 1).values(**values))


async def record_error(
    db: Database, *, message: str, at: datetime, attempted_seqs: Sequence[int] = ()
) -> None:
    """Store the failure (and count the attempt on events whose answer never came)."""
    async with writing(db) as s:
        await s.execute(
            update(SyncState)
            .where(SyncState.id == 1)
            .values(last_error=message, last_error_at=at, last_attempt_at=at)
        )
        if attempted_seqs:
            await s.execute(
                update(OUTBOX)
                .where(OUTBOX.c.seq.in_(list(attempted_seqs)))
                .values(attempts=OUTBOX.c.attempts + 1)
            )


def _referencing_columns() -> list[tuple[Table, str]]:
    """Every (table, column) with a foreign key to ``outbox.seq`` (sales, ledger, ...).

    Found from the metadata so that a table the till core adds later is respected too.
    """
    found: list[tuple[Table, str]] = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "outbox" and fk.column.name == "seq":
                found.append((table, fk.parent.name))
    return found


async def prune_sent(db: Database, *, older_than: datetime) -> int:
    """Delete sent events past retention that nothing local refers to; return how many.

    Only events at or below HQ's contiguous mark are considered (HQ provably holds them
    all). A ``sale.completed`` event stays for as long as its sale row does, because
    ``sales.event_seq`` and ``loyalty_ledger.event_seq`` refer to it: the outbox row is
    the sale's source of truth at this till, and keeping it means such an event can
    still be re-sent to an HQ restored from a very old backup. What is pruned are the
    events without local rows (customer created, shift closed, approvals...).
    """
    async with writing(db) as s:
        acked = (await s.execute(select(SyncState.acked_seq).where(SyncState.id == 1))).scalar_one()
        result = await s.execute(prune_statement(acked=acked, older_than=older_than))
    return int(result.rowcount)  # type: ignore[attr-defined]


def prune_statement(*, acked: int, older_than: datetime) -> Delete:
    """The delete :func:`prune_sent` runs. Each referencing column is indexed (till
    migration 0007), so every "does a row still name this event" is one index search."""
    refs = [
        ~exists().where(table.c[column] == OUTBOX.c.seq) for table, column in _referencing_columns()
    ]
    return delete(OUTBOX).where(
        OUTBOX.c.status == "sent",
        OUTBOX.c.seq <= acked,
        OUTBOX.c.sent_at < older_than,
        *refs,
    )


# ----------------------------------------------------------------------- enrollment


async def enroll_till(db: Database, *, hq_url: str, token: str, who: WhoAmI) -> None:
    """Store HQ's URL, our token and identity; take outlet/terminal codes from HQ.

    Refused (nothing written) when this till already has events under other codes:
    their receipt numbers and terminal sequence belong to the old identity, and
    re-labelling them would make HQ see another terminal's numbers.
    """
    async with writing(db) as s:
        store = (
            await s.execute(select(StoreSettings.outlet_code, StoreSettings.terminal_code))
        ).first()
        if store is None:
            raise NotInitialisedError("This till has no store settings: run `kedai-till init`.")
        has_history = (
            await s.execute(
                select(
                    exists(select(OUTBOX.c.seq)).label("events")
                    | exists(select(Sale.id)).label("sales")
                )
            )
        ).scalar_one()
        same = (store.outlet_code, store.terminal_code) == (who.outlet_code, who.terminal_code)
        if has_history and not same:
            raise EnrollmentRefused(
                f"this till already has sales as {store.outlet_code}-{store.terminal_code}; "
                f"it cannot become {who.terminal_id} (use a fresh database for a new terminal)"
            )
        previous = (
            await s.execute(select(SyncState.terminal_id).where(SyncState.id == 1))
        ).scalar_one()
        values: dict[str, object] = {
            "hq_url": hq_url.rstrip("/"),
            "token": token,
            "terminal_id": who.terminal_id,
            "last_error": None,
            "last_error_at": None,
        }
        if previous != who.terminal_id:
            values |= {"change_cursor": 0, "acked_seq": 0}
        await s.execute(update(SyncState).where(SyncState.id == 1).values(**values))
        await s.execute(
            update(StoreSettings)
            .where(StoreSettings.id == 1)
            .values(outlet_code=who.outlet_code, terminal_code=who.terminal_code)
        )


def restrict_permissions(path: Path) -> None:
    """Make the database (and its WAL/SHM files) readable by the owner only: it holds
    the terminal's bearer token."""
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists():
            os.chmod(candidate, stat.S_IRUSR | stat.S_IWUSR)


# ------------------------------------------------------------------ the agent's port


class TillSyncStore:
    """The till's implementation of :class:`sync.agent.port.TillStore` over its database.

    Each method is the function of the same name above (one unit of work); a till error
    (locked, full, not initialised) is handed to the agent as a
    :class:`~sync.agent.port.StoreError` with the same message, so the agent needs to
    know nothing of the till's error classes. Enrollment keeps the till's own errors:
    only the till's command line calls it.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    async def load_sync_config(self) -> SyncConfig:
        with _for_agent():
            return await load_sync_config(self.db)

    async def outbox_counts(self) -> OutboxCounts:
        with _for_agent():
            return await outbox_counts(self.db)

    async def read_pending(self, *, after_seq: int, limit: int) -> list[PendingEvent]:
        with _for_agent():
            return await read_pending(self.db, after_seq=after_seq, limit=limit)

    async def record_push_answer(
        self,
        *,
        outcomes: Sequence[Outcome],
        contiguous_seq: int,
        at: datetime,
        pulled_at: datetime | None = None,
    ) -> MarkResult:
        with _for_agent():
            return await record_push_answer(
                self.db,
                outcomes=outcomes,
                contiguous_seq=contiguous_seq,
                at=at,
                pulled_at=pulled_at,
            )

    async def reconcile_hq_mark(self, *, contiguous_seq: int, at: datetime) -> MarkResult:
        with _for_agent():
            return await reconcile_hq_mark(self.db, contiguous_seq=contiguous_seq, at=at)

    async def apply_change_page(self, page: ChangePage, *, at: datetime) -> None:
        with _for_agent():
            await apply_change_page(self.db, page, at=at)

    async def record_sync_ok(self, *, pushed: bool, pulled: bool, at: datetime) -> None:
        with _for_agent():
            await record_sync_ok(self.db, pushed=pushed, pulled=pulled, at=at)

    async def record_error(
        self, *, message: str, at: datetime, attempted_seqs: Sequence[int] = ()
    ) -> None:
        with _for_agent():
            await record_error(self.db, message=message, at=at, attempted_seqs=attempted_seqs)

    async def prune_sent(self, *, older_than: datetime) -> int:
        with _for_agent():
            return await prune_sent(self.db, older_than=older_than)

    async def enroll(self, *, hq_url: str, token: str, who: WhoAmI) -> None:
        await enroll_till(self.db, hq_url=hq_url, token=token, who=who)
        restrict_permissions(self.db.path)


@contextmanager
def _for_agent() -> Iterator[None]:
    try:
        yield
    except TillError as exc:
        raise StoreError(exc.message) from exc
