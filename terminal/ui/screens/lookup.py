"""A modal that finds things as you type and returns the one chosen (F2, F3).

Each keystroke starts a search worker with ``exclusive=True``: cancelling the previous,
now stale, search is exactly right here. Enter can arrive before the search for the
last keystroke has finished, when the results on screen are for shorter text and their
highlighted item the wrong one: so Enter chooses only from results found for exactly
the text typed; otherwise it finishes that search first, then chooses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from terminal.ui.screens.base import TillModal

if TYPE_CHECKING:
    from terminal.db.engine import Database


T = TypeVar("T")


class LookupModal(TillModal[T | None], Generic[T]):
    """Subclasses say what to search (:meth:`find`) and how a result reads (:meth:`line`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]
    AUTO_FOCUS = "Input"
    NAME: ClassVar[str]
    """Prefix of the input's and list's ids (``NAME-text``, ``NAME-results``)."""
    TITLE: ClassVar[str]
    PLACEHOLDER: ClassVar[str]
    HINT: ClassVar[str]
    NOTHING: ClassVar[str]
    """Said when Enter finds nothing to choose."""

    def __init__(self) -> None:
        super().__init__()
        self.results: list[T] = []
        self._results_for: str | None = None
        """The text ``results`` were found for."""

    async def find(self, db: Database, text: str) -> list[T]:
        raise NotImplementedError

    def line(self, item: T) -> str:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self.TITLE, classes="dialog-title")
            yield Input(placeholder=self.PLACEHOLDER, id=f"{self.NAME}-text")
            yield OptionList(id=f"{self.NAME}-results")
            yield Label(self.HINT, classes="dialog-hint")

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @work(exclusive=True, group="lookup", exit_on_error=False)
    async def _search(self, text: str, choose: bool = False) -> None:
        with self.boundary("searching", title=self.TITLE) as outcome:
            results = await self.find(self.till.database, text)
        if outcome.failed:
            return
        self.results = results
        self._results_for = text
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(self.line(item)) for item in results])
        if results:
            options.highlighted = 0
        if choose:
            self._choose_highlighted()

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    @on(Input.Submitted)
    def _chosen(self, event: Input.Submitted) -> None:
        if self._results_for == event.value:
            self._choose_highlighted()
        else:  # typed faster than the search: finish it, then choose
            self._search(event.value, choose=True)

    def _choose_highlighted(self) -> None:
        index = self.query_one(OptionList).highlighted
        if index is None or index >= len(self.results):
            self.notify(self.NOTHING, severity="warning")
            return
        self.dismiss(self.results[index])

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.results[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
