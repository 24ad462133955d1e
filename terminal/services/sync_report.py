"""What the Sync screen lists: outbox events not yet accepted by HQ, with reasons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select

from terminal.db.engine import Database
from terminal.db.models import OutboxEvent, SyncState
from terminal.services.outbox import count_outbox
from terminal.services.schemas import Model
from terminal.services.uow import reading


class OutboxItem(Model):
    seq: int
    type: str
    status: str
    occurred_at: datetime
    attempts: int
    reason: str | None


async def unsent_events(db: Database, *, limit: int = 200) -> list[OutboxItem]:
    """Rejected events first (they need a person), then the oldest pending ones."""
    async with reading(db) as s:
        rows = (
            await s.execute(
                select(
                    OutboxEvent.seq,
                    OutboxEvent.type,
                    OutboxEvent.status,
                    OutboxEvent.occurred_at,
                    OutboxEvent.attempts,
                    OutboxEvent.reason,
                )
                .where(OutboxEvent.status.in_(("pending", "rejected")))
                .order_by(case((OutboxEvent.status == "rejected", 0), else_=1), OutboxEvent.seq)
                .limit(limit)
            )
        ).all()
    return [OutboxItem.model_validate(r, from_attributes=True) for r in rows]


class SyncSummary(Model):
    """The till's own record of sync (true even when no agent is running)."""

    hq_url: str | None
    pending: int
    rejected: int
    sent: int
    last_push_ok_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


async def sync_summary(db: Database) -> SyncSummary:
    async with reading(db) as s:
        counts = await count_outbox(s)
        row = (
            await s.execute(
                select(
                    SyncState.hq_url,
                    SyncState.last_push_ok_at,
                    SyncState.last_error,
                    SyncState.last_error_at,
                )
            )
        ).first()
    return SyncSummary(
        hq_url=row.hq_url if row else None,
        pending=counts.pending,
        rejected=counts.rejected,
        sent=counts.sent,
        last_push_ok_at=row.last_push_ok_at if row else None,
        last_error=row.last_error if row else None,
        last_error_at=row.last_error_at if row else None,
    )
