"""F3: find a loyalty member by phone or name and attach them; Ctrl+N creates one."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from terminal.services.customers import find_customers
from terminal.services.errors import TillError
from terminal.services.schemas import CustomerView

if TYPE_CHECKING:
    from terminal.ui.app import KedaiTill


class CustomerModal(ModalScreen[CustomerView | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Back"),
        Binding("ctrl+n", "new", "New member"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]
    AUTO_FOCUS = "#customer-text"

    def __init__(self) -> None:
        super().__init__()
        self.results: list[CustomerView] = []
        self._results_for: str | None = None
        """The text ``results`` were found for: Enter may come before the search ends."""

    @property
    def till(self) -> KedaiTill:
        return cast("KedaiTill", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Loyalty member (F3)", classes="dialog-title")
            yield Input(placeholder="phone number or name", id="customer-text")
            yield OptionList(id="customer-results")
            yield Label("Enter: attach   Ctrl+N: new member   Esc: back", classes="dialog-hint")

    @on(Input.Changed, "#customer-text")
    def _changed(self, event: Input.Changed) -> None:
        self._find(event.value)

    @work(exclusive=True, group="customer-search", exit_on_error=False)
    async def _find(self, text: str, attach: bool = False) -> None:
        assert self.till.db is not None
        try:
            found = await find_customers(self.till.db, text)
        except TillError as exc:
            self.notify(exc.message, severity="error")
            return
        self.results = found
        self._results_for = text
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            [Option(f"{c.name:<28.28} {c.phone or '':<12} {c.balance:>8,} pts") for c in found]
        )
        if found:
            options.highlighted = 0
        if attach:
            self._attach_highlighted()

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    @on(Input.Submitted, "#customer-text")
    def _chosen(self, event: Input.Submitted) -> None:
        if self._results_for == event.value:
            self._attach_highlighted()
        else:  # typed faster than the search: finish it, then attach
            self._find(event.value, attach=True)

    def _attach_highlighted(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None or index >= len(self.results):
            self.notify("No member matches: Ctrl+N to create one.", severity="warning")
            return
        self.dismiss(self.results[index])

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.results[event.option_index])

    def action_new(self) -> None:
        from terminal.ui.screens.new_customer import NewCustomerModal

        text = self.query_one("#customer-text", Input).value.strip()

        def done(customer: CustomerView | None) -> None:
            if customer is not None:
                self.dismiss(customer)

        self.app.push_screen(NewCustomerModal(prefill=text), done)

    def action_cancel(self) -> None:
        self.dismiss(None)
