"""The on-screen tax invoice after a sale (or a reprint), with the change to give.

The receipt is shown only after COMMIT (the payment screen returns it then); printing,
if a printer is set up, runs in a thread worker and a printer fault never loses the sale.

A sale over S$1,000 or with mixed tax codes needs a full tax invoice, which names the
customer: F7 asks for the customer's name and address and shows (and prints) that
invoice. A simplified invoice needs neither, so F7 is not offered then.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Label, Static

from terminal.domain.invoice import invoice_kind
from terminal.domain.money import format_cents
from terminal.printing.documents import render_tax_invoice
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
        Binding("f7", "invoice_to", "Invoice to"),
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

    @property
    def full_invoice(self) -> bool:
        r = self.receipt
        return invoice_kind(r.total_cents, (ln.tax_code for ln in r.lines)) == "full"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "invoice_to":
            return self.full_invoice
        return True

    def action_invoice_to(self) -> None:
        from terminal.ui.screens.prompt import PromptModal

        def named(name: str | None) -> None:
            if name is None or not name.strip():
                return
            self.app.push_screen(
                PromptModal(
                    "Tax invoice",
                    f"{name.strip()}'s address (as it goes on the invoice).",
                    placeholder="e.g. 8 Jurong Port Rd, Singapore 619092",
                ),
                lambda address: self._invoice(name.strip(), (address or "").strip()),
            )

        self.app.push_screen(
            PromptModal(
                "Tax invoice",
                "The customer's name (or their company's) for the full tax invoice.",
                default=self.receipt.customer_name or "",
            ),
            named,
        )

    def _invoice(self, name: str, address: str) -> None:
        text = render_tax_invoice(
            self.receipt,
            copy=self.reprint,
            customer_name=name[:100],
            customer_address=address[:300],
        )
        self.query_one("#receipt-text", Static).update(Text(text))  # typed text: no markup
        if self.till.printer is not None:
            self._print(text)

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
