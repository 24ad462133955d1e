"""Quarantine: every event HQ refused, with its reason and the body as received.

An owner may dismiss one (it needs no repair: a test sale, a duplicate made by hand...);
the event stays in quarantine and the decision is kept beside it, with who and why.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.reports.common import ReportQuery, Scope, restrict, window
from hq.sqlutil import insert

RAW_SHOWN = 4000


class QuarantinedEvent(BaseModel):
    event_id: uuid.UUID
    terminal_id: str
    terminal_seq: int
    reason: str
    raw: str
    received_at: datetime
    dismissed_by: str | None
    dismissed_at: datetime | None
    dismiss_note: str | None


class QuarantineReport(BaseModel):
    query: ReportQuery
    rows: list[QuarantinedEvent]
    open: int
    dismissed: int

    def table(self) -> tuple[list[str], list[list[Any]]]:
        head = ["event_id", "terminal", "seq", "received_at", "reason", "dismissed_by", "raw"]
        return head, [
            [str(r.event_id), r.terminal_id, r.terminal_seq, r.received_at.isoformat(), r.reason,
             r.dismissed_by or "", r.raw]
            for r in self.rows
        ]  # fmt: skip


async def quarantine(
    *, session: AsyncSession, query: ReportQuery, scope: Scope, limit: int = 500
) -> QuarantineReport:
    lo, hi = window(query.date_from, query.date_to, scope.tz)
    q, d = m.Quarantine, m.QuarantineDismissal
    stmt = (
        select(q, d.dismissed_by, d.dismissed_at, d.note)
        .join(m.Terminal, m.Terminal.terminal_id == q.terminal_id)
        .outerjoin(d, d.event_id == q.event_id)
        .where(and_(q.received_at >= lo, q.received_at < hi))
        .order_by(q.received_at.desc(), q.terminal_id, q.terminal_seq)
        .limit(limit)
    )
    stmt = restrict(stmt, query.model_copy(update={"cashier": None}), scope)
    rows = [
        QuarantinedEvent(
            event_id=row.Quarantine.event_id,
            terminal_id=row.Quarantine.terminal_id,
            terminal_seq=row.Quarantine.terminal_seq,
            reason=row.Quarantine.reason,
            raw=row.Quarantine.raw,
            received_at=row.Quarantine.received_at,
            dismissed_by=row.dismissed_by,
            dismissed_at=row.dismissed_at,
            dismiss_note=row.note,
        )
        for row in await session.execute(stmt)
    ]
    dismissed = sum(1 for r in rows if r.dismissed_by)
    return QuarantineReport(query=query, rows=rows, open=len(rows) - dismissed, dismissed=dismissed)


class DismissError(LookupError):
    pass


async def dismiss(
    *, session: AsyncSession, event_id: uuid.UUID, by: str, note: str, scope: Scope
) -> bool:
    """Mark a quarantined event dismissed; False if it already was. Raises
    :class:`DismissError` for an event that is not in quarantine (or not in scope)."""
    stmt = (
        select(m.Quarantine.terminal_id)
        .join(m.Terminal, m.Terminal.terminal_id == m.Quarantine.terminal_id)
        .where(m.Quarantine.event_id == event_id)
    )
    if scope.outlets is not None:
        stmt = stmt.where(m.Terminal.outlet_code.in_(scope.outlets))
    terminal_id = (await session.execute(stmt)).scalar_one_or_none()
    if terminal_id is None:
        raise DismissError(f"no quarantined event {event_id}")
    await session.execute(  # the terminal's lock, as a retry and every push take it
        select(m.Terminal.terminal_id)
        .where(m.Terminal.terminal_id == terminal_id)
        .with_for_update()
    )
    if (
        await session.execute(
            select(m.Quarantine.event_id).where(m.Quarantine.event_id == event_id)
        )
    ).first() is None:  # a retry took it out while we waited
        raise DismissError(f"no quarantined event {event_id}")
    done = await session.execute(
        insert(session, m.QuarantineDismissal.__table__)
        .values(event_id=event_id, dismissed_by=by, dismissed_at=datetime.now(UTC), note=note)
        .on_conflict_do_nothing()
        .returning(m.QuarantineDismissal.event_id)
    )
    return done.first() is not None
