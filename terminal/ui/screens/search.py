"""F2: find a product by name as you type, over a catalog of any size.

Each keystroke starts a search worker in the ``search`` group with ``exclusive=True``:
here cancelling the previous, now stale, search is exactly right. The SQL has a LIMIT,
so a 100,000-product catalog costs the same as a small one.

Enter can arrive before the search for the last keystroke has finished: the results on
screen are then for shorter text, and their highlighted product the wrong one. So Enter
chooses only from results found for exactly the text typed; otherwise it finishes that
search first, then chooses (as the F3 member search does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from terminal.domain.money import format_cents
from terminal.services.catalog import search_products
from terminal.services.errors import TillError
from terminal.services.schemas import ProductView

if TYPE_CHECKING:
    from terminal.ui.app import KedaiTill

LIMIT = 30


class SearchModal(ModalScreen[ProductView | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Back"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]
    AUTO_FOCUS = "#search-text"

    def __init__(self) -> None:
        super().__init__()
        self.results: list[ProductView] = []
        self._results_for: str | None = None
        """The text ``results`` were found for."""

    @property
    def till(self) -> KedaiTill:
        return cast("KedaiTill", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Find product (F2)", classes="dialog-title")
            yield Input(placeholder="type part of the name", id="search-text")
            yield OptionList(id="search-results")
            yield Label("Up/Down: choose   Enter: add   Esc: back", classes="dialog-hint")

    @on(Input.Changed, "#search-text")
    def _changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @work(exclusive=True, group="search", exit_on_error=False)
    async def _search(self, text: str, choose: bool = False) -> None:
        assert self.till.db is not None
        try:
            results = await search_products(self.till.db, text, limit=LIMIT)
        except TillError as exc:
            self.notify(exc.message, severity="error")
            return
        self.results = results
        self._results_for = text
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(f"{p.name:<40.40} {p.sku:<10.10} {format_cents(p.price_cents):>8}")
                for p in results
            ]
        )
        if results:
            options.highlighted = 0
        if choose:
            self._choose_highlighted()

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    @on(Input.Submitted, "#search-text")
    def _chosen(self, event: Input.Submitted) -> None:
        if self._results_for == event.value:
            self._choose_highlighted()
        else:  # typed faster than the search: finish it, then choose
            self._search(event.value, choose=True)

    def _choose_highlighted(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None or index >= len(self.results):
            self.notify("Nothing matches yet: type more of the name.", severity="warning")
            return
        self.dismiss(self.results[index])

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.results[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
