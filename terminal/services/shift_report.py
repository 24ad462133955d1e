"""X and Z reports: a shift's figures, summed from the rows its events wrote.

Every figure is a sum over this till's facts tagged with the shift (sales, refunds and
the till activity of cancels, voids, petty cash and no-sale opens), which are exactly
the facts the shift's events carried to HQ; a test checks the two agree. Cash that
should be in the drawer is the float, plus cash taken (with its rounding), less cash
refunded, plus cash in, less cash out.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from terminal.db.models import (
    ParkedSale,
    PaymentRow,
    Refund,
    RefundLine,
    RefundPayment,
    Sale,
    SaleLineRow,
    Shift,
    TillActivity,
)
from terminal.services.errors import NotFoundError
from terminal.services.schemas import ShiftReport, TaxLine, TenderLine

TAX_CODES = ("SR", "ZR", "ES")


async def _shift(s: AsyncSession, shift_id: uuid.UUID) -> Any:
    row = (await s.execute(select(Shift).where(Shift.id == shift_id))).scalar_one_or_none()
    if row is None:
        raise NotFoundError("That shift is not known to this till.")
    return row


async def build_report(
    s: AsyncSession,
    shift_id: uuid.UUID,
    *,
    kind: Literal["x", "z"],
    counted_cash_cents: int | None = None,
    closed_at: Any = None,
) -> ShiftReport:
    """The shift's figures as of now, in the caller's unit of work."""
    shift = await _shift(s, shift_id)
    sales = (
        await s.execute(
            select(
                func.count(),
                func.coalesce(func.sum(Sale.subtotal_cents), 0),
                func.coalesce(func.sum(Sale.discount_cents), 0),
                func.coalesce(func.sum(Sale.total_cents), 0),
                func.coalesce(func.sum(Sale.tax_cents), 0),
                func.coalesce(func.sum(Sale.rounding_cents), 0),
                func.min(Sale.receipt_seq),
                func.max(Sale.receipt_seq),
            ).where(Sale.shift_id == shift_id)
        )
    ).one()
    first_no = last_no = None
    if sales[0]:
        numbers = dict(
            (
                await s.execute(
                    select(Sale.receipt_seq, Sale.receipt_no).where(
                        Sale.receipt_seq.in_([sales[6], sales[7]])
                    )
                )
            ).all()
        )
        first_no, last_no = numbers[sales[6]], numbers[sales[7]]
    refunds = (
        await s.execute(
            select(
                func.count(),
                func.coalesce(func.sum(Refund.total_cents), 0),
                func.coalesce(func.sum(Refund.tax_cents), 0),
                func.coalesce(func.sum(Refund.rounding_cents), 0),
            ).where(Refund.shift_id == shift_id)
        )
    ).one()
    by_code: dict[str, int] = defaultdict(int)
    for code, total in await s.execute(
        select(SaleLineRow.tax_code, func.sum(SaleLineRow.total_cents))
        .join(Sale, Sale.id == SaleLineRow.sale_id)
        .where(Sale.shift_id == shift_id)
        .group_by(SaleLineRow.tax_code)
    ):
        by_code[code] += int(total)
    for code, total in await s.execute(
        select(RefundLine.tax_code, func.sum(RefundLine.total_cents))
        .join(Refund, Refund.id == RefundLine.refund_id)
        .where(Refund.shift_id == shift_id)
        .group_by(RefundLine.tax_code)
    ):
        by_code[code] -= int(total)
    taken: dict[str, int] = defaultdict(int)
    for tender, total in await s.execute(
        select(PaymentRow.tender, func.sum(PaymentRow.amount_cents))
        .join(Sale, Sale.id == PaymentRow.sale_id)
        .where(Sale.shift_id == shift_id)
        .group_by(PaymentRow.tender)
    ):
        taken[tender] += int(total)
    given: dict[str, int] = defaultdict(int)
    for tender, total in await s.execute(
        select(RefundPayment.tender, func.sum(RefundPayment.amount_cents))
        .join(Refund, Refund.id == RefundPayment.refund_id)
        .where(Refund.shift_id == shift_id)
        .group_by(RefundPayment.tender)
    ):
        given[tender] += int(total)
    activity: dict[str, tuple[int, int]] = {
        row[0]: (int(row[1]), int(row[2]))
        for row in await s.execute(
            select(TillActivity.kind, func.count(), func.sum(TillActivity.amount_cents))
            .where(TillActivity.shift_id == shift_id)
            .group_by(TillActivity.kind)
        )
    }
    parked = (await s.execute(select(func.count()).select_from(ParkedSale))).scalar_one()
    cash_in = activity.get("cash_in", (0, 0))[1]
    cash_out = activity.get("cash_out", (0, 0))[1]
    expected = (
        shift.opening_float_cents + taken.get("cash", 0) - given.get("cash", 0) + cash_in - cash_out
    )
    counted = counted_cash_cents if counted_cash_cents is not None else shift.counted_cash_cents
    return ShiftReport(
        kind=kind,
        shift_id=shift.id,
        cashier_id=shift.cashier_id,
        opened_at=shift.opened_at,
        closed_at=closed_at or shift.closed_at,
        gross_sales_cents=int(sales[1]),
        discounts_cents=int(sales[2]),
        sales_total_cents=int(sales[3]),
        refunds_cents=int(refunds[1]),
        net_sales_cents=int(sales[3]) - int(refunds[1]),
        sales_count=int(sales[0]),
        refunds_count=int(refunds[0]),
        voids_count=activity.get("void", (0, 0))[0],
        voids_cents=activity.get("void", (0, 0))[1],
        cancels_count=activity.get("cancel", (0, 0))[0],
        cancels_cents=activity.get("cancel", (0, 0))[1],
        no_sale_count=activity.get("no_sale", (0, 0))[0],
        tax=[
            TaxLine(
                tax_code=code,
                net_sales_cents=by_code[code],
                tax_cents=(int(sales[4]) - int(refunds[2])) if code == "SR" else 0,
            )
            for code in TAX_CODES
            if code in by_code
        ],
        tenders=[
            TenderLine(
                tender=t,
                sales_cents=taken.get(t, 0),
                refunds_cents=given.get(t, 0),
            )
            for t in sorted(set(taken) | set(given))
        ],
        rounding_cents=int(sales[5]) - int(refunds[3]),
        opening_float_cents=shift.opening_float_cents,
        cash_in_cents=cash_in,
        cash_out_cents=cash_out,
        expected_cash_cents=expected,
        counted_cash_cents=counted,
        variance_cents=None if counted is None else counted - expected,
        first_receipt_no=first_no,
        last_receipt_no=last_no,
        parked_count=int(parked),
    )
