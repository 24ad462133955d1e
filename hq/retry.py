"""Retry a quarantined event: run it through the normal ingest path again, after a fix.

An event is refused for a reason that may stop holding: a GST rate HQ's settings lacked,
a balance that was out of bounds, an id that collided with a fact since corrected. The
owner's retry re-reads the envelope exactly as it was received (:func:`hq.wire.read_push`)
and hands it to :func:`hq.ingest.ingest_batch`, so it meets every check a till's push
meets, and nothing else. One unit of work, under the terminal's row lock (the lock every
push of that terminal takes, so a retry and a push, or two retries, run one after the
other):

1. the quarantine row is taken out, with the ``events`` row HQ kept for it (a refused
   event has no facts, only its place in the terminal's sequence);
2. the envelope is ingested; ``events.event_id`` being unique means it can become facts
   at most once, whoever retries it how often;
3. refused again, it is back in quarantine with the new reason (and its first arrival
   time, so the list keeps it where it was).

A dismissed event is not retried (the owner decided it needs no repair), and an event of
a revoked terminal is not either: HQ applies nothing from a revoked till.
"""

from __future__ import annotations

import json
import uuid
from typing import Literal

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.ingest import TerminalNotAllowed, ingest_batch
from hq.reports.common import Scope
from hq.wire import read_push


class RetryOutcome(BaseModel):
    event_id: uuid.UUID
    status: Literal["accepted", "rejected"]
    """accepted: the event is now facts and has left quarantine; rejected: it stays."""
    reason: str | None
    """Why it was refused again."""
    contiguous_seq: int
    """The terminal's contiguous mark after the retry."""


class NotQuarantined(LookupError):
    """No such event in quarantine (or not in the asker's scope): retried already?"""


class RetryRefused(ValueError):
    """The event is in quarantine but may not be retried (dismissed, revoked terminal)."""


async def retry(*, session: AsyncSession, event_id: uuid.UUID, scope: Scope) -> RetryOutcome:
    """Re-run one quarantined event through ingest; the caller owns the transaction."""
    q = m.Quarantine
    found = (
        await session.execute(
            select(q.terminal_id, q.raw, q.received_at, m.Terminal.outlet_code, m.Terminal.revoked)
            .join(m.Terminal, m.Terminal.terminal_id == q.terminal_id)
            .where(q.event_id == event_id)
        )
    ).one_or_none()
    if found is None or (scope.outlets is not None and found.outlet_code not in scope.outlets):
        raise NotQuarantined(f"no quarantined event {event_id}")
    if found.revoked:
        raise RetryRefused(f"terminal {found.terminal_id} is revoked: HQ applies nothing of it")
    await session.execute(  # the lock every push of this terminal takes, before anything else
        select(m.Terminal.terminal_id)
        .where(m.Terminal.terminal_id == found.terminal_id)
        .with_for_update()
    )
    dismissed = await session.get(m.QuarantineDismissal, event_id)
    if dismissed is not None:
        raise RetryRefused(f"event {event_id} was dismissed by {dismissed.dismissed_by}")
    taken = await session.execute(delete(q).where(q.event_id == event_id).returning(q.event_id))
    if taken.first() is None:  # another retry took it out first
        raise NotQuarantined(f"no quarantined event {event_id}")
    await session.execute(
        delete(m.Event).where(m.Event.event_id == event_id, m.Event.quarantined.is_(True))
    )
    body = json.dumps({"terminal_id": found.terminal_id, "events": [json.loads(found.raw)]})
    try:
        push = read_push(body.encode())
    except RequestValidationError as exc:  # pragma: no cover - it was quarantined by this
        raise RetryRefused(f"event {event_id} cannot be read as an envelope") from exc
    try:
        answer = await ingest_batch(
            session=session, terminal_id=found.terminal_id, events=push.events
        )
    except TerminalNotAllowed as exc:
        raise RetryRefused(f"terminal {found.terminal_id} is revoked") from exc
    result = answer.results[0]
    if result.status == "duplicate":
        # The event id is already applied (sent again from elsewhere): nothing of this
        # envelope was. Roll back rather than drop it from quarantine as if accepted.
        raise RetryRefused(
            f"event {event_id} is already applied at HQ; dismiss this copy with a reason"
        )
    if result.status == "rejected":
        await session.execute(
            update(q).where(q.event_id == event_id).values(received_at=found.received_at)
        )
        return RetryOutcome(
            event_id=event_id,
            status="rejected",
            reason=result.reason,
            contiguous_seq=answer.contiguous_seq,
        )
    return RetryOutcome(
        event_id=event_id, status="accepted", reason=None, contiguous_seq=answer.contiguous_seq
    )
