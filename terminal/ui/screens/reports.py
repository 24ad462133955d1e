"""The X report (Ctrl+X, the shift so far) and the Z report (after closing the shift).

Both show the document exactly as it prints (42 columns, so it fits 80x24 beside the
summary), in a scrolling box: arrows and PgUp/PgDn read it, F12 prints it. The X report
changes nothing; Esc goes back to the sale. The Z report comes after the shift has
closed: it prints by itself if a printer is set up (F12 prints another copy), and
Enter or Esc goes to the log-in screen.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Label, Static

from terminal.domain.money import format_cents
from terminal.domain.words import plural
from terminal.printing.documents import render_shift_report
from terminal.services.schemas import ShiftReport
from terminal.ui.screens.base import TillScreen
from terminal.ui.screens.ops import print_document


def _signed(cents: int) -> str:
    return f"{'+' if cents > 0 else ''}{format_cents(cents)}"


class _ReportScreen(TillScreen[None]):
    AUTO_FOCUS = "#report-scroll"

    def __init__(self, report: ShiftReport, *, store_name: str = "") -> None:
        super().__init__()
        self.report = report
        self.text = render_shift_report(report, store_name=store_name)

    def compose(self) -> ComposeResult:
        r = self.report
        if r.kind == "z":
            title = "Z report: the shift is closed"
        else:
            title = "X report: the shift so far (nothing is closed)"
        yield Label(title, id="report-title")
        yield Label(self._cash_line(), id="report-cash")
        parked = Label("", id="report-parked")
        if r.parked_count:
            parked.update(
                f"{plural(r.parked_count, 'parked sale')} left on this till: "
                "they stay parked (F5 recalls them)."
            )
            parked.add_class("shown")
        yield parked
        with VerticalScroll(id="report-scroll"):
            yield Static(self.text, id="report-text")
        yield Label("", id="message")
        yield Footer(compact=True)

    def _cash_line(self) -> str:
        r = self.report
        head = (
            f"{plural(r.sales_count, 'sale')}  net S${format_cents(r.net_sales_cents)}   "
            f"Expected cash S${format_cents(r.expected_cash_cents)}"
        )
        if r.counted_cash_cents is None or r.variance_cents is None:
            return head
        return (
            f"{head}\nCounted S${format_cents(r.counted_cash_cents)}   "
            f"Variance {_signed(r.variance_cents)}"
        )

    def on_mount(self) -> None:
        if self.report.variance_cents:
            self.query_one("#report-cash", Label).add_class("variance")

    def action_print(self) -> None:
        print_document(self, self.text, what=f"{self.report.kind.upper()} report")


class XReportScreen(_ReportScreen):
    """Ctrl+X on the sale screen: pushed over it, Esc pops back to the sale."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f12", "print", "Print"),
    ]

    def action_back(self) -> None:
        self.dismiss(None)


class ZReportScreen(_ReportScreen):
    """After the shift closed (it replaces the sale screen): Enter or Esc logs out."""

    BINDINGS = [
        Binding("enter", "log_in", "Log in"),
        Binding("escape", "log_in", "Log in", show=False),
        Binding("f12", "print", "Print again"),
    ]

    def on_mount(self) -> None:
        super().on_mount()
        if self.till.printer is not None:
            self.action_print()

    def action_log_in(self) -> None:
        self.till.end_session()
