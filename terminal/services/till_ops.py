"""What a cashier does besides selling: cancel a sale, void a line, open the drawer, petty cash.

Each is one unit of work that checks the approval the policy asks for (one approval
cancels a whole sale, not one per line), then writes a row the shift's reports count
and an event for HQ, or nothing. A screen calls each in one call; when it raises
:class:`~terminal.services.errors.ApprovalRequired` it asks for a manager's PIN
(:func:`terminal.services.cashiers.approve`) and calls again with the approval.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from sync.protocol import CashMovement, LineVoided, SaleCancelled, WireModel
from terminal.db.engine import Database
from terminal.db.models import Shift, TillActivity
from terminal.domain.approval import line_change_needs, simple_needs
from terminal.domain.money import format_cents
from terminal.services.approvals import load_limits, require
from terminal.services.errors import TillError
from terminal.services.outbox import append_event
from terminal.services.schemas import ApprovalIn
from terminal.services.shift_report import build_report
from terminal.services.uow import writing


class TillOpError(TillError):
    code = "till_op"


def _manager(approvals: Sequence[ApprovalIn], action: str) -> ApprovalIn | None:
    return next((a for a in approvals if a.action == action), None)


async def _record(
    s: AsyncSession,
    *,
    kind: str,
    event_type: str,
    event: WireModel,
    shift_id: uuid.UUID | None,
    cashier_id: uuid.UUID,
    approved_by: uuid.UUID | None,
    amount_cents: int,
    qty: int,
    reason: str,
    at: datetime,
) -> uuid.UUID:
    seq = await append_event(s, event_type, event, at)
    row_id = uuid.uuid4()
    await s.execute(
        insert(TillActivity),
        [
            {
                "id": row_id,
                "kind": kind,
                "shift_id": shift_id,
                "cashier_id": cashier_id,
                "approved_by": approved_by,
                "amount_cents": amount_cents,
                "qty": qty,
                "reason": reason,
                "created_at": at,
                "event_seq": seq,
            }
        ],
    )
    return row_id


async def cancel_sale(
    db: Database,
    *,
    cashier_id: uuid.UUID,
    line_count: int,
    total_cents: int,
    shift_id: uuid.UUID | None = None,
    reason: str = "",
    approvals: Sequence[ApprovalIn] = (),
    now: datetime | None = None,
) -> uuid.UUID:
    """Cancel the cart on screen (one ``cancel`` approval); returns the cancel's id."""
    at = now or datetime.now(UTC)
    async with writing(db) as s:
        needs = simple_needs("cancel", await load_limits(s))
        await require(s, needs, approvals, cashier_id=cashier_id, at=at)
        approval = _manager(approvals, "cancel")
        cancel_id = uuid.uuid4()
        event = SaleCancelled(
            cancel_id=cancel_id,
            cashier_id=cashier_id,
            approved_by=approval.manager_id if approval else None,
            approval_id=approval.approval_id if approval else None,
            shift_id=shift_id,
            line_count=line_count,
            total_cents=total_cents,
            reason=reason,
        )
        await _record(
            s,
            kind="cancel",
            event_type="sale.cancelled",
            event=event,
            shift_id=shift_id,
            cashier_id=cashier_id,
            approved_by=event.approved_by,
            amount_cents=total_cents,
            qty=line_count,
            reason=reason,
            at=at,
        )
    return cancel_id


async def change_line(
    db: Database,
    *,
    cashier_id: uuid.UUID,
    sku: str,
    unit_price_cents: int,
    old_qty: int,
    new_qty: int,
    shift_id: uuid.UUID | None = None,
    line_no: int | None = None,
    approvals: Sequence[ApprovalIn] = (),
    now: datetime | None = None,
) -> bool:
    """A cart line's quantity lowered (or the line removed, ``new_qty == 0``).

    Raises ApprovalRequired unless carried; records the void (``line.voided``) and
    returns True when something was taken off, False when the quantity went up.
    """
    if new_qty < 0 or old_qty < 0:
        raise TillOpError("A quantity cannot be negative.")
    at = now or datetime.now(UTC)
    if new_qty >= old_qty:
        return False
    async with writing(db) as s:
        needs = line_change_needs(old_qty, new_qty, await load_limits(s), line_no=line_no)
        await require(s, needs, approvals, cashier_id=cashier_id, at=at)
        action = "void" if new_qty == 0 else "qty_decrease"
        approval = _manager(approvals, action)
        qty = old_qty - new_qty
        event = LineVoided(
            void_id=uuid.uuid4(),
            cashier_id=cashier_id,
            approved_by=approval.manager_id if approval else None,
            shift_id=shift_id,
            sku=sku,
            qty=qty,
            amount_cents=qty * unit_price_cents,
        )
        await _record(
            s,
            kind="void",
            event_type="line.voided",
            event=event,
            shift_id=shift_id,
            cashier_id=cashier_id,
            approved_by=event.approved_by,
            amount_cents=event.amount_cents,
            qty=qty,
            reason=action,
            at=at,
        )
    return True


async def _open_shift(s: AsyncSession, shift_id: uuid.UUID) -> None:
    closed = (await s.execute(select(Shift.closed_at).where(Shift.id == shift_id))).one_or_none()
    if closed is None:
        raise TillOpError("That shift is not known to this till.")
    if closed[0] is not None:
        raise TillOpError("That shift is closed: open a new shift first.")


async def open_drawer(
    db: Database,
    *,
    cashier_id: uuid.UUID,
    shift_id: uuid.UUID,
    reason: str = "",
    approvals: Sequence[ApprovalIn] = (),
    now: datetime | None = None,
) -> None:
    """A no-sale drawer open (needs ``no_sale``); the caller kicks the drawer afterwards."""
    at = now or datetime.now(UTC)
    async with writing(db) as s:
        await _open_shift(s, shift_id)
        needs = simple_needs("no_sale", await load_limits(s))
        await require(s, needs, approvals, cashier_id=cashier_id, at=at)
        approval = _manager(approvals, "no_sale")
        event = CashMovement(
            movement_id=uuid.uuid4(),
            shift_id=shift_id,
            cashier_id=cashier_id,
            kind="no_sale",
            amount_cents=0,
            reason=reason or "no sale",
            approved_by=approval.manager_id if approval else None,
        )
        await _record(
            s,
            kind="no_sale",
            event_type="cash.movement",
            event=event,
            shift_id=shift_id,
            cashier_id=cashier_id,
            approved_by=event.approved_by,
            amount_cents=0,
            qty=0,
            reason=event.reason,
            at=at,
        )


async def move_cash(
    db: Database,
    *,
    cashier_id: uuid.UUID,
    shift_id: uuid.UUID,
    kind: Literal["in", "out"],
    amount_cents: int,
    reason: str,
    now: datetime | None = None,
) -> None:
    """Petty cash into or out of the drawer, with a reason (counted in expected cash).

    Cash out is refused beyond what the drawer should hold (the X report's expected
    cash): taking more means a slip of the keys, or cash the shift never recorded."""
    if amount_cents <= 0:
        raise TillOpError("Type an amount above zero.")
    if not reason.strip():
        raise TillOpError("Say what the cash is for.")
    at = now or datetime.now(UTC)
    async with writing(db) as s:
        await _open_shift(s, shift_id)
        if kind == "out":
            held = (await build_report(s, shift_id, kind="x")).expected_cash_cents
            if amount_cents > held:
                raise TillOpError(
                    f"The drawer should hold S${format_cents(max(held, 0))}: "
                    f"S${format_cents(amount_cents)} cannot be paid out of it."
                )
        event = CashMovement(
            movement_id=uuid.uuid4(),
            shift_id=shift_id,
            cashier_id=cashier_id,
            kind=kind,
            amount_cents=amount_cents,
            reason=reason.strip(),
        )
        await _record(
            s,
            kind=f"cash_{kind}",
            event_type="cash.movement",
            event=event,
            shift_id=shift_id,
            cashier_id=cashier_id,
            approved_by=None,
            amount_cents=amount_cents,
            qty=0,
            reason=event.reason,
            at=at,
        )
