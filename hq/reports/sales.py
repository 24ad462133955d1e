"""Sales summary by day, outlet, terminal or cashier.

Refunds are stored as negative ``sales`` rows (``kind='refund'``), so net figures are
plain sums; the gross and refund columns split them again by kind. The same sums are
kept per UTC hour at ingest (:mod:`hq.rollups`): a period of whole local days is read
from there (a quarter of a chain is a few thousand rows, not millions of sales).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.reports.common import (
    ReportQuery,
    Scope,
    local_day,
    rollup_fits,
    scoped_rollup,
    scoped_sales,
)
from hq.rollups import SALES_HOURLY

GroupBy = Literal["day", "outlet", "terminal", "cashier"]
GROUPS: tuple[GroupBy, ...] = ("day", "outlet", "terminal", "cashier")


class SalesRow(BaseModel):
    key: str
    transactions: int
    """Completed sales (refunds are not transactions)."""
    gross_sales_cents: int
    refunds: int
    refunds_cents: int
    """Refunded, as a positive amount."""
    net_sales_cents: int
    discount_cents: int
    """Discounts given on sales, net of discounts taken back by refunds."""
    tax_cents: int
    """GST contained in the net sales."""
    average_basket_cents: int
    """Gross sales / transactions, rounded half up."""


class SalesReport(BaseModel):
    group_by: GroupBy
    query: ReportQuery
    rows: list[SalesRow]
    total: SalesRow

    def table(self) -> tuple[list[str], list[list[Any]]]:
        head = [self.group_by, "transactions", "gross_sales", "refunds", "refunds_amount",
                "net_sales", "discounts", "gst", "average_basket"]  # fmt: skip
        return head, [_cells(r) for r in [*self.rows, self.total]]


def _cells(r: SalesRow) -> list[Any]:
    return [
        r.key, r.transactions, cents(r.gross_sales_cents), r.refunds, cents(r.refunds_cents),
        cents(r.net_sales_cents), cents(r.discount_cents), cents(r.tax_cents),
        cents(r.average_basket_cents),
    ]  # fmt: skip


def cents(value: int) -> str:
    """Plain decimal dollars for CSV (``-12.30``): no separators, exact."""
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


def average(total: int, count: int) -> int:
    return (2 * total + count) // (2 * count) if count else 0


def _measures() -> list[Any]:
    is_sale = m.Sale.kind == "sale"
    return [
        func.sum(case((is_sale, 1), else_=0)).label("transactions"),
        func.sum(case((is_sale, m.Sale.total_cents), else_=0)).label("gross"),
        func.sum(case((is_sale, 0), else_=1)).label("refunds"),
        func.sum(case((is_sale, 0), else_=m.Sale.total_cents)).label("refunded"),
        func.sum(m.Sale.discount_cents).label("discount"),
        func.sum(m.Sale.tax_cents).label("tax"),
    ]


def rollup_measures() -> list[Any]:
    """:func:`_measures` from the hourly rollup (:class:`~hq.models.SalesHourly`)."""
    r = m.SalesHourly
    return [
        func.sum(r.sales).label("transactions"),
        func.sum(r.gross_cents).label("gross"),
        func.sum(r.refunds).label("refunds"),
        func.sum(r.refunded_cents).label("refunded"),
        func.sum(r.discount_cents).label("discount"),
        func.sum(r.tax_cents).label("tax"),
    ]


def sales_total(rows: list[SalesRow]) -> SalesRow:
    """The total of groups that partition the sales."""
    gross, n = sum(r.gross_sales_cents for r in rows), sum(r.transactions for r in rows)
    refunded = sum(r.refunds_cents for r in rows)
    return SalesRow(
        key="total",
        transactions=n,
        gross_sales_cents=gross,
        refunds=sum(r.refunds for r in rows),
        refunds_cents=refunded,
        net_sales_cents=gross - refunded,
        discount_cents=sum(r.discount_cents for r in rows),
        tax_cents=sum(r.tax_cents for r in rows),
        average_basket_cents=average(gross, n),
    )


def sales_row(
    key: str, *, transactions: int, gross: int, refunds: int, refunded: int, discount: int, tax: int
) -> SalesRow:
    """A row from the sums :func:`_measures` names (``refunded`` negative, as stored)."""
    return SalesRow(
        key=key,
        transactions=transactions,
        gross_sales_cents=gross,
        refunds=refunds,
        refunds_cents=-refunded,
        net_sales_cents=gross + refunded,
        discount_cents=discount,
        tax_cents=tax,
        average_basket_cents=average(gross, transactions),
    )


def _row(key: str, r: Any) -> SalesRow:
    gross, refunded = int(r.gross or 0), -int(r.refunded or 0)
    n = int(r.transactions or 0)
    return SalesRow(
        key=key,
        transactions=n,
        gross_sales_cents=gross,
        refunds=int(r.refunds or 0),
        refunds_cents=refunded,
        net_sales_cents=gross - refunded,
        discount_cents=int(r.discount or 0),
        tax_cents=int(r.tax or 0),
        average_basket_cents=average(gross, n),
    )


async def sales_summary(
    *,
    session: AsyncSession,
    query: ReportQuery,
    scope: Scope,
    group_by: GroupBy = "day",
    facts: bool = False,
) -> SalesReport:
    """The summary from the hourly rollup when the period fits it, else (or with
    ``facts``) from the sales themselves; the figures are the same."""
    rollup = not facts and rollup_fits(query, scope)
    table = SALES_HOURLY if rollup else m.Sale.__table__
    time_column = SALES_HOURLY.c.hour if rollup else m.Sale.occurred_at
    cashier_column = SALES_HOURLY.c.cashier_id if rollup else m.Sale.cashier_id
    key: Any
    if group_by == "day":
        key = local_day(session, time_column, scope.tz, query.date_from)
    elif group_by == "outlet":
        key = m.Terminal.outlet_code
    elif group_by == "terminal":
        key = m.Terminal.terminal_id
    else:
        key = func.coalesce(m.Cashier.name, literal("(unknown cashier)"))
    measures = rollup_measures() if rollup else _measures()

    def scoped(stmt: Any) -> Any:
        if rollup:
            return scoped_rollup(stmt, SALES_HOURLY, query, scope)
        return scoped_sales(stmt, query, scope)

    stmt = select(key.label("key"), *measures).select_from(table)
    if group_by == "cashier":
        stmt = stmt.outerjoin(m.Cashier, m.Cashier.cashier_id == cashier_column)
    stmt = scoped(stmt).group_by(key).order_by(key)
    rows = [_row(str(r.key), r) for r in await session.execute(stmt)]
    if rollup:  # every rollup row is in exactly one group: the total is their sum
        total = sales_total(rows)
    else:
        total_stmt = scoped(select(*measures).select_from(table))
        total = _row("total", (await session.execute(total_stmt)).one())
    return SalesReport(group_by=group_by, query=query, rows=rows, total=total)
