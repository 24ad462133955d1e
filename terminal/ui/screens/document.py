"""A printed document on screen (a credit note, a copy of a past receipt), F12 to print.

The document is already saved when it is shown: printing runs in a thread worker and a
missing or failing printer never undoes anything. What happened to the print stays on
the screen (``#doc-printed``), so "not printed: F12 to reprint" is read, not missed.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Label, Static

from terminal.printing.printer import PrinterError
from terminal.ui.screens.base import TillModal


class DocumentModal(TillModal[None]):
    AUTO_FOCUS = "#doc-scroll"
    BINDINGS = [
        Binding("enter", "close", "Done"),
        Binding("escape", "close", "Back", show=False),
        Binding("f12", "print", "Print"),
    ]

    def __init__(self, title: str, summary: str, text: str, *, print_now: bool) -> None:
        super().__init__()
        self.title_text = title
        self.summary = summary
        self.text = text
        self.print_now = print_now
        self.printed = 0
        """How many times the printer took it (tests, and the line on screen)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="doc-box", classes="dialog"):
            yield Label(self.title_text, id="doc-title", classes="dialog-title")
            yield Label(self.summary, id="doc-summary", markup=False)
            yield Label("", id="doc-printed", markup=False)
            with VerticalScroll(id="doc-scroll"):
                yield Static(self.text, id="doc-text", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self.print_now and self.till.printer is not None:
            self.action_print()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_print(self) -> None:
        line = self.query_one("#doc-printed", Label)
        if self.till.printer is None:
            line.update("No printer is set up on this till: nothing printed.")
            line.set_class(True, "error")
            return
        line.update("Printing...")
        line.set_class(False, "error")
        self._print(self.text)

    @work(exclusive=True, group="print", thread=True, exit_on_error=False)
    def _print(self, text: str) -> None:
        printer = self.till.printer
        assert printer is not None
        try:
            printer.print_text(text)
        except PrinterError as exc:
            self.app.call_from_thread(self._print_failed, str(exc))
        else:
            self.app.call_from_thread(self._printed)

    def _printed(self) -> None:
        self.printed += 1
        self.query_one("#doc-printed", Label).update("Printed (F12 to print again).")

    def _print_failed(self, why: str) -> None:
        line = self.query_one("#doc-printed", Label)
        line.update(f"Not printed: F12 to reprint. {why}")
        line.set_class(True, "error")
        self.app.bell()
