"""Appending events to the outbox inside a caller's unit of work."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from sync.protocol import SCHEMA_VERSION, WireModel
from terminal.db.models import Counter, OutboxEvent


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
