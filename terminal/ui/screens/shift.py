"""Opening and closing a shift: the float counted at log-in, the drawer counted at log-out.

Opening: a cashier with no open shift counts the float; Enter opens the shift and the
sale screen follows; Esc goes back to the login screen, opening nothing.
Closing (Ctrl+L): the parked sales left behind are named first, then the drawer is
counted; Enter closes the shift (``shift.closed``) and logs out; Esc stays logged in.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label

from terminal.domain.money import parse_cents
from terminal.domain.words import plural
from terminal.services.parked import list_parked
from terminal.services.schemas import ShiftSummary, ShiftView
from terminal.services.shifts import close_shift, open_shift
from terminal.ui.screens.base import TillModal


class _CountModal(TillModal[None]):
    """A drawer count: one amount in S$, checked and saved by :meth:`save`."""

    BINDINGS = [Binding("escape", "back", "Back")]
    AUTO_FOCUS = "#count"
    TITLE = ""
    QUESTION = ""
    PLACEHOLDER = "e.g. 100.00"
    HINT = ""
    DEFAULT = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="count-box"):
            yield Label(self.TITLE, classes="dialog-title")
            yield Label("", id="count-warning")
            yield Label(self.QUESTION, id="count-question")
            yield Input(value=self.DEFAULT, placeholder=self.PLACEHOLDER, id="count")
            yield Label("", id="count-error")
            yield Label(self.HINT, classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).action_select_all()

    def _show_error(self, text: str) -> None:
        self.query_one("#count-error", Label).update(text)
        self.query_one("#count", Input).action_select_all()  # typing again replaces it
        self.error(text, self.TITLE)

    @on(Input.Submitted, "#count")
    def _submitted(self, event: Input.Submitted) -> None:
        self._save(event.value)

    @work(exclusive=True, group="shift", exit_on_error=False)
    async def _save(self, text: str) -> None:
        await self.save(text)

    async def save(self, text: str) -> None:
        raise NotImplementedError

    def action_back(self) -> None:
        self.dismiss(None)


class OpenShiftModal(_CountModal):
    TITLE = "Open shift"
    HINT = "Enter: open the shift   Esc: back to log-in"
    DEFAULT = "0.00"

    def __init__(self, cashier_name: str) -> None:
        super().__init__()
        self.QUESTION = f"Welcome, {cashier_name}. Count the drawer: opening float (S$)"

    async def save(self, text: str) -> None:
        till = self.till
        with self.boundary("opening the shift", show=self._show_error) as outcome:
            cents = parse_cents(text or "0")
            shift: ShiftView = await open_shift(
                till.database, till.signed_in.id, float_cents=cents, now=till.clock()
            )
        if outcome.failed:
            return
        self.dismiss(None)
        till.shift_opened(shift)

    def action_back(self) -> None:
        self.dismiss(None)
        self.till.end_session()


class CloseShiftModal(_CountModal):
    TITLE = "Close shift and log out"
    QUESTION = "Count the drawer: cash in the drawer (S$)"
    PLACEHOLDER = "e.g. 250.00"
    HINT = "Enter: close the shift and log out   Esc: stay logged in"

    def on_mount(self) -> None:
        super().on_mount()
        self._warn_parked()

    @work(exclusive=True, group="parked-count", exit_on_error=False)
    async def _warn_parked(self) -> None:
        with self.boundary("counting parked sales", show=self._show_error) as outcome:
            parked = await list_parked(self.till.database)
        if outcome.failed or not parked:
            return
        warning = self.query_one("#count-warning", Label)
        warning.update(
            f"{plural(len(parked), 'parked sale')} left on this till "
            "(F5 recalls them): they stay parked after the shift closes."
        )
        warning.add_class("shown")

    async def save(self, text: str) -> None:
        till = self.till
        shift = till.shift
        if shift is None:
            self.dismiss(None)
            till.end_session()
            return
        with self.boundary("closing the shift", show=self._show_error) as outcome:
            counted = parse_cents(text)
            summary: ShiftSummary = await close_shift(
                till.database, shift.id, counted_cash_cents=counted, now=till.clock()
            )
        if outcome.failed:
            return
        self.dismiss(None)
        till.shift_closed(summary, counted)
