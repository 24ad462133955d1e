"""The on-screen tax invoice after a sale (or a reprint), with the change to give.

The receipt is shown only after COMMIT (the payment screen returns it then); printing,
if a printer is set up, runs in a thread worker and a printer fault never loses the sale.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Label, Static

from terminal.domain.money import format_cents
from terminal.printing.printer import CashDrawer, PrinterError
from terminal.printing.receipt_text import render_receipt
from terminal.services.schemas import Receipt
from terminal.ui.screens.base import TillModal


class ReceiptModal(TillModal[None]):
    AUTO_FOCUS = "#receipt-scroll"
    BINDINGS = [
        # Enter has its own action: the footer shows one key per action, so Enter shared
        # with Esc was never shown.
        Binding("enter", "new_sale", "New sale"),
        Binding("escape", "close", "Back"),
        Binding("f12", "print", "Print"),
    ]

    def __init__(self, receipt: Receipt, *, reprint: bool = False) -> None:
        super().__init__()
        self.receipt = receipt
        self.reprint = reprint

    def compose(self) -> ComposeResult:
        r = self.receipt
        with Vertical(id="receipt-box", classes="dialog"):
            if self.reprint:
                yield Label(f"Reprint of {r.receipt_no}", classes="dialog-title")
            else:
                yield Label(
                    f"CHANGE DUE  S${format_cents(r.change_cents)}",
                    id="change-due",
                    classes="dialog-title",
                )
            paid = sum(p.tendered_cents for p in r.payments)
            yield Label(
                f"Total S${format_cents(r.total_cents)}  GST {format_cents(r.tax_cents)}  "
                f"Paid S${format_cents(paid)}",
                id="receipt-summary",
            )
            with VerticalScroll(id="receipt-scroll"):
                yield Static(render_receipt(r, reprint=self.reprint), id="receipt-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self.till.printer is not None:
            took_cash = any(
                p.tender == "cash" and p.amount_cents > 0 for p in self.receipt.payments
            )
            kick = took_cash and not self.reprint and self.till.drawer_kick_on_cash
            self._print(render_receipt(self.receipt, reprint=self.reprint), kick=kick)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_new_sale(self) -> None:
        self.dismiss(None)

    def action_print(self) -> None:
        if self.till.printer is None:
            self.notify("No receipt printer is set up on this till.", severity="warning")
            return
        self._print(render_receipt(self.receipt, reprint=self.reprint))

    @work(exclusive=True, group="print", thread=True, exit_on_error=False)
    def _print(self, text: str, *, kick: bool = False) -> None:
        """Print, then open the drawer for a cash sale (one thread: one device, in order).

        The drawer opens even if the receipt did not print: the change is still due.
        """
        printer = self.till.printer
        assert printer is not None
        try:
            printer.print_text(text)
        except PrinterError as exc:
            self.app.call_from_thread(
                self.notify, f"Not printed ({exc}): F12 to reprint.", severity="error"
            )
        if kick and isinstance(printer, CashDrawer):
            try:
                printer.kick_drawer()
            except PrinterError as exc:
                self.app.call_from_thread(
                    self.notify, f"{exc} Open it with its key.", title="Drawer", severity="error"
                )
