"""Opening and closing a cashier's shift (the drawer float and the cash count).

Closing a shift reports expected against counted cash and queues ``shift.closed`` for
HQ in the same unit of work that closes it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update

from sync.protocol import ShiftClosed
from terminal.db.engine import Database
from terminal.db.models import PaymentRow, Sale, Shift
from terminal.services.errors import NotFoundError, TillError
from terminal.services.outbox import append_event
from terminal.services.schemas import ShiftSummary, ShiftView
from terminal.services.uow import reading, writing


class ShiftError(TillError):
    code = "shift"


def _view(row: object) -> ShiftView:
    return ShiftView.model_validate(row, from_attributes=True)


_COLUMNS = (
    Shift.id,
    Shift.cashier_id,
    Shift.opened_at,
    Shift.closed_at,
    Shift.opening_float_cents,
    Shift.counted_cash_cents,
)


async def open_shift_for(db: Database, cashier_id: uuid.UUID) -> ShiftView | None:
    """The cashier's open shift on this till, if any (the latest one)."""
    async with reading(db) as s:
        row = (
            await s.execute(
                select(*_COLUMNS)
                .where(Shift.cashier_id == cashier_id, Shift.closed_at.is_(None))
                .order_by(Shift.opened_at.desc())
                .limit(1)
            )
        ).first()
    return _view(row) if row is not None else None


async def open_shift(
    db: Database, cashier_id: uuid.UUID, *, float_cents: int, now: datetime | None = None
) -> ShiftView:
    if float_cents < 0:
        raise ShiftError("The opening float cannot be negative.")
    at = now or datetime.now(UTC)
    shift_id = uuid.uuid4()
    async with writing(db) as s:
        already = (
            await s.execute(
                select(Shift.id).where(Shift.cashier_id == cashier_id, Shift.closed_at.is_(None))
            )
        ).first()
        if already is not None:
            raise ShiftError("This cashier already has an open shift on this till.")
        await s.execute(
            insert(Shift),
            [
                {
                    "id": shift_id,
                    "cashier_id": cashier_id,
                    "opened_at": at,
                    "closed_at": None,
                    "opening_float_cents": float_cents,
                    "counted_cash_cents": None,
                }
            ],
        )
    return ShiftView(
        id=shift_id,
        cashier_id=cashier_id,
        opened_at=at,
        closed_at=None,
        opening_float_cents=float_cents,
        counted_cash_cents=None,
    )


async def close_shift(
    db: Database, shift_id: uuid.UUID, *, counted_cash_cents: int, now: datetime | None = None
) -> ShiftSummary:
    """Close the shift, compute expected cash, and queue ``shift.closed`` atomically."""
    if counted_cash_cents < 0:
        raise ShiftError("The counted cash cannot be negative.")
    at = now or datetime.now(UTC)
    async with writing(db) as s:
        row = (await s.execute(select(*_COLUMNS).where(Shift.id == shift_id))).first()
        if row is None:
            raise NotFoundError("That shift is not known to this till.")
        if row.closed_at is not None:
            raise ShiftError("That shift is already closed.")
        count, total = (
            await s.execute(
                select(func.count(), func.coalesce(func.sum(Sale.total_cents), 0)).where(
                    Sale.shift_id == shift_id
                )
            )
        ).one()
        cash = (
            await s.execute(
                select(func.coalesce(func.sum(PaymentRow.amount_cents), 0))
                .join(Sale, Sale.id == PaymentRow.sale_id)
                .where(Sale.shift_id == shift_id, PaymentRow.tender == "cash")
            )
        ).scalar_one()
        await s.execute(
            update(Shift)
            .where(Shift.id == shift_id)
            .values(closed_at=at, counted_cash_cents=counted_cash_cents)
        )
        expected = row.opening_float_cents + cash
        await append_event(
            s,
            "shift.closed",
            ShiftClosed(
                shift_id=shift_id,
                cashier_id=row.cashier_id,
                opened_at=row.opened_at,
                closed_at=at,
                opening_float_cents=row.opening_float_cents,
                expected_cash_cents=expected,
                counted_cash_cents=counted_cash_cents,
                sales_count=count,
                sales_total_cents=total,
            ),
            at,
        )
    shift = _view(row).model_copy(
        update={"closed_at": at, "counted_cash_cents": counted_cash_cents}
    )
    return ShiftSummary(
        shift=shift, expected_cash_cents=expected, sales_count=count, sales_total_cents=total
    )
