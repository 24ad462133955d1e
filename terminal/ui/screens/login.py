"""Cashier log-in: a PIN, checked locally against synced hashes (works offline).

Imports nothing but Textual at module level: this is the first screen painted, and the
services (SQLAlchemy) load in the background while the cashier types.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from terminal.ui.messages import LoggedIn, TillFailed, TillReady
from terminal.ui.port import TillPort, till_of


class LoginScreen(Screen[None]):
    """Not a :class:`TillScreen`: that base brings the error boundary's imports (the
    services' errors, the domain) which the first paint does without."""

    BINDINGS = [
        Binding("escape", "clear", "Clear", show=True),
        Binding("f2", "unlock", "Manager unlock", show=False),
    ]
    AUTO_FOCUS = "#pin"

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="login-box"):
            yield Static("KEDAI", id="login-title")
            yield Label("Loading till...", id="login-store")
            yield Label("Cashier PIN", id="pin-label")
            yield Input(placeholder="PIN", password=True, id="pin", max_length=12)
            yield Label("", id="login-error")
        yield Footer()

    @property
    def till(self) -> TillPort:
        return till_of(self.app)

    def on_mount(self) -> None:
        if self.till.ready.is_set():
            self._show_store()

    def startup_done(self, message: TillReady | TillFailed) -> None:
        self._show_store()

    def _show_store(self) -> None:
        label = self.query_one("#login-store", Label)
        if self.till.startup_error:
            self._error(self.till.startup_error)
            label.update("Till not ready")
        elif self.till.profile is not None:
            st = self.till.profile.store
            label.update(f"{st.store_name}  {st.outlet_code}-{st.terminal_code}")

    def action_unlock(self) -> None:
        """F2 (said on screen while log-in is locked): a manager's PIN lifts the lock,
        checked and counted as any manager approval and audited as ``unlock``. Only
        then: PINs typed at the locked log-in itself are not checked and count nowhere,
        so a cashier retrying their own PIN never locks the managers' approvals too."""
        from terminal.services.cashiers import unlock_till
        from terminal.services.schemas import ApprovalView
        from terminal.ui.screens.approve import ApproveModal

        till = self.till
        if not till.ready.is_set() or till.startup_error is not None:
            return

        async def check(pin: str) -> ApprovalView:
            return await unlock_till(till.database, pin, now=till.clock())

        def done(granted: ApprovalView | None) -> None:
            if granted is not None:
                self._error(f"Unlocked by {granted.name}. Type your PIN.")

        self.app.push_screen(
            ApproveModal("unlock", "wrong PINs locked the log-in", check=check), done
        )

    def _error(self, text: str) -> None:
        self.query_one("#login-error", Label).update(text)

    def action_clear(self) -> None:
        self.query_one("#pin", Input).value = ""
        self._error("")

    @on(Input.Submitted, "#pin")
    def _submitted(self, event: Input.Submitted) -> None:
        pin = event.value
        event.input.value = ""
        self._error("Checking...")
        self._login(pin)

    @work(exclusive=True, group="login", exit_on_error=False)
    async def _login(self, pin: str) -> None:
        await self.till.ready.wait()
        if self.till.startup_error is not None:
            self._error(self.till.startup_error)
            return
        from terminal.services.cashiers import login
        from terminal.services.errors import LockedError
        from terminal.services.shifts import open_shift_for
        from terminal.ui.boundary import boundary

        till = self.till
        with boundary("checking the PIN", self._error) as outcome:  # never stuck on "Checking"
            try:
                cashier = await login(till.database, pin, now=till.clock())
            except LockedError as locked:
                self._error(f"{locked.message} A manager can unlock it: F2.")
                return
            shift = await open_shift_for(till.database, cashier.id)
        if outcome.failed:
            return
        self._error("")
        self.app.post_message(LoggedIn(cashier, shift))
