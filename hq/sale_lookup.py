"""A synced sale, for a refund at a till other than the one that made it.

The scope is the chain: any terminal enrolled at this HQ may look up any outlet's sale,
because a customer may bring goods back to any branch (one HQ is one chain: one store
settings row, chain-wide products and members). What comes back is only what a refund
needs: the lines, tenders and GST as sold, and what refunds HQ holds already took back
of each line and tender, across every till. Refunds are stored as negative ``sales``
rows, so the sums here are negated back to positive amounts.
"""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from sync import protocol as p


async def lookup_sale(
    *, session: AsyncSession, receipt_no: str | None = None, sale_id: UUID | None = None
) -> p.SaleLookup | None:
    """The sale with this receipt number (or id) and what was refunded of it, or None."""
    stmt = select(m.Sale).where(m.Sale.kind == "sale")
    if sale_id is not None:
        stmt = stmt.where(m.Sale.sale_id == sale_id)
    elif receipt_no:
        number = receipt_no.strip().upper()
        # The receipt number starts with its terminal's id: the terminal index narrows it.
        stmt = stmt.where(
            m.Sale.terminal_id == number.rpartition("-")[0], m.Sale.receipt_no == number
        )
    else:
        return None
    sale = (await session.execute(stmt.limit(1))).scalar_one_or_none()
    if sale is None:
        return None
    lines = (
        await session.execute(
            select(m.SaleLine)
            .where(m.SaleLine.sale_id == sale.sale_id)
            .order_by(m.SaleLine.line_no)
        )
    ).scalars()
    payments = (
        await session.execute(select(m.SalePayment).where(m.SalePayment.sale_id == sale.sale_id))
    ).scalars()
    refunds = list(
        await session.execute(
            select(m.Sale.sale_id, m.Sale.event_id, m.Sale.tax_cents, m.Sale.rounding_cents).where(
                m.Sale.original_sale_id == sale.sale_id, m.Sale.kind == "refund"
            )
        )
    )
    refund_ids = [r.sale_id for r in refunds]
    refunded: list[p.RefundedQty] = []
    tenders: dict[str, int] = defaultdict(int)
    reversed_points = 0
    if refund_ids:
        refunded = [
            p.RefundedQty(line_no=r.line_no, qty=-int(r.qty), total_cents=-int(r.total))
            for r in await session.execute(
                select(
                    m.SaleLine.line_no,
                    func.sum(m.SaleLine.qty).label("qty"),
                    func.sum(m.SaleLine.total_cents).label("total"),
                )
                .where(m.SaleLine.sale_id.in_(refund_ids))
                .group_by(m.SaleLine.line_no)
                .order_by(m.SaleLine.line_no)
            )
        ]
        for r in await session.execute(
            select(m.SalePayment.tender, func.sum(m.SalePayment.amount_cents).label("amount"))
            .where(m.SalePayment.sale_id.in_(refund_ids))
            .group_by(m.SalePayment.tender)
        ):
            tenders[r.tender] -= int(r.amount)
        reversed_points = -int(
            await session.scalar(
                select(func.coalesce(func.sum(m.LoyaltyEntry.points), 0)).where(
                    m.LoyaltyEntry.event_id.in_([r.event_id for r in refunds]),
                    m.LoyaltyEntry.points < 0,
                )
            )
            or 0
        )
    refunded_rounding = -sum(int(r.rounding_cents) for r in refunds)
    if "cash" in tenders:
        tenders["cash"] -= refunded_rounding
    earned = await session.scalar(
        select(func.coalesce(func.sum(m.LoyaltyEntry.points), 0)).where(
            m.LoyaltyEntry.event_id == sale.event_id, m.LoyaltyEntry.reason == "earn"
        )
    )
    return p.SaleLookup(
        sale_id=sale.sale_id,
        receipt_no=sale.receipt_no,
        terminal_id=sale.terminal_id,
        occurred_at=sale.occurred_at,
        cashier_id=sale.cashier_id,
        customer_id=sale.customer_id,
        lines=[
            p.SaleLine(
                line_no=ln.line_no,
                product_id=ln.product_id,
                sku=ln.sku,
                name=ln.name,
                qty=ln.qty,
                unit_price_cents=ln.unit_price_cents,
                discount_cents=ln.discount_cents,
                total_cents=ln.total_cents,
                tax_code=ln.tax_code,  # type: ignore[arg-type]
            )
            for ln in lines
        ],
        payments=[
            p.Payment(
                payment_id=pay.payment_id,
                tender=pay.tender,  # type: ignore[arg-type]
                amount_cents=pay.amount_cents,
                tendered_cents=pay.tendered_cents,
                reference=pay.reference,
            )
            for pay in payments
        ],
        total_cents=sale.total_cents,
        tax_cents=sale.tax_cents,
        gst_rate_bp=sale.gst_rate_bp or 0,
        rounding_cents=sale.rounding_cents,
        points_earned=int(earned or 0),
        refunded=refunded,
        refunded_tenders=[
            p.RefundedTender(tender=t, amount_cents=a)  # type: ignore[arg-type]
            for t, a in sorted(tenders.items())
        ],
        refunded_tax_cents=-sum(int(r.tax_cents) for r in refunds),
        refunded_rounding_cents=refunded_rounding,
        points_reversed=reversed_points,
        refund_ids=refund_ids,
    )
