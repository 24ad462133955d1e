"""Whole-store totals (``kedai-hq report summary``, ``GET /v1/reports/summary``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m


class TerminalSummary(BaseModel):
    terminal: str
    contiguous_seq: int
    last_seen_at: datetime | None
    quarantined: int
    revoked: bool


class Summary(BaseModel):
    sales_count: int
    """Completed sales (refunds are not counted here)."""
    sales_total_cents: int
    """Sum of completed sales' totals, before refunds."""
    refunds_count: int
    refunds_total_cents: int
    """Sum of refunds as a positive amount."""
    net_sales_cents: int
    cancels_count: int
    """Carts cancelled at tills with a manager's approval (nothing sold)."""
    z_reports_count: int
    """Shifts closed with a Z report."""
    loyalty_points_outstanding: int
    """Sum of every customer's HQ balance (equal to the sum of the ledger)."""
    events_held: int
    terminals: list[TerminalSummary]


async def summary(*, session: AsyncSession) -> Summary:
    by_kind = {
        row.kind: row
        for row in await session.execute(
            select(
                m.Sale.kind,
                func.count().label("n"),
                func.coalesce(func.sum(m.Sale.total_cents), 0).label("total"),
            ).group_by(m.Sale.kind)
        )
    }
    sales_n = int(by_kind["sale"].n) if "sale" in by_kind else 0
    sales_total = int(by_kind["sale"].total) if "sale" in by_kind else 0
    refunds_n = int(by_kind["refund"].n) if "refund" in by_kind else 0
    refunds_total = -int(by_kind["refund"].total) if "refund" in by_kind else 0
    points = (
        await session.execute(select(func.coalesce(func.sum(m.Customer.loyalty_balance), 0)))
    ).scalar_one()
    events_held = (await session.execute(select(func.count()).select_from(m.Event))).scalar_one()
    cancels = (await session.execute(select(func.count()).select_from(m.Cancel))).scalar_one()
    z_reports = (await session.execute(select(func.count()).select_from(m.ZReportRow))).scalar_one()
    quarantined = dict(
        (
            await session.execute(
                select(m.Quarantine.terminal_id, func.count()).group_by(m.Quarantine.terminal_id)
            )
        ).all()
    )
    terminals = [
        TerminalSummary(
            terminal=t.terminal_id,
            contiguous_seq=t.contiguous_seq,
            last_seen_at=t.last_seen_at,
            quarantined=int(quarantined.get(t.terminal_id, 0)),
            revoked=t.revoked,
        )
        for t in (
            await session.execute(select(m.Terminal).order_by(m.Terminal.terminal_id))
        ).scalars()
    ]
    return Summary(
        sales_count=sales_n,
        sales_total_cents=sales_total,
        refunds_count=refunds_n,
        refunds_total_cents=refunds_total,
        net_sales_cents=sales_total - refunds_total,
        cancels_count=int(cancels),
        z_reports_count=int(z_reports),
        loyalty_points_outstanding=int(points),
        events_held=int(events_held),
        terminals=terminals,
    )
