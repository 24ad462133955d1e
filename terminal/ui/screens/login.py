"""Cashier log-in: a PIN, checked locally against synced hashes (works offline).

Imports nothing but Textual at module level: this is the first screen painted, and the
services (SQLAlchemy) load in the background while the cashier types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from terminal.ui.messages import LoggedIn, TillFailed, TillReady

if TYPE_CHECKING:
    from terminal.ui.app import KedaiTill


class LoginScreen(Screen[None]):
    BINDINGS = [Binding("escape", "clear", "Clear", show=True)]
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
    def till(self) -> KedaiTill:
        return cast("KedaiTill", self.app)

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
        if self.till.db is None or self.till.startup_error is not None:
            self._error(self.till.startup_error or "The till database is not open.")
            return
        from terminal.services.cashiers import login
        from terminal.services.errors import TillError
        from terminal.services.shifts import open_shift_for

        try:
            cashier = await login(self.till.db, pin, now=self.till.clock())
            shift = await open_shift_for(self.till.db, cashier.id)
        except TillError as exc:
            self._error(exc.message)
            return
        except Exception as exc:  # never leave "Checking..." on screen
            from terminal.ui.failures import unexpected

            self._error(unexpected(exc, "checking the PIN"))
            return
        self._error("")
        self.app.post_message(LoggedIn(cashier, shift))
