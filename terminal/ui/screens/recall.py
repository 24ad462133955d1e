"""F5: choose a parked sale to bring back to the screen."""

from __future__ import annotations

from uuid import UUID

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from terminal.domain.money import format_cents
from terminal.domain.words import plural
from terminal.services.parked import list_parked
from terminal.services.schemas import ParkedSaleView
from terminal.ui.clock import local
from terminal.ui.screens.base import TillModal


def parked_line(p: ParkedSaleView) -> Text:
    """One parked sale: when, what, the member if any, how many items, how much."""
    member = p.customer_name or ""
    items = plural(p.item_count, "item")
    return Text(  # plain text: a label or a name may hold "[" (markup otherwise)
        f"{local(p.parked_at):%H:%M}  {p.label:<22.22} {member:<13.13} {items:>8} "
        f"{'S$' + format_cents(p.total_cents):>10}"
    )


class RecallModal(TillModal[UUID | None]):
    BINDINGS = [Binding("escape", "cancel", "Back")]
    AUTO_FOCUS = "#parked"

    def __init__(self) -> None:
        super().__init__()
        self.parked: list[ParkedSaleView] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Recall parked sale (F5)", classes="dialog-title")
            yield OptionList(id="parked")
            yield Label("Enter: recall   Esc: back", classes="dialog-hint")

    def on_mount(self) -> None:
        self._load()

    @work(exclusive=True, group="recall", exit_on_error=False)
    async def _load(self) -> None:
        with self.boundary("listing parked sales", title="Recall") as outcome:
            self.parked = await list_parked(self.till.database)
        if outcome.failed:
            return
        options = self.query_one(OptionList)
        options.clear_options()
        if not self.parked:
            options.add_option(Option("No parked sales.", disabled=True))
            return
        options.add_options([Option(parked_line(p)) for p in self.parked])
        options.highlighted = 0

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option_index < len(self.parked):
            self.dismiss(self.parked[event.option_index].id)

    def action_cancel(self) -> None:
        self.dismiss(None)
