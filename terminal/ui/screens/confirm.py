"""A yes/no question that must be answered on purpose (a manager's own void, leaving a
payment with card money taken, closing a shift with parked sales).

Returns True for Enter, False for Esc. No default action happens on any other key.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label


class ConfirmModal(ModalScreen[bool]):
    BINDINGS = [
        Binding("enter", "answer(True)", "Yes", show=False),
        Binding("escape", "answer(False)", "No", show=False),
    ]

    def __init__(self, title: str, question: str, *, yes: str, no: str) -> None:
        super().__init__()
        self._title = title
        self._question = question
        self._hint = f"Enter: {yes}   Esc: {no}"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="confirm"):
            yield Label(self._title, classes="dialog-title")
            yield Label(self._question, id="confirm-question")
            yield Label(self._hint, classes="dialog-hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
