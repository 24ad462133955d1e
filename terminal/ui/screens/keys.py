"""F1: every key of the sale screen in one list, and a way to run any of them.

The footer shows the keys a cashier uses on every sale; the rarer ones (refund, reports,
cash in/out, no sale...) would not fit 80 columns. This list is built from the sale
screen's own bindings, so it can never disagree with them: a key added there is listed
here. Enter on a line runs it as if its key had been pressed.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from terminal.ui.screens.base import TillModal

_NOT_LISTED = frozenset({"up", "down", "escape", "f1"})
"""Keys every screen has (moving, going back) and the one that opened this list."""


@dataclass(frozen=True)
class KeyEntry:
    key: str
    label: str
    action: str


def key_entries(bindings: list[BindingType], display: dict[str, str]) -> list[KeyEntry]:
    """The listed keys of ``bindings`` in their order; ``display`` names keys as shown."""
    entries: list[KeyEntry] = []
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.description:
            continue
        for key in binding.key.split(","):
            key = key.strip()
            if key in _NOT_LISTED:
                continue
            entries.append(KeyEntry(display.get(key, key), binding.description, binding.action))
    return entries


class KeysModal(TillModal[str | None]):
    """Answers the chosen binding's action, or None for Esc."""

    BINDINGS = [Binding("escape", "cancel", "Back")]
    AUTO_FOCUS = "#keys"

    def __init__(self, entries: list[KeyEntry]) -> None:
        super().__init__()
        self._entries = entries

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Keys (F1)", classes="dialog-title")
            yield OptionList(
                *[Option(Text(f"{e.key:<8} {e.label}")) for e in self._entries], id="keys"
            )
            yield Label("Enter: do it   Esc: back", classes="dialog-hint")

    def on_mount(self) -> None:
        if self._entries:
            self.query_one(OptionList).highlighted = 0

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._entries[event.option_index].action)

    def action_cancel(self) -> None:
        self.dismiss(None)
