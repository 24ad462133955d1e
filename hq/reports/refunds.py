"""Refunds (credit notes): every refund in the period beside the sale it refunds.

Refunds are stored as negative ``sales`` rows; this report shows them as positive
amounts, as a person reads a credit note.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hq import models as m
from hq.reports.common import ReportQuery, Scope, scoped_sales
from hq.reports.sales import cents

MAX_ROWS = 2000


class RefundRow(BaseModel):
    receipt_no: str
    occurred_at: datetime
    terminal_id: str
    original_receipt_no: str | None
    """None when HQ does not hold the original sale (made at a till not yet synced)."""
    cashier: str | None
    total_cents: int
    tax_cents: int
    reason: str | None


class RefundsReport(BaseModel):
    query: ReportQuery
    rows: list[RefundRow]
    count: int
    total_cents: int
    tax_cents: int

    def table(self) -> tuple[list[str], list[list[Any]]]:
        head = ["credit_note", "at", "terminal", "original_receipt", "cashier", "amount", "gst",
                "reason"]  # fmt: skip
        return head, [
            [r.receipt_no, r.occurred_at.isoformat(), r.terminal_id, r.original_receipt_no or "",
             r.cashier or "", cents(r.total_cents), cents(r.tax_cents), r.reason or ""]
            for r in self.rows
        ]  # fmt: skip


async def refunds(*, session: AsyncSession, query: ReportQuery, scope: Scope) -> RefundsReport:
    original = aliased(m.Sale)
    stmt = (
        select(
            m.Sale.receipt_no,
            m.Sale.occurred_at,
            m.Sale.terminal_id,
            original.receipt_no.label("original_receipt_no"),
            m.Cashier.name.label("cashier"),
            m.Sale.total_cents,
            m.Sale.tax_cents,
            m.Sale.reason,
        )
        .select_from(m.Sale)
        .outerjoin(original, original.sale_id == m.Sale.original_sale_id)
        .outerjoin(m.Cashier, m.Cashier.cashier_id == m.Sale.cashier_id)
        .where(m.Sale.kind == "refund")
    )
    stmt = scoped_sales(stmt, query, scope).order_by(m.Sale.occurred_at, m.Sale.receipt_no)
    rows = [
        RefundRow(
            receipt_no=r.receipt_no,
            occurred_at=r.occurred_at,
            terminal_id=r.terminal_id,
            original_receipt_no=r.original_receipt_no,
            cashier=r.cashier,
            total_cents=-int(r.total_cents),
            tax_cents=-int(r.tax_cents),
            reason=r.reason,
        )
        for r in await session.execute(stmt.limit(MAX_ROWS))
    ]
    return RefundsReport(
        query=query,
        rows=rows,
        count=len(rows),
        total_cents=sum(r.total_cents for r in rows),
        tax_cents=sum(r.tax_cents for r in rows),
    )
