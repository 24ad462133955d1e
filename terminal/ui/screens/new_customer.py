"""Sign up a loyalty member at the till; HQ hears of it through ``customer.created``."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label

from terminal.services.customers import CustomerInputError, create_customer
from terminal.services.schemas import CustomerView
from terminal.ui.screens.base import TillModal


class NewCustomerModal(TillModal[CustomerView | None]):
    BINDINGS = [Binding("escape", "cancel", "Back")]
    AUTO_FOCUS = "#new-name"

    def __init__(self, *, prefill: str = "") -> None:
        super().__init__()
        digits = prefill.replace(" ", "")
        self._phone = digits if digits.isdigit() else ""
        self._name = "" if self._phone else prefill

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("New loyalty member", classes="dialog-title")
            yield Input(value=self._name, placeholder="name", id="new-name")
            yield Input(value=self._phone, placeholder="mobile, e.g. 91234567", id="new-phone")
            yield Label("", id="new-error")
            yield Label("Enter: next / save   Esc: back", classes="dialog-hint")

    @on(Input.Submitted, "#new-name")
    def _next(self) -> None:
        self.query_one("#new-phone", Input).focus()

    @on(Input.Submitted, "#new-phone")
    def _save(self) -> None:
        self._create(
            self.query_one("#new-name", Input).value, self.query_one("#new-phone", Input).value
        )

    @work(exclusive=True, group="customer-create", exit_on_error=False)
    async def _create(self, name: str, phone: str) -> None:
        till = self.till
        error = self.query_one("#new-error", Label)
        with self.boundary("saving the member", show=error.update) as outcome:
            customer = await create_customer(
                till.database, name=name, phone=phone, now=till.clock()
            )
        if outcome.failed:
            # Focus the field the message is about, its text selected so typing again
            # replaces what was wrong (the name when the name is missing).
            wrong = outcome.error
            which = wrong.field if isinstance(wrong, CustomerInputError) else "phone"
            field = self.query_one(f"#new-{which}", Input)
            field.focus()
            field.action_select_all()
            return
        till.local_change()
        self.dismiss(customer)

    def action_cancel(self) -> None:
        self.dismiss(None)
