"""The dashboard's figures: today and this week by outlet, hourly and 30-day series, top
products, and each till's sync health.

Sync health comes from what HQ itself holds: the contiguous mark, the highest seq it has
seen (so a gap is ``highest - contiguous - events held above the mark``), quarantined
events not yet dismissed, and when the till last pushed. A till silent longer than the
configured time is flagged: it may be offline, switched off or broken.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.reports.common import (
    ReportQuery,
    Scope,
    local_hour,
    rollup_fits,
    scoped_rollup,
    scoped_sales,
    today,
)
from hq.reports.products import ProductRow, top_products
from hq.reports.sales import SalesRow, sales_summary
from hq.rollups import SALES_HOURLY


class Period(BaseModel):
    label: str
    date_from: date
    date_to: date
    total: SalesRow
    by_outlet: list[SalesRow]


class Point(BaseModel):
    label: str
    net_sales_cents: int
    transactions: int


class TillHealth(BaseModel):
    terminal_id: str
    outlet: str
    last_seen_at: datetime | None
    silent_minutes: int | None
    """Minutes since HQ last heard from the till (None: never)."""
    contiguous_seq: int
    highest_seq: int
    gaps: int
    """Seqs missing between the contiguous mark and the highest seq HQ holds."""
    quarantined: int
    """Quarantined events not dismissed."""
    revoked: bool
    warning: str | None


class Dashboard(BaseModel):
    today: Period
    week: Period
    hourly: list[Point]
    """Today, local hours 0-23."""
    trend: list[Point]
    """The last 30 local days, oldest first."""
    top_products: list[ProductRow]
    tills: list[TillHealth]
    silent_after_minutes: int
    pending_note: str = (
        "Pending counts and app versions are not reported by tills yet; "
        "the gap and quarantine columns are HQ's own view."
    )


async def _period(
    session: AsyncSession, label: str, start: date, end: date, scope: Scope, facts: bool
) -> Period:
    query = ReportQuery(date_from=start, date_to=end)
    outlets = await sales_summary(
        session=session, query=query, scope=scope, group_by="outlet", facts=facts
    )
    return Period(
        label=label, date_from=start, date_to=end, total=outlets.total, by_outlet=outlets.rows
    )


async def dashboard(
    *, session: AsyncSession, scope: Scope, silent_after_minutes: int, facts: bool = False
) -> Dashboard:
    """The sales figures come from the hourly rollups (``facts``: from the sales)."""
    day = today(scope.tz)
    monday = day - timedelta(days=day.weekday())
    today_q = ReportQuery(date_from=day, date_to=day)
    by_hour = await _hourly(session, today_q, scope, facts)
    start30 = day - timedelta(days=29)
    trend_q = ReportQuery(date_from=start30, date_to=day)
    by_day = {
        r.key: r
        for r in (
            await sales_summary(session=session, query=trend_q, scope=scope, facts=facts)
        ).rows
    }
    trend = []
    for i in range(30):
        d = (start30 + timedelta(days=i)).isoformat()
        row = by_day.get(d)
        trend.append(
            Point(
                label=d,
                net_sales_cents=row.net_sales_cents if row else 0,
                transactions=row.transactions if row else 0,
            )
        )
    hourly = [
        Point(
            label=f"{h:02d}",
            net_sales_cents=int(by_hour[h].net) if h in by_hour else 0,
            transactions=int(by_hour[h].n) if h in by_hour else 0,
        )
        for h in range(24)
    ]
    week_q = ReportQuery(date_from=monday, date_to=day)
    top = await top_products(session=session, query=week_q, scope=scope, limit=10, facts=facts)
    return Dashboard(
        today=await _period(session, "Today", day, day, scope, facts),
        week=await _period(session, "This week", monday, day, scope, facts),
        hourly=hourly,
        trend=trend,
        top_products=top.rows,
        tills=await till_health(session=session, scope=scope, silent_after=silent_after_minutes),
        silent_after_minutes=silent_after_minutes,
    )


async def _hourly(
    session: AsyncSession, query: ReportQuery, scope: Scope, facts: bool
) -> dict[int, Any]:
    """Net sales and transactions by local hour of one day."""
    if not facts and rollup_fits(query, scope):
        r = SALES_HOURLY.c
        hour = local_hour(session, r.hour, scope.tz, query.date_from)
        stmt = scoped_rollup(
            select(
                hour.label("h"),
                func.sum(r.gross_cents + r.refunded_cents).label("net"),
                func.sum(r.sales).label("n"),
            ).select_from(SALES_HOURLY),
            SALES_HOURLY,
            query,
            scope,
        )
    else:
        hour = local_hour(session, m.Sale.occurred_at, scope.tz, query.date_from)
        stmt = scoped_sales(
            select(
                hour.label("h"),
                func.sum(m.Sale.total_cents).label("net"),
                func.count().filter(m.Sale.kind == "sale").label("n"),
            ).select_from(m.Sale),
            query,
            scope,
        )
    return {int(row.h): row for row in await session.execute(stmt.group_by(hour))}


async def till_health(
    *, session: AsyncSession, scope: Scope, silent_after: int
) -> list[TillHealth]:
    terminals = select(m.Terminal).order_by(m.Terminal.terminal_id)
    if scope.outlets is not None:
        terminals = terminals.where(m.Terminal.outlet_code.in_(scope.outlets))
    tills = list((await session.execute(terminals)).scalars())
    ids = [t.terminal_id for t in tills]
    highest = dict(
        (
            await session.execute(
                select(m.Event.terminal_id, func.max(m.Event.terminal_seq))
                .where(m.Event.terminal_id.in_(ids))
                .group_by(m.Event.terminal_id)
            )
        ).all()
    )
    above = dict(
        (
            await session.execute(
                select(m.Event.terminal_id, func.count())
                .join(m.Terminal, m.Terminal.terminal_id == m.Event.terminal_id)
                .where(
                    m.Event.terminal_id.in_(ids), m.Event.terminal_seq > m.Terminal.contiguous_seq
                )
                .group_by(m.Event.terminal_id)
            )
        ).all()
    )
    open_q = dict(
        (
            await session.execute(
                select(m.Quarantine.terminal_id, func.count())
                .outerjoin(
                    m.QuarantineDismissal,
                    m.QuarantineDismissal.event_id == m.Quarantine.event_id,
                )
                .where(
                    m.Quarantine.terminal_id.in_(ids),
                    m.QuarantineDismissal.event_id.is_(None),
                )
                .group_by(m.Quarantine.terminal_id)
            )
        ).all()
    )
    now = datetime.now(UTC)
    out = []
    for t in tills:
        top = int(highest.get(t.terminal_id) or 0)
        gaps = max(0, top - t.contiguous_seq - int(above.get(t.terminal_id, 0)))
        silent = int((now - t.last_seen_at).total_seconds() // 60) if t.last_seen_at else None
        warning = None
        if t.revoked:
            warning = "revoked"
        elif silent is None:
            warning = "never synced"
        elif silent > silent_after:
            warning = f"silent for {_ago(silent)}"
        elif gaps:
            warning = f"{gaps} missing"
        elif open_q.get(t.terminal_id):
            warning = f"{open_q[t.terminal_id]} in quarantine"
        out.append(
            TillHealth(
                terminal_id=t.terminal_id,
                outlet=t.outlet_code,
                last_seen_at=t.last_seen_at,
                silent_minutes=silent,
                contiguous_seq=t.contiguous_seq,
                highest_seq=top,
                gaps=gaps,
                quarantined=int(open_q.get(t.terminal_id, 0)),
                revoked=t.revoked,
                warning=warning,
            )
        )
    return out


def _ago(minutes: int) -> str:
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} days"
