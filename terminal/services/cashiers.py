"""Cashier log-in by PIN, lockout, and manager approval, all checked locally (offline).

PINs are only stored as slow scrypt hashes (synced down from HQ), so each check costs
tens of milliseconds of CPU: it runs in a thread (``hashlib.scrypt`` releases the GIL)
so the till's screen keeps painting while it works.

The login screen asks for a PIN alone, as cashiers expect; a PIN does not say whose it
is, so a wrong PIN counts against every active cashier and the lockout after
:data:`MAX_FAILURES` wrong PINs locks the till (not one cashier) for
:data:`LOCKOUT`: that is what stops someone trying PINs at an unattended till. When the
caller names the cashier (``cashier_id``), only that cashier's record counts.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select, update

from sync.pins import verify_pin
from sync.protocol import ApprovalGranted
from terminal.db.engine import Database
from terminal.db.models import Cashier
from terminal.services.errors import LoginError
from terminal.services.outbox import append_event
from terminal.services.schemas import CashierView
from terminal.services.uow import writing

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=5)

ApprovalAction = Literal["refund", "void", "price_override", "discount", "no_sale"]


@dataclass(frozen=True, slots=True)
class _Candidate:
    id: uuid.UUID
    name: str
    role: str
    pin_hash: str
    failed_attempts: int
    locked_until: datetime | None


async def _match(pin: str, candidates: list[_Candidate]) -> _Candidate | None:
    def check() -> _Candidate | None:
        for c in candidates:
            if verify_pin(pin, c.pin_hash):
                return c
        return None

    return await asyncio.to_thread(check)


async def login(
    db: Database, pin: str, *, cashier_id: uuid.UUID | None = None, now: datetime | None = None
) -> CashierView:
    """Return the cashier whose PIN this is, or raise :class:`LoginError` (and count it)."""
    at = now or datetime.now(UTC)
    if not pin.strip().isdigit():
        raise LoginError("Type your PIN (digits only) and press Enter.")
    async with writing(db) as s:
        query = select(
            Cashier.id,
            Cashier.name,
            Cashier.role,
            Cashier.pin_hash,
            Cashier.failed_attempts,
            Cashier.locked_until,
        ).where(Cashier.active.is_(True))
        if cashier_id is not None:
            query = query.where(Cashier.id == cashier_id)
        candidates = [_Candidate(*row) for row in (await s.execute(query)).all()]
        if not candidates:
            raise LoginError("No cashiers are set up on this till yet: HQ must sync them.")
        locked = [c.locked_until for c in candidates if c.locked_until and c.locked_until > at]
        if locked:
            until = max(locked)
            minutes = max(1, int((until - at).total_seconds() + 59) // 60)
            raise LoginError(
                f"Too many wrong PINs: the till is locked for {minutes} more minute(s)."
            )
        found = await _match(pin.strip(), candidates)
        ids = [c.id for c in candidates]
        if found is not None:
            await s.execute(
                update(Cashier)
                .where(Cashier.id.in_(ids))
                .values(failed_attempts=0, locked_until=None)
            )
            return CashierView(id=found.id, name=found.name, role=found.role)
        failures = max(c.failed_attempts for c in candidates) + 1
        if failures >= MAX_FAILURES:
            await s.execute(
                update(Cashier)
                .where(Cashier.id.in_(ids))
                .values(failed_attempts=0, locked_until=at + LOCKOUT)
            )
            message = (
                f"Wrong PIN {failures} times: the till is locked for "
                f"{int(LOCKOUT.total_seconds() // 60)} minutes."
            )
        else:
            await s.execute(
                update(Cashier).where(Cashier.id.in_(ids)).values(failed_attempts=failures)
            )
            message = f"Wrong PIN ({MAX_FAILURES - failures} tries left before lockout)."
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
    """A manager's PIN approves ``action``; the approval is an audit event for HQ."""
    at = now or datetime.now(UTC)
    async with writing(db) as s:
        rows = (
            await s.execute(
                select(Cashier.id, Cashier.name, Cashier.role, Cashier.pin_hash).where(
                    Cashier.active.is_(True), Cashier.role == "manager"
                )
            )
        ).all()
        candidates = [_Candidate(r.id, r.name, r.role, r.pin_hash, 0, None) for r in rows]
        found = await _match(pin.strip(), candidates) if pin.strip().isdigit() else None
        if found is None:
            raise LoginError("That is not a manager's PIN: nothing was approved.")
        event = ApprovalGranted(
            approval_id=uuid.uuid4(),
            action=action,
            manager_id=found.id,
            cashier_id=cashier_id,
            sale_id=sale_id,
            note=note,
        )
        await append_event(s, "approval.granted", event, at)
    return CashierView(id=found.id, name=found.name, role="manager")
