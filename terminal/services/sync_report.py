"""What the Sync screen lists: outbox events not yet accepted by HQ, with reasons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select

from terminal.db.engine import Database
from terminal.db.models import OutboxEvent
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
