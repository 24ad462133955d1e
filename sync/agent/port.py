"""What the sync agent needs from the till's store, declared here so the agent never
imports the till.

The agent runs inside the till process, but it is a separate layer: it talks to HQ and
to *a* store with this shape. The till implements it (``terminal.services.sync_store``)
and its composition roots (``terminal/cli``, ``terminal/ui/app.py``) hand that to the
agent. Tests hand it the real till store, or a small in-memory one for edge cases a
real database cannot be made to show.

Every method is one short unit of work at the store: the agent never holds a local
transaction across a network call (invariant 9). A store failure the till can explain
(locked, full, not initialised) is raised as :class:`StoreError`, so the agent can log
it and try again later without knowing the till's own error classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from sync.protocol import ChangePage, WhoAmI

__all__ = [
    "MarkResult",
    "Outcome",
    "OutboxCounts",
    "PendingEvent",
    "StoreError",
    "SyncConfig",
    "TillStore",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreError(Exception):
    """The till's store could not do what the agent asked; ``message`` is for people."""

    code = "store_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SyncConfig(_Model):
    """Where HQ is and who this till is to it (``None`` until enrolled)."""

    hq_url: str | None
    token: str | None
    terminal_id: str | None
    change_cursor: int
    acked_seq: int
    last_push_ok_at: datetime | None
    last_pull_ok_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None

    @property
    def enrolled(self) -> bool:
        return bool(self.hq_url and self.token and self.terminal_id)


class OutboxCounts(_Model):
    """How many events wait for HQ, were refused by it, or were acknowledged."""

    pending: int
    rejected: int
    sent: int


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """One outbox row as it goes on the wire; ``payload`` is the stored JSON text."""

    seq: int
    event_id: str
    type: str
    schema_version: int
    occurred_at: str
    payload: str


Outcome = tuple[int, Literal["accepted", "duplicate", "rejected"], str | None]
"""``(seq, status, reason)`` for one event HQ answered about."""


class MarkResult(_Model):
    """What one answer from HQ changed at the till."""

    sent: int
    rejected: int
    reset_for_resend: int
    """Events set back to pending because HQ's contiguous mark fell below them."""
    hq_went_back: bool
    """HQ's mark is below the one it reported before: it was restored from a backup."""
    counts: OutboxCounts | None = None
    """The outbox counts after this answer, read in the same unit of work (so the agent
    need not read them again)."""


class TillStore(Protocol):
    """The till's side of sync: each method is one short unit of work."""

    async def load_sync_config(self) -> SyncConfig:
        """HQ's URL, the token, the cursor and the last outcome."""
        ...

    async def outbox_counts(self) -> OutboxCounts: ...

    async def read_pending(self, *, after_seq: int, limit: int) -> list[PendingEvent]:
        """Pending events after ``after_seq`` in ``terminal_seq`` order."""
        ...

    async def record_push_answer(
        self,
        *,
        outcomes: Sequence[Outcome],
        contiguous_seq: int,
        at: datetime,
        pulled_at: datetime | None = None,
    ) -> MarkResult:
        """Mark the events HQ answered about and compare HQ's contiguous mark.

        The same unit of work is the cycle's bookkeeping: ``at`` becomes the last good
        push, ``pulled_at`` (when given) the last good pull, and the last error is
        cleared, so an online sale costs the till one write transaction.
        """
        ...

    async def reconcile_hq_mark(self, *, contiguous_seq: int, at: datetime) -> MarkResult:
        """Compare HQ's mark (from a change page) with what the till holds as sent."""
        ...

    async def apply_change_page(self, page: ChangePage, *, at: datetime) -> None:
        """Apply one pulled page and its cursor together."""
        ...

    async def record_sync_ok(self, *, pushed: bool, pulled: bool, at: datetime) -> None:
        """A cycle with nothing to push finished: stamp the push and/or pull time and
        clear the last error (a cycle that pushed did this in its last push answer)."""
        ...

    async def record_error(
        self, *, message: str, at: datetime, attempted_seqs: Sequence[int] = ()
    ) -> None:
        """Store the failure and count the attempt on events whose answer never came."""
        ...

    async def prune_sent(self, *, older_than: datetime) -> int:
        """Delete sent events past retention that HQ provably holds; return how many."""
        ...

    async def enroll(self, *, hq_url: str, token: str, who: WhoAmI) -> None:
        """Store HQ's URL, the token and the identity HQ gave this till."""
        ...
