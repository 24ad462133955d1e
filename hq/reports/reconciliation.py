"""Reconciliation: each closed shift's own figures (as the till sent them when it closed)
beside HQ's sums of the events it holds for that shift, to the cent, and every gap in
each terminal's sequence.

A difference means HQ is missing sales of that shift (a gap, or events still in the
till's outbox or in quarantine) or the till's count is wrong. The till's Z report, when
tills send one, will add its tender and GST totals here; until then the shift close is
what the till declares.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel, computed_field
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.reports.common import ReportQuery, Scope, restrict, window
from hq.reports.dashboard import till_health
from hq.reports.sales import cents


class ShiftRow(BaseModel):
    shift_id: uuid.UUID
    terminal_id: str
    cashier: str | None
    opened_at: datetime
    closed_at: datetime
    till_sales_count: int
    hq_sales_count: int
    till_sales_cents: int
    hq_sales_cents: int
    till_expected_cash_cents: int
    hq_expected_cash_cents: int
    """Opening float, plus the cash HQ holds for the shift's sales, less its cash refunds,
    plus petty cash in, less petty cash out: the till's own rule, from HQ's facts."""
    counted_cash_cents: int
    variance_cents: int
    """Counted minus the till's expected cash."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def differences(self) -> list[str]:
        """Each figure where the till and HQ disagree, in words (empty: they agree)."""
        out = []
        if self.till_sales_count != self.hq_sales_count:
            out.append(
                f"sales count {self.till_sales_count} at the till, {self.hq_sales_count} at HQ"
            )
        if self.till_sales_cents != self.hq_sales_cents:
            diff = self.till_sales_cents - self.hq_sales_cents
            out.append(f"sales {cents(diff)} more at the till")
        if self.till_expected_cash_cents != self.hq_expected_cash_cents:
            diff = self.till_expected_cash_cents - self.hq_expected_cash_cents
            out.append(f"expected cash {cents(diff)} more at the till")
        return out


class Gap(BaseModel):
    terminal_id: str
    contiguous_seq: int
    highest_seq: int
    missing: int


class ReconciliationReport(BaseModel):
    query: ReportQuery
    shifts: list[ShiftRow]
    differing: int
    gaps: list[Gap]

    def table(self) -> tuple[list[str], list[list[Any]]]:
        head = ["shift", "terminal", "cashier", "closed_at", "till_sales_count", "hq_sales_count",
                "till_sales", "hq_sales", "till_expected_cash", "hq_expected_cash", "counted_cash",
                "variance", "differences"]  # fmt: skip
        return head, [
            [str(s.shift_id), s.terminal_id, s.cashier or "", s.closed_at.isoformat(),
             s.till_sales_count, s.hq_sales_count, cents(s.till_sales_cents),
             cents(s.hq_sales_cents), cents(s.till_expected_cash_cents),
             cents(s.hq_expected_cash_cents), cents(s.counted_cash_cents),
             cents(s.variance_cents), "; ".join(s.differences)]
            for s in self.shifts
        ]  # fmt: skip


async def _petty_cash(session: AsyncSession, found: list[Any]) -> list[tuple[Any, int]]:
    """(shift, signed amount) of each petty-cash movement into or out of those shifts.

    Cash movements are kept as events only (they are rare: a few per shift), read here by
    the shifts' terminals and matched to the shift in the payload.
    """
    shifts = {str(r.Shift.shift_id): r.Shift.shift_id for r in found}
    terminals = {r.Shift.terminal_id for r in found}
    if not shifts:
        return []
    moved = []
    for (payload,) in await session.execute(
        select(m.Event.payload).where(
            m.Event.type == "cash.movement",
            m.Event.quarantined.is_(False),
            m.Event.terminal_id.in_(terminals),
        )
    ):
        shift = shifts.get(str(payload.get("shift_id")))
        kind, amount = payload.get("kind"), int(payload.get("amount_cents") or 0)
        if shift is not None and kind in ("in", "out"):
            moved.append((shift, amount if kind == "in" else -amount))
    return moved


async def reconciliation(
    *, session: AsyncSession, query: ReportQuery, scope: Scope
) -> ReconciliationReport:
    lo, hi = window(query.date_from, query.date_to, scope.tz)
    sh = m.Shift
    shifts = (
        select(sh, m.Cashier.name.label("cashier"))
        .join(m.Terminal, m.Terminal.terminal_id == sh.terminal_id)
        .outerjoin(m.Cashier, m.Cashier.cashier_id == sh.cashier_id)
        .where(and_(sh.closed_at >= lo, sh.closed_at < hi))
        .order_by(sh.closed_at, sh.terminal_id)
        .limit(2000)
    )
    shifts = restrict(shifts, query.model_copy(update={"cashier": None}), scope)
    if query.cashier:
        shifts = shifts.where(func.lower(m.Cashier.name) == query.cashier.strip().lower())
    found = list(await session.execute(shifts))
    ids = [r.Shift.shift_id for r in found]
    is_sale = m.Sale.kind == "sale"
    sums = {
        r.shift_id: r
        for r in await session.execute(
            select(
                m.Sale.shift_id,
                func.count().label("n"),
                func.coalesce(func.sum(m.Sale.total_cents), 0).label("total"),
            )
            .where(m.Sale.shift_id.in_(ids), is_sale)
            .group_by(m.Sale.shift_id)
        )
    }
    cash: dict[Any, int] = defaultdict(int)
    for shift_id, total in await session.execute(  # refunds' payments are negative
        select(m.Sale.shift_id, func.sum(m.SalePayment.amount_cents))
        .join(m.SalePayment, m.SalePayment.sale_id == m.Sale.sale_id)
        .where(m.Sale.shift_id.in_(ids), m.SalePayment.tender == "cash")
        .group_by(m.Sale.shift_id)
    ):
        cash[shift_id] += int(total or 0)
    for shift_id, moved in await _petty_cash(session, found):
        cash[shift_id] += moved
    rows = []
    for r in found:
        s, hq_sum = r.Shift, sums.get(r.Shift.shift_id)
        rows.append(
            ShiftRow(
                shift_id=s.shift_id,
                terminal_id=s.terminal_id,
                cashier=r.cashier,
                opened_at=s.opened_at,
                closed_at=s.closed_at,
                till_sales_count=s.sales_count,
                hq_sales_count=int(hq_sum.n) if hq_sum else 0,
                till_sales_cents=s.sales_total_cents,
                hq_sales_cents=int(hq_sum.total) if hq_sum else 0,
                till_expected_cash_cents=s.expected_cash_cents,
                hq_expected_cash_cents=s.opening_float_cents + cash.get(s.shift_id, 0),
                counted_cash_cents=s.counted_cash_cents,
                variance_cents=s.counted_cash_cents - s.expected_cash_cents,
            )
        )
    tills = await till_health(session=session, scope=scope, silent_after=10**9)
    gaps = [
        Gap(
            terminal_id=t.terminal_id,
            contiguous_seq=t.contiguous_seq,
            highest_seq=t.highest_seq,
            missing=t.gaps,
        )
        for t in tills
        if t.gaps
        and (not query.terminal or t.terminal_id == query.terminal)
        and (not query.outlet or t.outlet == query.outlet)
    ]
    return ReconciliationReport(
        query=query,
        shifts=rows,
        differing=sum(1 for x in rows if x.differences),
        gaps=gaps,
    )
