"""The till's sync agent: the outbox up to HQ, HQ's changes down to the till.

It runs inside the till process but never imports the till: it works against the
:class:`TillStore` port declared in :mod:`sync.agent.port`, which the till implements and
its composition roots hand in. httpx errors are translated in one place
(:mod:`sync.agent.hq_client`) into the hierarchy of :mod:`sync.agent.errors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sync.agent.errors import (
    NotEnrolledError,
    SyncError,
    SyncProtocolError,
    SyncRefusedError,
    SyncTransportError,
)
from sync.agent.port import (
    MarkResult,
    OutboxCounts,
    Outcome,
    PendingEvent,
    StoreError,
    SyncConfig,
    TillStore,
)

if TYPE_CHECKING:
    from sync.agent.agent import AgentState, SyncAgent, SyncReport, enroll, load_agent_state

_LAZY = {"AgentState", "SyncAgent", "SyncReport", "enroll", "load_agent_state"}
"""Loaded on first use: the agent module pulls in httpx and stamina, which the till's
start-up (and the port types it imports) should not pay for."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from sync.agent import agent

        return getattr(agent, name)
    raise AttributeError(f"module 'sync.agent' has no attribute {name!r}")


__all__ = [
    "AgentState",
    "MarkResult",
    "NotEnrolledError",
    "OutboxCounts",
    "Outcome",
    "PendingEvent",
    "StoreError",
    "SyncAgent",
    "SyncConfig",
    "SyncError",
    "SyncProtocolError",
    "SyncRefusedError",
    "SyncReport",
    "SyncTransportError",
    "TillStore",
    "enroll",
    "load_agent_state",
]
