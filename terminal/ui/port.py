"""What screens may ask of the till app: the typed port they depend on (harlequin's
``adapter.py`` idea).

Screens never import :mod:`terminal.ui.app`: the app composes the screens, so a screen
importing it back would close an import cycle (the import-linter contract forbids it),
and the app's start-up module would drag every screen into the first paint. The app
implements this Protocol; a screen reaches it with :func:`till_of`, the one cast.

Types that cost start-up time (SQLAlchemy through ``Database``, the services' schemas,
the sync agent's state) are imported for the type checker only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    import asyncio

    from textual.app import App

    from sync.agent import AgentState
    from terminal.db.engine import Database
    from terminal.printing.printer import ReceiptPrinter
    from terminal.services.schemas import (
        CashierView,
        Receipt,
        ShiftSummary,
        ShiftView,
        StoreProfile,
    )
    from terminal.ui.agent_port import AgentPort
    from terminal.ui.clock import Clock


class TillPort(Protocol):
    """The till as a screen sees it: who is selling, where, and the local store."""

    clock: Clock
    printer: ReceiptPrinter | None
    drawer_kick_on_cash: bool
    agent: AgentPort | None
    ready: asyncio.Event
    startup_error: str | None
    profile: StoreProfile | None
    cashier: CashierView | None
    shift: ShiftView | None
    last_receipt: Receipt | None
    sync_state: AgentState | None

    @property
    def database(self) -> Database:
        """The open till database; raises ``TillError`` if start-up has not opened it."""
        ...

    @property
    def store(self) -> StoreProfile:
        """The store profile (raises ``TillError`` before start-up has loaded it)."""
        ...

    @property
    def signed_in(self) -> CashierView:
        """The cashier logged in (raises ``TillError`` on the login screen)."""
        ...

    def shift_opened(self, shift: ShiftView) -> None:
        """A float was counted and the shift opened: go to the sale screen."""
        ...

    def shift_closed(self, summary: ShiftSummary, counted_cents: int) -> None:
        """The shift was closed: show its Z report (how the drawer came out), then log-in."""
        ...

    def end_session(self) -> None:
        """Back to the login screen, nobody logged in."""
        ...

    def local_change(self) -> None:
        """An event was committed locally: the sync indicator moves at once."""
        ...


def till_of(app: App[None]) -> TillPort:
    """The running till behind ``app`` (``KedaiTill`` implements :class:`TillPort`)."""
    return cast("TillPort", app)
