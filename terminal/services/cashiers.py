"""Cashier log-in by PIN, lockout, and manager approval, all checked locally (offline).

PINs are only stored as slow scrypt hashes (synced down from HQ), so each check costs
tens of milliseconds of CPU: it runs in a thread (``hashlib.scrypt`` releases the GIL)
so the till's screen keeps painting while it works.

The login screen asks for a PIN alone, as cashiers expect; a PIN does not say whose it
is, so a wrong PIN counts against every active cashier and the lockout after
:data:`MAX_FAILURES` wrong PINs locks the till (not one cashier) for
:data:`LOCKOUT`: that is what stops someone trying PINs at an unattended till. When the
caller names the cashier (``cashier_id``), only that cashier's record counts.

Manager approvals count wrong PINs the same way, against the managers' records: five
wrong manager PINs lock approvals (and, as those records are the till's too, log-in)
for :data:`LOCKOUT`.

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
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sync.pins import verify_pin
from sync.protocol import ApprovalGranted
from terminal.db.engine import Database
from terminal.db.models import Cashier
from terminal.domain.words import plural
from terminal.services.errors import LoginError
from terminal.services.outbox import append_event
from terminal.services.schemas import CashierView
from terminal.services.uow import reading, writing

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=5)

ApprovalAction = Literal["refund", "void", "price_override", "discount", "no_sale"]


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
    db: Database, *, cashier_id: uuid.UUID | None = None, managers_only: bool = False
) -> tuple[list[_Candidate], datetime | None]:
    """Active cashiers a PIN may belong to, and the latest lock among them (one read)."""
    query = select(*_CANDIDATE_COLUMNS, Cashier.locked_until).where(Cashier.active.is_(True))
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


async def _check_lock(s: AsyncSession, ids: list[uuid.UUID], at: datetime, *, what: str) -> None:
    """Inside the recording transaction: a lock set meanwhile still refuses."""
    until = (
        await s.execute(select(func.max(Cashier.locked_until)).where(Cashier.id.in_(ids)))
    ).scalar_one()
    if until is not None and until > at:
        raise LoginError(_locked_message(until, at, what=what))


async def _still_valid(s: AsyncSession, found: _Candidate) -> bool:
    """The matched record is unchanged (HQ may have changed the PIN or deactivated it)."""
    row = (
        await s.execute(
            select(Cashier.pin_hash).where(Cashier.id == found.id, Cashier.active.is_(True))
        )
    ).first()
    return row is not None and row.pin_hash == found.pin_hash


async def _count_failure(s: AsyncSession, ids: list[uuid.UUID], at: datetime, *, what: str) -> str:
    """Add one wrong PIN against ``ids``; lock them at :data:`MAX_FAILURES`. The message."""
    current = (
        await s.execute(select(func.max(Cashier.failed_attempts)).where(Cashier.id.in_(ids)))
    ).scalar_one()
    failures = (current or 0) + 1
    if failures >= MAX_FAILURES:
        await s.execute(
            update(Cashier)
            .where(Cashier.id.in_(ids))
            .values(failed_attempts=0, locked_until=at + LOCKOUT)
        )
        return (
            f"Wrong PIN {failures} times: {what} locked for "
            f"{int(LOCKOUT.total_seconds() // 60)} minutes."
        )
    await s.execute(update(Cashier).where(Cashier.id.in_(ids)).values(failed_attempts=failures))
    left = MAX_FAILURES - failures
    return f"Wrong PIN ({plural(left, 'try', 'tries')} left before lockout)."


async def _reset_failures(s: AsyncSession, ids: list[uuid.UUID]) -> None:
    await s.execute(
        update(Cashier).where(Cashier.id.in_(ids)).values(failed_attempts=0, locked_until=None)
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
        raise LoginError(_locked_message(locked_until, at, what=what))
    found = await _match(pin.strip(), candidates)  # no transaction open while hashing
    ids = [c.id for c in candidates]
    async with writing(db) as s:
        await _check_lock(s, ids, at, what=what)
        if found is not None and await _still_valid(s, found):
            await _reset_failures(s, ids)
            return CashierView(id=found.id, name=found.name, role=found.role)
        message = await _count_failure(s, ids, at, what=what)
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
) -> CashierView:
    """A manager's PIN approves ``action``; the approval is an audit event for HQ.

    Wrong PINs count against the managers' records and lock approvals as log-in does.
    """
    at = now or datetime.now(UTC)
    what = "approvals are"
    candidates, locked_until = await _candidates(db, managers_only=True)
    if not candidates:
        raise LoginError("No manager is set up on this till: nothing can be approved.")
    if locked_until is not None and locked_until > at:
        raise LoginError(_locked_message(locked_until, at, what=what))
    found = await _match(pin.strip(), candidates) if pin.strip().isdigit() else None
    ids = [c.id for c in candidates]
    async with writing(db) as s:
        await _check_lock(s, ids, at, what=what)
        if found is not None and await _still_valid(s, found):
            await _reset_failures(s, ids)
            await _append_approval(
                s,
                action=action,
                manager_id=found.id,
                cashier_id=cashier_id,
                sale_id=sale_id,
                note=note,
                at=at,
            )
            return CashierView(id=found.id, name=found.name, role="manager")
        counted = await _count_failure(s, ids, at, what=what)
    # Raised after COMMIT so the failure count is kept.
    raise LoginError(f"That is not a manager's PIN: nothing was approved. {counted}")


async def _append_approval(
    s: AsyncSession,
    *,
    action: ApprovalAction,
    manager_id: uuid.UUID,
    cashier_id: uuid.UUID,
    sale_id: uuid.UUID | None,
    note: str,
    at: datetime,
) -> None:
    event = ApprovalGranted(
        approval_id=uuid.uuid4(),
        action=action,
        manager_id=manager_id,
        cashier_id=cashier_id,
        sale_id=sale_id,
        note=note,
    )
    await append_event(s, "approval.granted", event, at)


async def record_own_approval(
    db: Database,
    *,
    action: ApprovalAction,
    manager_id: uuid.UUID,
    sale_id: uuid.UUID | None = None,
    note: str = "",
    now: datetime | None = None,
) -> None:
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
        if role != "manager":
            raise LoginError("Only a manager can approve this: nothing was approved.")
        await _append_approval(
            s,
            action=action,
            manager_id=manager_id,
            cashier_id=manager_id,
            sale_id=sale_id,
            note=note,
            at=at,
        )
