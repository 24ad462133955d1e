"""Tenders: what each way of paying brought in, and what went back out as refunds.

``payments.amount_cents`` is what a tender paid towards the sale after cash rounding, so
the cash line is what should be in the drawers (before float and petty cash).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.reports.common import ReportQuery, Scope, scoped_sales
from hq.reports.sales import cents


class TenderRow(BaseModel):
    tender: str
    name: str
    payments: int
    sales_cents: int
    refunds_cents: int
    """Paid back through this tender, as a positive amount."""
    net_cents: int


class TendersReport(BaseModel):
    query: ReportQuery
    rows: list[TenderRow]
    total: TenderRow

    def table(self) -> tuple[list[str], list[list[Any]]]:
        head = ["tender", "name", "payments", "sales", "refunds", "net"]
        return head, [
            [r.tender, r.name, r.payments, cents(r.sales_cents), cents(r.refunds_cents),
             cents(r.net_cents)]
            for r in [*self.rows, self.total]
        ]  # fmt: skip


async def tenders(*, session: AsyncSession, query: ReportQuery, scope: Scope) -> TendersReport:
    is_sale = m.Sale.kind == "sale"
    stmt = (
        select(
            m.SalePayment.tender,
            func.sum(case((is_sale, 1), else_=0)).label("n"),
            func.sum(case((is_sale, m.SalePayment.amount_cents), else_=0)).label("sales"),
            func.sum(case((is_sale, 0), else_=m.SalePayment.amount_cents)).label("refunds"),
        )
        .select_from(m.SalePayment)
        .join(m.Sale, m.Sale.sale_id == m.SalePayment.sale_id)
    )
    stmt = scoped_sales(stmt, query, scope).group_by(m.SalePayment.tender)
    names = dict((await session.execute(select(m.Tender.code, m.Tender.name))).all())
    rows = [
        TenderRow(
            tender=r.tender,
            name=names.get(r.tender, r.tender),
            payments=int(r.n),
            sales_cents=int(r.sales),
            refunds_cents=-int(r.refunds),
            net_cents=int(r.sales) + int(r.refunds),
        )
        for r in await session.execute(stmt)
    ]
    rows.sort(key=lambda r: (-r.net_cents, r.tender))
    total = TenderRow(
        tender="total",
        name="All tenders",
        payments=sum(r.payments for r in rows),
        sales_cents=sum(r.sales_cents for r in rows),
        refunds_cents=sum(r.refunds_cents for r in rows),
        net_cents=sum(r.net_cents for r in rows),
    )
    return TendersReport(query=query, rows=rows, total=total)
