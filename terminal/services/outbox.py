"""The outbox inside a caller's unit of work: appending events, counting them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from sync.agent.port import OutboxCounts
from sync.protocol import SCHEMA_VERSION, WireModel
from terminal.db.models import Counter, OutboxEvent


async def count_outbox(session: AsyncSession) -> OutboxCounts:
    """Outbox events by status, in the caller's unit of work (one grouped query)."""
    rows = await session.execute(
        select(OutboxEvent.status, func.count()).group_by(OutboxEvent.status)
    )
    by_status = {row[0]: row[1] for row in rows}
    return OutboxCounts(
        pending=by_status.get("pending", 0),
        rejected=by_status.get("rejected", 0),
        sent=by_status.get("sent", 0),
    )


def event_row(seq: int, event_type: str, payload: WireModel, at: datetime) -> dict[str, Any]:
    """The outbox row for one event; ``seq`` must be the event counter plus one."""
    return {
        "seq": seq,
        "event_id": uuid.uuid4(),
        "type": event_type,
        "schema_version": SCHEMA_VERSION,
        "occurred_at": at,
        "payload": payload.model_dump_json(),
        "status": "pending",
        "attempts": 0,
    }


async def append_event(
    session: AsyncSession, event_type: str, payload: WireModel, at: datetime
) -> int:
    """Append one event in the caller's transaction; returns its ``terminal_seq``."""
    last = (
        await session.execute(select(Counter.value).where(Counter.name == "event"))
    ).scalar_one()
    await session.execute(insert(OutboxEvent), [event_row(last + 1, event_type, payload, at)])
    return last + 1
