"""Opening and closing a cashier's shift (the drawer float and the cash count).

Closing a shift makes its Z report (expected against counted cash and every total HQ
reconciles) and queues ``shift.closed`` and ``shift.z_report`` for HQ in the same unit of
work that closes it. An X report is the same figures for an open shift, any time.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from sync.protocol import ShiftClosed, TaxTotal, TenderTotal, ZReport
from terminal.db.engine import Database
from terminal.db.models import Shift
from terminal.services.errors import NotFoundError, TillError
from terminal.services.outbox import append_event
from terminal.services.schemas import ShiftReport, ShiftSummary, ShiftView
from terminal.services.shift_report import build_report
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
    """Close the shift with its Z report, queueing ``shift.closed`` and ``shift.z_report``.

    All in one unit of work: the figures HQ receives are the figures at the moment the
    shift closed, and the Z report is kept on the shift for reprints.
    """
    if counted_cash_cents < 0:
        raise ShiftError("The counted cash cannot be negative.")
    at = now or datetime.now(UTC)
    async with writing(db) as s:
        row = (await s.execute(select(*_COLUMNS).where(Shift.id == shift_id))).first()
        if row is None:
            raise NotFoundError("That shift is not known to this till.")
        if row.closed_at is not None:
            raise ShiftError("That shift is already closed.")
        report = await build_report(
            s, shift_id, kind="z", counted_cash_cents=counted_cash_cents, closed_at=at
        )
        wire = z_report_event(report)
        await s.execute(
            update(Shift)
            .where(Shift.id == shift_id)
            .values(
                closed_at=at,
                counted_cash_cents=counted_cash_cents,
                z_report=report.model_dump_json(),
            )
        )
        await append_event(
            s,
            "shift.closed",
            ShiftClosed(
                shift_id=shift_id,
                cashier_id=row.cashier_id,
                opened_at=row.opened_at,
                closed_at=at,
                opening_float_cents=row.opening_float_cents,
                expected_cash_cents=report.expected_cash_cents,
                counted_cash_cents=counted_cash_cents,
                sales_count=report.sales_count,
                sales_total_cents=report.sales_total_cents,
            ),
            at,
        )
        await append_event(s, "shift.z_report", wire, at)
    shift = _view(row).model_copy(
        update={"closed_at": at, "counted_cash_cents": counted_cash_cents}
    )
    return ShiftSummary(
        shift=shift,
        expected_cash_cents=report.expected_cash_cents,
        sales_count=report.sales_count,
        sales_total_cents=report.sales_total_cents,
        report=report,
    )


def z_report_event(r: ShiftReport) -> ZReport:
    """The Z report as it travels to HQ."""
    assert r.closed_at is not None and r.counted_cash_cents is not None
    return ZReport(
        shift_id=r.shift_id,
        cashier_id=r.cashier_id,
        opened_at=r.opened_at,
        closed_at=r.closed_at,
        gross_sales_cents=r.gross_sales_cents,
        discounts_cents=r.discounts_cents,
        refunds_cents=r.refunds_cents,
        net_sales_cents=r.net_sales_cents,
        sales_count=r.sales_count,
        refunds_count=r.refunds_count,
        voids_count=r.voids_count,
        voids_cents=r.voids_cents,
        cancels_count=r.cancels_count,
        cancels_cents=r.cancels_cents,
        tax=[
            TaxTotal(tax_code=t.tax_code, net_sales_cents=t.net_sales_cents, tax_cents=t.tax_cents)
            for t in r.tax
        ],
        tenders=[
            TenderTotal(tender=t.tender, sales_cents=t.sales_cents, refunds_cents=t.refunds_cents)
            for t in r.tenders
        ],
        rounding_cents=r.rounding_cents,
        opening_float_cents=r.opening_float_cents,
        cash_in_cents=r.cash_in_cents,
        cash_out_cents=r.cash_out_cents,
        expected_cash_cents=r.expected_cash_cents,
        counted_cash_cents=r.counted_cash_cents,
        variance_cents=r.counted_cash_cents - r.expected_cash_cents,
        first_receipt_no=r.first_receipt_no,
        last_receipt_no=r.last_receipt_no,
        parked_count=r.parked_count,
    )


async def pick_shift(db: Database, which: str | None, *, closed: bool) -> uuid.UUID:
    """A shift by id, or ``last`` / None: the latest closed (``closed``) or open one."""
    if which not in (None, "last"):
        try:
            return uuid.UUID(str(which))
        except ValueError as exc:
            raise NotFoundError(f"{which!r} is not a shift id.") from exc
    query = select(Shift.id)
    if closed:
        query = query.where(Shift.closed_at.is_not(None)).order_by(Shift.closed_at.desc())
    else:
        query = query.where(Shift.closed_at.is_(None)).order_by(Shift.opened_at.desc())
    async with reading(db) as s:
        found = (await s.execute(query.limit(1))).scalar_one_or_none()
    if found is None:
        raise NotFoundError("No closed shift on this till yet." if closed else "No shift is open.")
    return found


async def x_report(db: Database, shift_id: uuid.UUID) -> ShiftReport:
    """The shift's figures so far (prints any time, changes nothing)."""
    async with reading(db) as s:
        return await build_report(s, shift_id, kind="x")


async def z_report(db: Database, shift_id: uuid.UUID) -> ShiftReport:
    """The Z report a closed shift was closed with (as sent to HQ)."""
    async with reading(db) as s:
        stored = (await s.execute(select(Shift.z_report).where(Shift.id == shift_id))).one_or_none()
    if stored is None:
        raise NotFoundError("That shift is not known to this till.")
    if stored[0] is None:
        raise ShiftError("That shift is still open: its Z report is made when it closes.")
    return ShiftReport.model_validate_json(stored[0])
