"""Sign up a loyalty member at the till; HQ hears of it through ``customer.created``."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from terminal.services.customers import create_customer
from terminal.services.errors import TillError
from terminal.services.schemas import CustomerView
from terminal.ui.failures import unexpected

if TYPE_CHECKING:
    from terminal.ui.app import KedaiTill


class NewCustomerModal(ModalScreen[CustomerView | None]):
    BINDINGS = [Binding("escape", "cancel", "Back")]
    AUTO_FOCUS = "#new-name"

    def __init__(self, *, prefill: str = "") -> None:
        super().__init__()
        digits = prefill.replace(" ", "")
        self._phone = digits if digits.isdigit() else ""
        self._name = "" if self._phone else prefill

    @property
    def till(self) -> KedaiTill:
        return cast("KedaiTill", self.app)

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
        assert self.till.db is not None
        try:
            customer = await create_customer(
                self.till.db, name=name, phone=phone, now=self.till.clock()
            )
        except Exception as exc:  # a TillError in its own words; anything else logged
            message = exc.message if isinstance(exc, TillError) else unexpected(exc, "saving")
            self.query_one("#new-error", Label).update(message)
            field = self.query_one("#new-phone", Input)
            field.focus()
            field.action_select_all()  # typing again replaces what was wrong
            return
        self.dismiss(customer)

    def action_cancel(self) -> None:
        self.dismiss(None)
