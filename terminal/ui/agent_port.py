"""What the UI needs from the sync agent (``sync.agent.SyncAgent``), as a Protocol.

The UI never imports ``sync.agent`` at start-up (httpx and friends cost start-up time);
it is handed an object with this shape. Its types are imported for the type checker only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sync.agent import AgentState, SyncReport
    from sync.protocol import SaleLookup


class AgentPort(Protocol):
    @property
    def state(self) -> AgentState: ...

    async def run(self) -> None: ...

    def nudge(self) -> None: ...

    async def local_change(self) -> None:
        """An event was committed: publish the new pending count now, then sync."""
        ...

    async def sync_once(self) -> SyncReport: ...

    async def lookup_sale(self, receipt_no: str) -> SaleLookup | None:
        """A sale at HQ by receipt number (None: not there); raises ``SyncError``."""
        ...

    def subscribe(self, callback: Callable[[AgentState], None]) -> Callable[[], None]: ...

    async def aclose(self) -> None: ...


def describe(state: AgentState | None) -> tuple[str, str]:
    """(indicator text, CSS class) for the header: honest about what is known."""
    if state is None:
        return "sync off", "offline"
    if not state.enrolled:
        return "offline (not enrolled)", "offline"
    tail = f" {state.pending} pending" + (f" {state.rejected} rejected" if state.rejected else "")
    if state.online is None:
        return "sync: connecting" + tail, "unknown"
    if state.online:
        return "online" + tail, "online" if not state.rejected else "warning"
    return "OFFLINE" + tail, "offline"
