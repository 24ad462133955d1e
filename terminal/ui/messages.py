"""Messages the till's widgets and screens exchange (STYLE: dataclass ``Message``s).

Frequent status messages (sync state) do not bubble and ``can_replace`` an older one of
the same kind still in the queue, so a burst of agent updates costs one repaint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from sync.agent import AgentState
    from terminal.services.schemas import CashierView, Receipt, ShiftView


@dataclass
class SyncStateChanged(Message, bubble=False):
    """The sync agent's state changed."""

    state: AgentState

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SyncStateChanged)


@dataclass
class Scanned(Message):
    """The scan input took one complete code (a scanner's digits + Enter)."""

    code: str


@dataclass
class SaleCommitted(Message):
    """A sale was written (after COMMIT): show the receipt, nudge the agent."""

    receipt: Receipt


@dataclass
class TillReady(Message, bubble=False):
    """The database is open and the store profile loaded (after the first paint)."""


@dataclass
class TillFailed(Message, bubble=False):
    """The database could not be opened: say why on the login screen."""

    message: str


@dataclass
class LoggedIn(Message):
    """A PIN was accepted: the cashier, and their open shift if they have one.

    Posted to the app rather than acted on in the login worker: switching away from the
    login screen from its own worker would cancel that worker mid-switch.
    """

    cashier: CashierView
    shift: ShiftView | None
