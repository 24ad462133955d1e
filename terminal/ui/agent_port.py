"""What the UI needs from the sync agent (``sync.agent.SyncAgent``), as a Protocol.

The UI never imports ``sync.agent`` at start-up (httpx and friends cost start-up time);
it is handed an object with this shape. ``state`` is the agent's frozen ``AgentState``
(online, enrolled, pending, rejected, sent_total, backlog_total, last_success_at,
last_error, last_error_at, hq_url), read by attribute.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class AgentPort(Protocol):
    @property
    def state(self) -> Any: ...

    async def run(self) -> None: ...

    def nudge(self) -> None: ...

    async def sync_once(self) -> Any: ...

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]: ...

    async def aclose(self) -> None: ...


def describe(state: Any) -> tuple[str, str]:
    """(indicator text, CSS class) for the header: honest about what is known."""
    if state is None:
        return "sync off", "offline"
    if not getattr(state, "enrolled", False):
        return "offline (not enrolled)", "offline"
    pending = int(getattr(state, "pending", 0))
    rejected = int(getattr(state, "rejected", 0))
    tail = f" {pending} pending" + (f" {rejected} rejected" if rejected else "")
    online = getattr(state, "online", None)
    if online is None:
        return "sync: connecting" + tail, "unknown"
    if online:
        return "online" + tail, "online" if not rejected else "warning"
    return "OFFLINE" + tail, "offline"
