"""The Kedai till: a Textual app a cashier runs all day, offline-first.

Start-up is shaped for the cold-start target (login painted within 0.6 s): this module
imports Textual and the login screen only. SQLAlchemy, the services and the sale screen
are imported after the first paint, inside the ``startup`` worker, while the cashier
types the PIN; the login waits on :attr:`KedaiTill.ready` if it is quicker than that.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import App
from textual.binding import Binding
from textual.notifications import Notify
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from terminal.ui.agent_port import AgentPort
from terminal.ui.clock import Clock, system_clock
from terminal.ui.heap import freeze_long_lived_heap
from terminal.ui.messages import (
    LoggedIn,
    SaleCommitted,
    SyncStateChanged,
    TillFailed,
    TillReady,
)
from terminal.ui.screens.login import LoginScreen

if TYPE_CHECKING:
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
    from terminal.ui.port import TillPort

log = logging.getLogger(__name__)

READY_FILE_ENV = "KEDAI_UI_READY_FILE"
"""If set, the app writes ``time.time()`` there once the login screen is painted (bench)."""
EXIT_ON_READY_ENV = "KEDAI_UI_EXIT_ON_READY"
_FUNCTION_KEY = re.compile(r"f[0-9]+")


class KedaiTill(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Kedai till"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False, priority=True)]

    def __init__(
        self,
        db: Database | Path,
        *,
        agent: AgentPort | None = None,
        clock: Clock = system_clock,
        printer: ReceiptPrinter | None = None,
        auto_agent: bool = False,
        printer_from_settings: bool = False,
        cursor_blink: bool = True,
    ) -> None:
        """``agent``: a running sync agent to show and nudge. ``auto_agent``: if none is
        given and the till is enrolled, make one (``kedai-till``, ``kedai-till demo``).
        ``printer_from_settings``: if no ``printer`` is given, open the one the till
        settings name (after first paint; a printer that cannot be opened is logged and
        said on screen, and the till sells without it).
        ``cursor_blink=False`` keeps every input's cursor steady (tests and snapshots: a
        blink is a timer, and a screenshot would catch whichever half of it the clock says).
        """
        super().__init__()
        self.cursor_blink = cursor_blink
        self._db_source = db
        self._owns_db = isinstance(db, Path)
        self.db: Database | None = None if isinstance(db, Path) else db
        self.agent = agent
        self.clock = clock
        self.printer = printer
        self.drawer_kick_on_cash = True
        """Open the drawer after a cash sale (the till settings may turn it off)."""
        self.ready = asyncio.Event()
        self.startup_error: str | None = None
        self.profile: StoreProfile | None = None
        self.cashier: CashierView | None = None
        self.shift: ShiftView | None = None
        self.last_receipt: Receipt | None = None
        self.sync_state: AgentState | None = agent.state if agent is not None else None
        self._unsubscribe: Callable[[], None] | None = None
        self._auto_agent = auto_agent
        self._printer_from_settings = printer_from_settings
        self._owns_agent = False
        self._held_keys: deque[events.Key] = deque()
        self._key_in_flight: events.Key | None = None

    def on_notify(self, event: Notify) -> None:
        """One notice at a time: the one showing goes as the next arrives (Textual's own
        handler, after this one, then shows it). Stacked, three unknown-barcode notices
        filled half of an 80x24 screen and covered the next dialog's input; what must be
        read stays on the screen's own message line."""
        self.clear_notifications()

    # --------------------------------------------------------- keys ahead of a dialog

    HOLD_KEYS_FOR = 50
    """Repaints waiting keys allow for a function key to come back or for the screen to
    focus something, before they go anyway (a screen of text and keys only has no focus)."""

    async def on_event(self, event: events.Event) -> None:
        """Keys typed straight after a function key wait until it has acted.

        ``F6 4 Enter`` typed at once went astray. Textual hands every key to the focused
        widget (the scan field), which takes a ``4`` at once, while a function key goes on
        up to the screen and back to the app before its binding runs: the ``4`` landed in
        the scan field and the Enter reached a quantity dialog still mounting. Now keys
        read while a function key the app handed on is still on its way up, or while
        nothing has focus (a dialog just opened focuses its input a few turns later), wait
        here and are handed on in order once it has acted and something has focus. Keys
        typed before a function key still go ahead of it, so ``barcode Enter F9`` pays
        for that barcode as before.
        """
        if not isinstance(event, events.Key):
            await super().on_event(event)
        elif not event.is_forwarded:
            if self._held_keys or self._key_in_flight is not None or not self._takes_keys():
                self._held_keys.append(event)
                if len(self._held_keys) == 1:
                    self._release_later(0)
            else:
                await self._hand_on(event)
        else:
            await super().on_event(event)  # come back up: the app's bindings act here
            if event is self._key_in_flight:
                self._key_in_flight = None
                if self._held_keys:
                    self._release_later(0)

    async def _hand_on(self, key: events.Key) -> None:
        await super().on_event(key)
        if key.is_forwarded and _FUNCTION_KEY.fullmatch(key.key):
            self._key_in_flight = key  # on its way up to the screen's bindings

    def _takes_keys(self) -> bool:
        return self.focused is not None

    def _release_later(self, tries: int) -> None:
        """After the screen's next repaint, on the app's own queue (where keys go)."""
        self.call_after_refresh(self.call_later, self._release_keys, tries)

    async def _release_keys(self, tries: int) -> None:
        if tries >= self.HOLD_KEYS_FOR:
            self._key_in_flight = None  # taken on the way up: never coming back
        released = False
        while self._held_keys and self._key_in_flight is None:
            if not (self._takes_keys() or tries >= self.HOLD_KEYS_FOR):
                break
            await self._hand_on(self._held_keys.popleft())
            released = True
        if self._held_keys:
            self._release_later(0 if released else tries + 1)

    # ------------------------------------------------------------------ start-up

    def on_mount(self) -> None:
        self.push_screen(LoginScreen())

    def on_ready(self) -> None:
        marker = os.environ.get(READY_FILE_ENV)
        if marker:
            Path(marker).write_text(repr(time.time()))
            if os.environ.get(EXIT_ON_READY_ENV):
                self.exit()
                return
        self._open_till()

    @work(exclusive=True, group="startup", exit_on_error=False)
    async def _open_till(self) -> None:
        """Import the heavy half of the till and open its database (after first paint)."""
        from terminal.services.catalog import store_profile
        from terminal.services.errors import StorageError, TillError

        try:
            try:
                if self.db is None:
                    from terminal.db.engine import open_database

                    assert isinstance(self._db_source, Path)
                    if not self._db_source.exists():
                        raise TillError(
                            f"No till database at {self._db_source}: run `kedai-till init` "
                            "(or `kedai-till demo`)."
                        )
                    self.db = open_database(self._db_source)
                self.profile = await store_profile(self.db, today=self.clock().date())
                import terminal.ui.screens.sale  # noqa: F401  (warm it while the PIN is typed)

                if self.agent is None and self._auto_agent:
                    await self._make_agent(self.db)
                freeze_long_lived_heap()
            except TillError as exc:
                if isinstance(exc, StorageError):  # damaged, foreign or unreadable file
                    log.error("till start-up failed: %s", exc.message, exc_info=exc)
                    self.startup_error = _cannot_open(exc)
                else:  # not set up yet: the message says which command to run
                    log.warning("till start-up failed: %s", exc.message)
                    self.startup_error = exc.message
            except Exception as exc:  # anything else: say so, never hang on "Checking..."
                log.error("till start-up failed", exc_info=exc)
                self.startup_error = _cannot_open(exc)
        finally:
            # The login waits on this: it must be set however start-up ended.
            self.ready.set()
        if self.startup_error is not None:
            self.post_message(TillFailed(self.startup_error))
            return
        self.post_message(TillReady())
        if self.printer is None and self._printer_from_settings:
            self._open_printer()
        if self.agent is not None:
            self._unsubscribe = self.agent.subscribe(self._agent_changed)
            self.post_message(SyncStateChanged(self.agent.state))
            self._run_agent()

    @work(thread=True, group="printer", exit_on_error=False)
    def _open_printer(self) -> None:
        """Open the printer the settings name, in a thread once the login is ready: a
        network printer's connect can take its whole timeout, and the till must not wait
        for it. Until it is open, receipts show on screen only."""
        from terminal.printing.escpos_out import open_printer
        from terminal.printing.printer import PrinterError, ReceiptPrinter
        from terminal.printing.settings import load_settings

        try:
            settings = load_settings()
            printer = open_printer(settings)
        except (PrinterError, ValueError, OSError) as exc:  # ValueError: bad settings
            log.warning("printer not opened: %s", exc)
            self.call_from_thread(
                self.notify,
                f"The printer could not be opened ({exc}). Sales go on; receipts show on "
                "screen. Check the printer settings (kedai-till print-test).",
                title="Printer",
                severity="warning",
                timeout=30,
            )
            return

        def opened() -> None:
            self.drawer_kick_on_cash = settings.drawer_kick_on_cash
            if isinstance(printer, ReceiptPrinter):
                self.printer = printer

        self.call_from_thread(opened)

    async def _make_agent(self, db: Database) -> None:
        """Start syncing if this till is enrolled; otherwise show that it is not."""
        from sync.agent import SyncAgent, load_agent_state
        from terminal.services.errors import TillError
        from terminal.services.sync_store import TillSyncStore

        try:
            state = await load_agent_state(TillSyncStore(db))
        except TillError as exc:
            log.warning("no sync state: %s", exc.message)
            return
        if state.enrolled:
            self.agent = SyncAgent(TillSyncStore(db))
            self._owns_agent = True
        else:
            self.post_message(SyncStateChanged(state))

    @work(group="agent", exit_on_error=False)
    async def _run_agent(self) -> None:
        assert self.agent is not None
        await self.agent.run()

    def _agent_changed(self, state: AgentState) -> None:
        self.post_message(SyncStateChanged(state))

    @on(TillReady)
    @on(TillFailed)
    def _forward_startup(self, message: TillReady | TillFailed) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, LoginScreen):
                screen.startup_done(message)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Inputs blink by a 0.5 s timer; a till told not to blink stops each one as it
        gets focus (the cursor then stays shown), so what is on screen never depends on
        how long the machine took to get there."""
        if not self.cursor_blink and isinstance(event.widget, Input):
            event.widget.cursor_blink = False

    # ------------------------------------------------------------------ the port

    @property
    def database(self) -> Database:
        if self.db is None:
            from terminal.services.errors import TillError

            raise TillError(self.startup_error or "The till database is not open yet.")
        return self.db

    @property
    def store(self) -> StoreProfile:
        if self.profile is None:
            from terminal.services.errors import TillError

            raise TillError(self.startup_error or "The till is still starting.")
        return self.profile

    @property
    def signed_in(self) -> CashierView:
        if self.cashier is None:
            from terminal.services.errors import TillError

            raise TillError("Nobody is logged in: log in with your PIN.")
        return self.cashier

    def local_change(self) -> None:
        """Something was committed locally: the header's pending count moves at once,
        and the agent is woken to send it."""
        if self.agent is not None:
            self._publish_local_change()

    @work(group="local-change", exit_on_error=False)
    async def _publish_local_change(self) -> None:
        assert self.agent is not None
        await self.agent.local_change()

    # ------------------------------------------------------------------ session

    @on(LoggedIn)
    async def _logged_in(self, message: LoggedIn) -> None:
        await self.begin_session(message.cashier, message.shift)

    async def begin_session(self, cashier: CashierView, shift: ShiftView | None) -> None:
        """After a good PIN: count the float if no shift is open (Esc: back to log-in),
        then sell."""
        from terminal.ui.screens.sale import SaleScreen
        from terminal.ui.screens.shift import OpenShiftModal

        self.cashier = cashier
        self.shift = shift
        if shift is None:
            await self.push_screen(OpenShiftModal(cashier.name))
            return
        await self.switch_screen(SaleScreen())

    def shift_opened(self, shift: ShiftView) -> None:
        from terminal.ui.screens.sale import SaleScreen

        self.shift = shift
        self.switch_screen(SaleScreen())

    def shift_closed(self, summary: ShiftSummary, counted_cents: int) -> None:
        """The Z report replaces the sale screen; Enter or Esc there goes to log-in."""
        from terminal.ui.screens.reports import ZReportScreen

        self.shift = None
        self.local_change()
        if summary.report is None:  # a shift closed before Z reports existed
            self.end_session()
            return
        self.switch_screen(ZReportScreen(summary.report, store_name=self.store.store.store_name))

    async def action_quit(self) -> None:
        """Ctrl+Q: a screen holding work (a sale screen with a cart) may ask first."""
        for screen in self.screen_stack:
            held = getattr(screen, "quit_held", None)
            if held is not None and held():
                return
        self.exit()

    def end_session(self) -> None:
        self.cashier = None
        self.shift = None
        self.switch_screen(LoginScreen())

    # ------------------------------------------------------------------ sync

    @on(SyncStateChanged)
    def _sync_changed(self, message: SyncStateChanged) -> None:
        from terminal.ui.widgets.header.till_header import TillHeader

        self.sync_state = message.state
        for screen in self.screen_stack:
            for header in screen.query(TillHeader):
                header.sync_state = message.state
            refresh = getattr(screen, "sync_state_changed", None)
            if refresh is not None:
                refresh(message.state)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A bug in a worker is logged in full and said on screen, never a traceback."""
        if event.state == WorkerState.ERROR:
            log.error("worker %s failed", event.worker.name, exc_info=event.worker.error)
            self.notify(
                f"Something went wrong ({type(event.worker.error).__name__}); "
                "the cart is kept. Details are in the till log.",
                severity="error",
                timeout=8,
            )

    @on(SaleCommitted)
    def _sale_committed(self, message: SaleCommitted) -> None:
        self.last_receipt = message.receipt
        self.local_change()

    async def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._owns_agent and self.agent is not None:
            self.workers.cancel_group(self, "agent")
            await self.agent.aclose()
        if self._owns_db and self.db is not None:
            await self.db.dispose()


if TYPE_CHECKING:

    def _implements_the_port(app: KedaiTill) -> TillPort:
        return app  # mypy checks here that KedaiTill is a TillPort


def _cannot_open(exc: BaseException) -> str:
    """Words for the login screen when the database file is unusable."""
    cause = exc.__cause__ or exc
    cause = getattr(cause, "orig", None) or cause  # SQLAlchemy wraps the driver's error
    gist = (str(cause).strip().splitlines() or [type(cause).__name__])[0][:100]
    return f"The till's database cannot be opened ({gist}): call support."


def run_till(db_path: Path, *, agent: AgentPort | None = None) -> None:
    """``kedai-till`` with no command: run the till UI on ``db_path`` until quit."""
    from terminal.ui.logs import setup_logging

    setup_logging()
    KedaiTill(db_path, agent=agent, auto_agent=agent is None, printer_from_settings=True).run()
