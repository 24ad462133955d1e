"""GST F5 for a period, from the synced sales and the effective-dated GST rates.

Shelf prices include GST. For the period (by local sale date, refunds in the period they
were made, as credit notes):

* box 1, standard-rated supplies: standard-rated line totals less the output tax in them;
* box 2, zero-rated supplies and box 3, exempt supplies: those lines' totals;
* box 4 = 1 + 2 + 3; box 6, output tax: the GST on the invoices (refunds take theirs off);
* boxes 5 and 7 (taxable purchases, input tax): the goods received in the period
  (:func:`hq.reports.purchases.purchases_for_f5`);
* box 8 = 6 - 7, net GST to pay.

Each sale's GST is also recomputed at the rate in force on its local date (HQ's settings,
not the till's) on its standard-rated total, half-up at invoice level as the till does;
any sale where the two differ is listed, so a till with a stale rate table is caught
before the return is filed. Nothing is hard-coded.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import BigInteger, and_, case, cast, false, func, null, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from hq import models as m
from hq.reports.common import ReportQuery, Scope, rollup_fits, scoped_rollup, scoped_sales, window
from hq.reports.purchases import purchases_for_f5
from hq.reports.sales import cents
from hq.rollups import SALES_HOURLY

MAX_MISMATCHES = 200
PURCHASES_NOTE = (
    "Boxes 5 and 7 (taxable purchases and input tax) come from the goods received at HQ in "
    "the period; add any purchase not received through HQ before filing."
)


class RatePeriod(BaseModel):
    effective_from: date
    rate_bp: int


class TaxMismatch(BaseModel):
    receipt_no: str
    day: str
    standard_rated_cents: int
    recorded_tax_cents: int
    expected_tax_cents: int
    rate_bp: int


class GstF5(BaseModel):
    query: ReportQuery
    box1_standard_rated_cents: int
    box2_zero_rated_cents: int
    box3_exempt_cents: int
    box4_total_supplies_cents: int
    box5_taxable_purchases_cents: int
    box6_output_tax_cents: int
    box7_input_tax_cents: int
    box8_net_gst_cents: int
    note: str
    rates: list[RatePeriod]
    """The schedule in HQ's settings that the check used."""
    rates_in_period: list[int]
    """The rates (basis points) in force on some day of the period."""
    recomputed_output_tax_cents: int
    mismatches: list[TaxMismatch]
    sales_checked: int

    def boxes(self) -> list[tuple[int, str, int]]:
        return [
            (1, "Total value of standard-rated supplies", self.box1_standard_rated_cents),
            (2, "Total value of zero-rated supplies", self.box2_zero_rated_cents),
            (3, "Total value of exempt supplies", self.box3_exempt_cents),
            (4, "Total value of (1) + (2) + (3)", self.box4_total_supplies_cents),
            (5, "Total value of taxable purchases", self.box5_taxable_purchases_cents),
            (6, "Output tax due", self.box6_output_tax_cents),
            (7, "Less: input tax and refunds claimed", self.box7_input_tax_cents),
            (8, "Net GST to be paid to / claimed from IRAS", self.box8_net_gst_cents),
        ]

    def table(self) -> tuple[list[str], list[list[Any]]]:
        return ["box", "description", "amount"], [
            [n, label, cents(value)] for n, label, value in self.boxes()
        ]


async def gst_rates(session: AsyncSession) -> list[RatePeriod]:
    raw = (await session.execute(select(m.StoreSettings.gst_rates))).scalar_one_or_none() or []
    return sorted(
        (
            RatePeriod(
                effective_from=date.fromisoformat(str(r["effective_from"])), rate_bp=r["rate_bp"]
            )
            for r in raw
        ),
        key=lambda r: r.effective_from,
    )


async def gst_f5(
    *, session: AsyncSession, query: ReportQuery, scope: Scope, facts: bool = False
) -> GstF5:
    """Boxes 1-4 and 6 and the rate check from the hourly rollup when the period fits it
    (:mod:`hq.rollups`), else (or with ``facts``) from the sales; the figures are the same."""
    rates = await gst_rates(session)
    found = None
    if not facts and rollup_fits(query, scope):
        found = await _from_rollup(session, query, scope, rates)
    if found is None:
        by_code, output_tax = await _supplies(session, query, scope)
        recomputed, checked, mismatches = await _rate_check(session, query, scope, rates)
    else:
        by_code, output_tax, (recomputed, checked, mismatches) = found
    in_period = sorted(
        {
            r.rate_bp
            for i, r in enumerate(rates)
            if r.effective_from <= query.date_to
            and (i + 1 == len(rates) or rates[i + 1].effective_from > query.date_from)
        }
    )
    sr, zr, es = by_code.get("SR", 0), by_code.get("ZR", 0), by_code.get("ES", 0)
    box1 = sr - output_tax
    purchases = await purchases_for_f5(session=session, query=query, scope=scope)
    return GstF5(
        query=query,
        box1_standard_rated_cents=box1,
        box2_zero_rated_cents=zr,
        box3_exempt_cents=es,
        box4_total_supplies_cents=box1 + zr + es,
        box5_taxable_purchases_cents=purchases.taxable_cents,
        box6_output_tax_cents=output_tax,
        box7_input_tax_cents=purchases.input_tax_cents,
        box8_net_gst_cents=output_tax - purchases.input_tax_cents,
        note=PURCHASES_NOTE,
        rates=rates,
        rates_in_period=in_period,
        recomputed_output_tax_cents=recomputed,
        mismatches=mismatches,
        sales_checked=checked,
    )


async def _supplies(
    session: AsyncSession, query: ReportQuery, scope: Scope
) -> tuple[dict[str, int], int]:
    """Line totals by tax code and the output tax, from the sales."""
    by_code: dict[str, int] = {
        r[0]: int(r[1])
        for r in await session.execute(
            scoped_sales(
                select(m.SaleLine.tax_code, func.sum(m.SaleLine.total_cents))
                .select_from(m.SaleLine)
                .join(m.Sale, m.Sale.sale_id == m.SaleLine.sale_id),
                query,
                scope,
            ).group_by(m.SaleLine.tax_code)
        )
    }
    output_tax = int(
        (
            await session.execute(
                scoped_sales(
                    select(func.coalesce(func.sum(m.Sale.tax_cents), 0)).select_from(m.Sale),
                    query,
                    scope,
                )
            )
        ).scalar_one()
    )
    return by_code, output_tax


def _rate_in_force(column: Any, rates: list[RatePeriod], scope: Scope) -> ColumnElement[Any]:
    """The schedule's rate at ``column`` (a UTC time): a ``CASE`` over the rates' local
    start times, newest first; NULL before the first."""
    starts = [
        (window(r.effective_from, r.effective_from, scope.tz)[0], r.rate_bp)
        for r in reversed(rates)
    ]
    if not starts:
        return null()
    return case(*((column >= start, bp) for start, bp in starts), else_=None)


Checked = tuple[int, int, list[TaxMismatch]]


def _suspect(query: ReportQuery, scope: Scope, rates: list[RatePeriod]) -> ColumnElement[bool]:
    """Rollup rows with a sale whose tax may not be the rate in force's share: some sale
    was off at its own rate, or its rate is not the one in force for its hour. Written per
    rate period overlapping the report (usually one: ``off > 0 OR rate <> 900``) rather
    than as a ``CASE`` over the whole schedule, which SQLite evaluated at ~4 us a row."""
    r = SALES_HOURLY.c
    lo, hi = window(query.date_from, query.date_to, scope.tz)
    starts = [(window(x.effective_from, x.effective_from, scope.tz)[0], x.rate_bp) for x in rates]
    periods: list[ColumnElement[bool]] = []
    for i, (start, bp) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else None
        if start >= hi or (end is not None and end <= lo) or start == end:
            continue
        bounds = [r.hour >= start] if start > lo else []
        if end is not None and end < hi:
            bounds.append(r.hour < end)
        periods.append(and_(*bounds, or_(r.off_rate_sales > 0, r.gst_rate_bp != bp)))
    if not periods:
        return false()
    return and_(r.sales > 0, or_(*periods))


async def _from_rollup(
    session: AsyncSession, query: ReportQuery, scope: Scope, rates: list[RatePeriod]
) -> tuple[dict[str, int], int, Checked] | None:
    """The supplies, the output tax and the rate check from the hourly rollup.

    A rollup row whose sales were all charged the half-up share at the rate HQ has in
    force for their hour needs no recomputing: their expected tax is their tax. Rows that
    do not (a till with a stale rate, a tax a cent off) are "suspect": the rate check
    reads the sales of those terminals over the hours spanning the suspect rows from the
    facts, and the rollup everything else (one query over the rollup when nothing is
    suspect, as in a normal quarter). None when a rate starts within an hour (a
    zone with a part-hour offset): the caller reads the facts.
    """
    if any(
        start.minute or start.second or start.microsecond
        for start in (window(r.effective_from, r.effective_from, scope.tz)[0] for r in rates)
    ):
        return None
    r = SALES_HOURLY.c
    suspect = _suspect(query, scope, rates)
    suspect_hour = case((suspect, r.hour), else_=None)
    per_terminal = (
        await session.execute(
            scoped_rollup(
                select(
                    r.terminal_id,
                    func.sum(r.sr_cents).label("sr"),
                    func.sum(r.zr_cents).label("zr"),
                    func.sum(r.es_cents).label("es"),
                    func.sum(r.tax_cents).label("tax"),
                    func.sum(r.sales).label("sales"),
                    func.min(suspect_hour).label("first"),
                    func.max(suspect_hour).label("last"),
                ).select_from(SALES_HOURLY),
                SALES_HOURLY,
                query,
                scope,
                join=False,
            ).group_by(r.terminal_id)
        )
    ).all()
    by_code = {
        code: sum(int(getattr(t, code.lower())) for t in per_terminal)
        for code in ("SR", "ZR", "ES")
    }
    output_tax = sum(int(t.tax) for t in per_terminal)
    checked = sum(int(t.sales) for t in per_terminal)
    spans = [t for t in per_terminal if t.first is not None]
    if not spans:
        return by_code, output_tax, (output_tax, checked, [])
    terminals = [t.terminal_id for t in spans]
    lo = min(t.first for t in spans)
    hi = max(t.last for t in spans) + timedelta(hours=1)
    among = and_(
        m.Sale.terminal_id.in_(terminals), m.Sale.occurred_at >= lo, m.Sale.occurred_at < hi
    )
    recomputed, checked_there, mismatches = await _rate_check(
        session, query, scope, rates, among=among
    )
    there = (
        await session.execute(
            scoped_rollup(
                select(func.coalesce(func.sum(r.tax_cents), 0), func.coalesce(func.sum(r.sales), 0))
                .select_from(SALES_HOURLY)
                .where(r.terminal_id.in_(terminals), r.hour >= lo, r.hour < hi),
                SALES_HOURLY,
                query,
                scope,
                join=False,
            )
        )
    ).one()
    return (
        by_code,
        output_tax,
        (
            output_tax - int(there[0]) + recomputed,
            checked - int(there[1]) + checked_there,
            mismatches,
        ),
    )


async def _rate_check(
    session: AsyncSession,
    query: ReportQuery,
    scope: Scope,
    rates: list[RatePeriod],
    among: ColumnElement[bool] | None = None,
) -> Checked:
    """Recompute each sale's GST in SQL (a quarter of a large chain is millions of sales:
    only the totals and the first mismatches leave the database). The rate in force is a
    ``CASE`` over the schedule's local start times, newest first; the half-up division is
    integer arithmetic, exact on both dialects."""
    standard = func.sum(case((m.SaleLine.tax_code == "SR", m.SaleLine.total_cents), else_=0))
    sales = (
        scoped_sales(
            select(
                m.Sale.receipt_no,
                m.Sale.kind,
                m.Sale.occurred_at,
                m.Sale.tax_cents,
                cast(standard, BigInteger).label("sr"),
            )
            .select_from(m.Sale)
            .join(m.SaleLine, m.SaleLine.sale_id == m.Sale.sale_id),
            query,
            scope,
        )
        .where(true() if among is None else among)
        .group_by(m.Sale.sale_id, m.Sale.receipt_no, m.Sale.kind, m.Sale.occurred_at)
        .group_by(m.Sale.tax_cents)
        .subquery()
    )
    rate = _rate_in_force(sales.c.occurred_at, rates, scope)
    is_sale = sales.c.kind == "sale"
    checkable = and_(is_sale, rate.is_not(None))
    expected = case(
        (checkable, (2 * sales.c.sr * rate + 10_000 + rate) // (2 * (10_000 + rate))),
        else_=sales.c.tax_cents,
    )
    differs = and_(checkable, expected != sales.c.tax_cents)
    totals = (
        await session.execute(
            select(
                func.coalesce(func.sum(expected), 0),
                func.coalesce(func.sum(case((is_sale, 1), else_=0)), 0),
                func.coalesce(func.sum(case((differs, 1), else_=0)), 0),
            )
        )
    ).one()
    mismatches: list[TaxMismatch] = []
    if totals[2]:  # the listing reads the sales again: only when there is something to list
        wrong = await session.execute(
            select(
                sales.c.receipt_no, sales.c.occurred_at, sales.c.sr, sales.c.tax_cents,
                expected.label("expected"), rate.label("rate"),
            )
            .where(differs)
            .order_by(sales.c.occurred_at, sales.c.receipt_no)
            .limit(MAX_MISMATCHES)
        )  # fmt: skip
        mismatches = [
            TaxMismatch(
                receipt_no=r.receipt_no,
                day=r.occurred_at.astimezone(scope.tz).date().isoformat(),
                standard_rated_cents=int(r.sr),
                recorded_tax_cents=int(r.tax_cents),
                expected_tax_cents=int(r.expected),
                rate_bp=int(r.rate),
            )
            for r in wrong
        ]
    return int(totals[0]), int(totals[1]), mismatches
