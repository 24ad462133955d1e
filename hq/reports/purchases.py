"""Purchases for the GST F5: boxes 5 and 7 from the goods received in a period.

Each goods receipt (:mod:`hq.purchasing`) keeps its taxable value (standard- and
zero-rated lines, excluding GST) and its input tax, so the return sums two columns over
the receipts of the period's local days, at the asker's outlets.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.reports.common import ReportQuery, Scope, window


class Purchases(BaseModel):
    taxable_cents: int
    """F5 box 5: standard- and zero-rated purchases, excluding GST."""
    input_tax_cents: int
    """F5 box 7: GST on the standard-rated purchases."""
    receipts: int


async def purchases_for_f5(*, session: AsyncSession, query: ReportQuery, scope: Scope) -> Purchases:
    """Sums over the goods received in the period at the asker's outlets (and the filter's
    outlet; a terminal or cashier filter has no purchases to narrow)."""
    lo, hi = window(query.date_from, query.date_to, scope.tz)
    stmt = select(
        func.coalesce(func.sum(m.GoodsReceipt.taxable_cents), 0),
        func.coalesce(func.sum(m.GoodsReceipt.tax_cents), 0),
        func.count(),
    ).where(m.GoodsReceipt.received_at >= lo, m.GoodsReceipt.received_at < hi)
    if scope.outlets is not None:
        stmt = stmt.where(m.GoodsReceipt.outlet_code.in_(list(scope.outlets)))
    if query.outlet:
        stmt = stmt.where(m.GoodsReceipt.outlet_code == query.outlet)
    row = (await session.execute(stmt)).one()
    return Purchases(taxable_cents=int(row[0]), input_tax_cents=int(row[1]), receipts=int(row[2]))
