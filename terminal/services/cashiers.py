"""Cashier log-in by PIN, lockout, and manager approval, all checked locally (offline).

PINs are only stored as slow scrypt hashes (synced down from HQ), so each check costs
tens of milliseconds of CPU: it runs in a thread (``hashlib.scrypt`` releases the GIL)
so the till's screen keeps painting while it works.

The login screen asks for a PIN alone, as cashiers expect; a PIN does not say whose it
is, so a wrong PIN counts against every active cashier and the lockout after
:data:`MAX_FAILURES` wrong PINs locks the till (not one cashier) for
:data:`LOCKOUT`: that is what stops someone trying PINs at an unattended till. When the
caller names the cashier (``cashier_id``), only that cashier's record counts.

Manager approvals count wrong PINs the same way, against the managers' records, but on
a counter of their own (``approval_failed_attempts``): five wrong manager PINs lock
approvals for :data:`LOCKOUT` while cashiers can still log in, and a locked log-in does
not stop a manager approving. Every approval granted, and every wrong or locked-out
manager PIN, is an audit event for HQ (``approval.granted`` / ``approval.refused``); a
granted one is also a row in ``approvals``, which services that write check a request's
approvals against. A manager's PIN can unlock a till whose log-in is locked
(:func:`unlock_till`).

The scrypt checks run *outside* any transaction: candidates are read with
:func:`reading`, verified, and only then a short :func:`writing` records the outcome
(re-checking the lock and the hash there, so a concurrent failure or a PIN HQ changed
meanwhile is not missed). Holding ``BEGIN IMMEDIATE`` through ~40 ms of hashing per
cashier would block the sync agent and every other writer on this till.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sync.pins import verify_pin
from sync.protocol import ApprovalGranted, ApprovalRefused
from terminal.db.engine import Database
from terminal.db.models import ApprovalRow, Cashier
from terminal.domain.words import plural
from terminal.services.errors import LockedError, LoginError
from terminal.services.outbox import append_event
from terminal.services.schemas import ApprovalView, CashierView
from terminal.services.uow import reading, writing

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=5)

ApprovalAction = Literal[
    "refund",
    "void",
    "price_override",
    "discount",
    "no_sale",
    "qty_decrease",
    "cancel",
    "refund_to_cash",
    "unlock",
]


@dataclass(frozen=True, slots=True)
class _Counter:
    """Which pair of columns counts wrong PINs: log-in's or approvals'."""

    failed: Any
    locked: Any


_LOGIN = _Counter(Cashier.failed_attempts, Cashier.locked_until)
_APPROVAL = _Counter(Cashier.approval_failed_attempts, Cashier.approval_locked_until)


@dataclass(frozen=True, slots=True)
class _Candidate:
    id: uuid.UUID
    name: str
    role: str
    pin_hash: str


_CANDIDATE_COLUMNS = (Cashier.id, Cashier.name, Cashier.role, Cashier.pin_hash)


async def _match(pin: str, candidates: list[_Candidate]) -> _Candidate | None:
    def check() -> _Candidate | None:
        for c in candidates:
            if verify_pin(pin, c.pin_hash):
                return c
        return None

    return await asyncio.to_thread(check)


async def _candidates(
    db: Database,
    *,
    cashier_id: uuid.UUID | None = None,
    managers_only: bool = False,
    counter: _Counter = _LOGIN,
) -> tuple[list[_Candidate], datetime | None]:
    """Active cashiers a PIN may belong to, and the latest lock among them (one read)."""
    query = select(*_CANDIDATE_COLUMNS, counter.locked.label("locked_until")).where(
        Cashier.active.is_(True)
    )
    if cashier_id is not None:
        query = query.where(Cashier.id == cashier_id)
    if managers_only:
        query = query.where(Cashier.role == "manager")
    async with reading(db) as s:
        rows = (await s.execute(query)).all()
    locks = [r.locked_until for r in rows if r.locked_until is not None]
    return [_Candidate(r.id, r.name, r.role, r.pin_hash) for r in rows], max(locks, default=None)


def _locked_message(until: datetime, at: datetime, *, what: str) -> str:
    minutes = max(1, int((until - at).total_seconds() + 59) // 60)
    return f"Too many wrong PINs: {what} locked for {plural(minutes, 'more minute')}."


async def _lock_of(s: AsyncSession, ids: list[uuid.UUID], counter: _Counter) -> datetime | None:
    until: datetime | None = (
        await s.execute(select(func.max(counter.locked)).where(Cashier.id.in_(ids)))
    ).scalar_one()
    return until


async def _check_lock(
    s: AsyncSession, ids: list[uuid.UUID], at: datetime, *, what: str, counter: _Counter = _LOGIN
) -> None:
    """Inside the recording transaction: a lock set meanwhile still refuses."""
    until = await _lock_of(s, ids, counter)
    if until is not None and until > at:
        raise LockedError(_locked_message(until, at, what=what))


async def _still_valid(s: AsyncSession, found: _Candidate) -> bool:
    """The matched record is unchanged (HQ may have changed the PIN or deactivated it)."""
    row = (
        await s.execute(
            select(Cashier.pin_hash).where(Cashier.id == found.id, Cashier.active.is_(True))
        )
    ).first()
    return row is not None and row.pin_hash == found.pin_hash


async def _count_failure(
    s: AsyncSession,
    ids: list[uuid.UUID],
    at: datetime,
    *,
    what: str,
    counter: _Counter = _LOGIN,
) -> tuple[str, int, bool]:
    """Add one wrong PIN against ``ids``; lock them at :data:`MAX_FAILURES`.

    Returns the message, the count of wrong PINs in a row, and whether this locked.
    """
    current = (
        await s.execute(select(func.max(counter.failed)).where(Cashier.id.in_(ids)))
    ).scalar_one()
    failures = (current or 0) + 1
    failed, locked = counter.failed.key, counter.locked.key
    if failures >= MAX_FAILURES:
        await s.execute(
            update(Cashier).where(Cashier.id.in_(ids)).values({failed: 0, locked: at + LOCKOUT})
        )
        message = (
            f"Wrong PIN {failures} times: {what} locked for "
            f"{int(LOCKOUT.total_seconds() // 60)} minutes."
        )
        return message, failures, True
    await s.execute(update(Cashier).where(Cashier.id.in_(ids)).values({failed: failures}))
    return (
        f"Wrong PIN ({plural(MAX_FAILURES - failures, 'try', 'tries')} left before lockout).",
        failures,
        False,
    )


async def _reset_failures(
    s: AsyncSession, ids: list[uuid.UUID], counter: _Counter = _LOGIN
) -> None:
    await s.execute(
        update(Cashier)
        .where(Cashier.id.in_(ids))
        .values({counter.failed.key: 0, counter.locked.key: None})
    )


async def login(
    db: Database, pin: str, *, cashier_id: uuid.UUID | None = None, now: datetime | None = None
) -> CashierView:
    """Return the cashier whose PIN this is, or raise :class:`LoginError` (and count it)."""
    at = now or datetime.now(UTC)
    if not pin.strip().isdigit():
        raise LoginError("Type your PIN (digits only) and press Enter.")
    what = "the till is"
    candidates, locked_until = await _candidates(db, cashier_id=cashier_id)
    if not candidates:
        raise LoginError("No cashiers are set up on this till yet: HQ must sync them.")
    if locked_until is not None and locked_until > at:
        raise LockedError(_locked_message(locked_until, at, what=what))
    found = await _match(pin.strip(), candidates)  # no transaction open while hashing
    ids = [c.id for c in candidates]
    async with writing(db) as s:
        await _check_lock(s, ids, at, what=what)
        if found is not None and await _still_valid(s, found):
            await _reset_failures(s, ids)
            return CashierView(id=found.id, name=found.name, role=found.role)
        message, _, _ = await _count_failure(s, ids, at, what=what)
    # Raised after COMMIT so the failure count is kept.
    raise LoginError(message)


async def approve(
    db: Database,
    pin: str,
    *,
    action: ApprovalAction,
    cashier_id: uuid.UUID,
    sale_id: uuid.UUID | None = None,
    note: str = "",
    now: datetime | None = None,
) -> ApprovalView:
    """A manager's PIN approves ``action``; the approval is an audit event for HQ.

    Wrong PINs count on the managers' approval counter (not log-in's) and lock approvals
    at :data:`MAX_FAILURES`; each wrong or locked-out attempt is an ``approval.refused``
    event. The returned ``approval_id`` is what a request carries as its approval.
    """
    at = now or datetime.now(UTC)
    what = "approvals are"
    candidates, locked_until = await _candidates(db, managers_only=True, counter=_APPROVAL)
    if not candidates:
        raise LoginError("No manager is set up on this till: nothing can be approved.")
    ids = [c.id for c in candidates]
    if locked_until is not None and locked_until > at:
        await _refused(db, action=action, cashier_id=cashier_id, failures=0, at=at, note=note)
        raise LockedError(_locked_message(locked_until, at, what=what))
    found = await _match(pin.strip(), candidates) if pin.strip().isdigit() else None
    async with writing(db) as s:
        until = await _lock_of(s, ids, _APPROVAL)
        if until is not None and until > at:
            counted = _locked_message(until, at, what=what)
            await _append_refusal(s, action, cashier_id, 0, True, note, at)
        elif found is not None and await _still_valid(s, found):
            await _reset_failures(s, ids, _APPROVAL)
            approval_id = await _append_approval(
                s,
                action=action,
                manager_id=found.id,
                cashier_id=cashier_id,
                sale_id=sale_id,
                note=note,
                at=at,
            )
            return ApprovalView(
                id=found.id,
                name=found.name,
                role="manager",
                approval_id=approval_id,
                action=action,
            )
        else:
            counted, failures, locked = await _count_failure(
                s, ids, at, what=what, counter=_APPROVAL
            )
            await _append_refusal(s, action, cashier_id, failures, locked, note, at)
            counted = f"That is not a manager's PIN: nothing was approved. {counted}"
    # Raised after COMMIT so the failure count and its audit event are kept.
    raise LoginError(counted)


async def _refused(
    db: Database,
    *,
    action: ApprovalAction,
    cashier_id: uuid.UUID,
    failures: int,
    at: datetime,
    note: str,
) -> None:
    async with writing(db) as s:
        await _append_refusal(s, action, cashier_id, failures, True, note, at)


async def _append_refusal(
    s: AsyncSession,
    action: ApprovalAction,
    cashier_id: uuid.UUID,
    failures: int,
    locked: bool,
    note: str,
    at: datetime,
) -> None:
    event = ApprovalRefused(
        attempt_id=uuid.uuid4(),
        action=action,
        cashier_id=cashier_id,
        failed_attempts=failures,
        locked=locked,
        note=note,
    )
    await append_event(s, "approval.refused", event, at)


async def unlock_till(db: Database, pin: str, *, now: datetime | None = None) -> ApprovalView:
    """A manager's PIN lifts a log-in lockout (audited as an ``unlock`` approval).

    Uses the approval counter, so a till locked by wrong log-in PINs can still be opened
    by a manager, and a wrong manager PIN here counts as any wrong manager PIN does.
    """
    at = now or datetime.now(UTC)
    async with reading(db) as s:
        anyone = (await s.execute(select(Cashier.id).where(Cashier.active.is_(True)))).scalars()
        ids = list(anyone)
    view = await approve(
        db, pin, action="unlock", cashier_id=ids[0] if ids else uuid.uuid4(), now=at
    )
    async with writing(db) as s:
        await _reset_failures(s, ids)
    return view


async def _append_approval(
    s: AsyncSession,
    *,
    action: ApprovalAction,
    manager_id: uuid.UUID,
    cashier_id: uuid.UUID,
    sale_id: uuid.UUID | None,
    note: str,
    at: datetime,
) -> uuid.UUID:
    approval_id = uuid.uuid4()
    event = ApprovalGranted(
        approval_id=approval_id,
        action=action,
        manager_id=manager_id,
        cashier_id=cashier_id,
        sale_id=sale_id,
        note=note,
    )
    await append_event(s, "approval.granted", event, at)
    await s.execute(
        insert(ApprovalRow),
        [
            {
                "id": approval_id,
                "action": action,
                "manager_id": manager_id,
                "cashier_id": cashier_id,
                "sale_id": sale_id,
                "created_at": at,
            }
        ],
    )
    return approval_id


async def record_own_approval(
    db: Database,
    *,
    action: ApprovalAction,
    manager_id: uuid.UUID,
    sale_id: uuid.UUID | None = None,
    note: str = "",
    now: datetime | None = None,
) -> ApprovalView:
    """A logged-in manager approves their own action: no PIN, but still audited for HQ.

    Raises :class:`LoginError` if ``manager_id`` is not an active manager on this till.
    """
    at = now or datetime.now(UTC)
    async with writing(db) as s:
        role = (
            await s.execute(
                select(Cashier.role).where(Cashier.id == manager_id, Cashier.active.is_(True))
            )
        ).scalar_one_or_none()
        name = (await s.execute(select(Cashier.name).where(Cashier.id == manager_id))).scalar()
        if role != "manager" or name is None:
            raise LoginError("Only a manager can approve this: nothing was approved.")
        approval_id = await _append_approval(
            s,
            action=action,
            manager_id=manager_id,
            cashier_id=manager_id,
            sale_id=sale_id,
            note=note,
            at=at,
        )
    return ApprovalView(
        id=manager_id, name=name, role="manager", approval_id=approval_id, action=action
    )
