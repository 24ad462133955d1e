"""A one-line question (opening float, quantity, discount, counted cash).

Typed: returns the text typed, or ``None`` if the cashier pressed Esc. The caller
parses it and says what was wrong, so this modal stays generic.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class PromptModal(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Back")]
    AUTO_FOCUS = "Input"

    def __init__(
        self, title: str, question: str, *, placeholder: str = "", default: str = ""
    ) -> None:
        super().__init__()
        self._title = title
        self._question = question
        self._placeholder = placeholder
        self._default = default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            yield Label(self._question, id="prompt-question")
            yield Input(value=self._default, placeholder=self._placeholder, id="prompt-input")
            yield Label("Enter: OK   Esc: back", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).action_select_all()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
