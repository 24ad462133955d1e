"""Taking payment: cash by default, split tenders, quick cash, 5-cent cash rounding.

Typing an amount and Enter tenders cash (Enter alone: the exact cash due). Each tender
is checked by replaying all tenders through :func:`terminal.domain.tender.settle`, the
same function the checkout uses: a tender it refuses (CDC on excluded items, a card
larger than the balance) is taken back with the reason on screen. As soon as the
tenders cover the sale it is finalized in one transaction; only after COMMIT does the
screen close with the receipt. If finalizing fails, nothing was saved: the tenders and
the cart stay and the reason is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from terminal.domain.cart import Totals
from terminal.domain.money import MoneyError, format_cents, parse_cents
from terminal.domain.tender import ShortPaymentError, TenderError, TenderInput, cash_due, settle
from terminal.printing.receipt_text import TENDER_NAMES
from terminal.services.checkout import finalize_sale
from terminal.services.errors import TillError
from terminal.services.schemas import Receipt, TenderIn
from terminal.ui.cart import Cart
from terminal.ui.failures import unexpected

if TYPE_CHECKING:
    from terminal.ui.app import KedaiTill

QUICK_CASH = {"f2": 10_00, "f3": 50_00, "f4": 100_00}


class PaymentScreen(ModalScreen[Receipt | None]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f1", "exact", "Exact cash", show=False),  # = Enter on an empty amount
        Binding("f2", "quick(1000)", "$10"),
        Binding("f3", "quick(5000)", "$50"),
        Binding("f4", "quick(10000)", "$100"),
        Binding("f6", "tender('nets')", "NETS"),
        Binding("f7", "tender('card')", "Card"),
        Binding("f8", "tender('paynow')", "PayNow"),
        Binding("f10", "tender('cdc')", "CDC"),
        Binding("f12", "undo", "Undo"),
        Binding("f9", "complete", "Complete", show=False),
    ]
    AUTO_FOCUS = "#amount"

    def __init__(self, cart: Cart, totals: Totals) -> None:
        super().__init__()
        self.cart = cart
        self.totals = totals
        self.tenders: list[TenderIn] = []
        self.remaining = totals.total_cents
        self.finalizing = False

    @property
    def till(self) -> KedaiTill:
        return cast("KedaiTill", self.app)

    def compose(self) -> ComposeResult:
        t = self.totals
        with Vertical(id="payment", classes="dialog"):
            yield Label("PAYMENT", classes="dialog-title")
            with Horizontal(id="pay-top"):
                yield Static(
                    f"{'Total incl. GST S$':<20}{format_cents(t.total_cents):>9}\n"
                    f"{f'GST {t.gst_rate_bp / 100:g}% included':<20}"
                    f"{format_cents(t.tax_cents):>9}\n"
                    f"{'CDC-eligible':<20}{format_cents(t.cdc_eligible_cents):>9}",
                    id="pay-summary",
                )
                yield Static("", id="pay-tenders")
            yield Label("", id="pay-due")
            with Horizontal(id="pay-row"):
                yield Label("Cash S$", id="amount-label")
                yield Input(placeholder="amount, Enter = cash (empty = exact)", id="amount")
            yield Label("", id="pay-error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show()

    # ------------------------------------------------------------------ display

    def _show(self) -> None:
        lines = [
            f"{TENDER_NAMES.get(t.kind, t.kind):<12}{format_cents(t.amount_cents):>9}"
            for t in self.tenders
        ]
        self.query_one("#pay-tenders", Static).update("\n".join(lines) or "No tenders yet")
        due = self.remaining
        cash = cash_due(due)
        rounding = cash - due
        text = f"[b]Due S${format_cents(due)}[/b]   Cash due S${format_cents(cash)}"
        if rounding:
            text += f" (rounding {'+' if rounding > 0 else ''}{format_cents(rounding)})"
        self.query_one("#pay-due", Label).update(text)

    def _error(self, text: str) -> None:
        self.app.bell()
        self.query_one("#pay-error", Label).update(text)
        self.notify(text, title="Payment", severity="error", timeout=6)

    # ------------------------------------------------------------------ tenders

    @on(Input.Submitted, "#amount")
    def _amount(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.value = ""
        if not text:
            self.action_exact()
            return
        try:
            cents = parse_cents(text)
        except MoneyError as exc:
            self._error(str(exc))
            return
        self._add(TenderIn(kind="cash", amount_cents=cents))

    def action_exact(self) -> None:
        self._add(TenderIn(kind="cash", amount_cents=cash_due(self.remaining)))

    def action_quick(self, cents: int) -> None:
        self._add(TenderIn(kind="cash", amount_cents=cents))

    def action_tender(self, kind: str) -> None:
        field = self.query_one("#amount", Input)
        text = field.value.strip()
        field.value = ""
        try:
            cents = parse_cents(text) if text else self._default_for(kind)
        except MoneyError as exc:
            self._error(str(exc))
            return
        self._add(TenderIn(kind=kind, amount_cents=cents))

    def _default_for(self, kind: str) -> int:
        if kind != "cdc":
            return self.remaining
        used = sum(t.amount_cents for t in self.tenders if t.kind == "cdc")
        return max(0, min(self.remaining, self.totals.cdc_eligible_cents - used))

    def action_undo(self) -> None:
        if self.tenders and not self.finalizing:
            self.tenders.pop()
            self._replay()

    def action_complete(self) -> None:
        if self.remaining > 0:
            self._error(f"Payment is short by S${format_cents(self.remaining)}: take more.")

    def action_back(self) -> None:
        if not self.finalizing:
            self.dismiss(None)

    def _add(self, tender: TenderIn) -> None:
        if self.finalizing:
            return
        if self.remaining == 0:
            self._error("The sale is already paid.")
            return
        if tender.kind == "cdc" and self.totals.cdc_eligible_cents == 0:
            self._error("CDC vouchers cannot pay for any item in this sale.")
            return
        self.tenders.append(tender)
        if not self._replay():
            self.tenders.pop()
            self._replay(clear_error=False)

    def _replay(self, *, clear_error: bool = True) -> bool:
        """Settle all tenders so far; True if accepted (finalizes once fully paid)."""
        try:
            settle(
                self.totals.total_cents,
                [TenderInput(t.kind, t.amount_cents, t.reference) for t in self.tenders],
                cdc_eligible_cents=self.totals.cdc_eligible_cents,
            )
        except ShortPaymentError as exc:
            self.remaining = exc.remaining_cents
        except TenderError as exc:
            reason = str(exc)
            self._error(reason[:1].upper() + reason[1:] + ".")
            return False
        else:
            self.remaining = 0
        if clear_error:
            self.query_one("#pay-error", Label).update("")
        self._show()
        if self.remaining == 0:
            self.finalizing = True
            self.query_one("#pay-due", Label).update("[b]Paid. Saving the sale...[/b]")
            self._finalize()
        return True

    @work(exclusive=True, group="finalize", exit_on_error=False)
    async def _finalize(self) -> None:
        till = self.till
        assert till.db is not None and till.cashier is not None
        shift_id = till.shift.id if till.shift is not None else None
        try:
            request = self.cart.request(
                cashier_id=till.cashier.id, shift_id=shift_id, tenders=list(self.tenders)
            )
            receipt = await finalize_sale(till.db, request, now=till.clock())
        except TillError as exc:
            reason = exc.message
        except Exception as exc:  # a bug must not leave the screen stuck on "Saving"
            reason = unexpected(exc, "saving the sale")
        else:
            self.dismiss(receipt)
            return
        # Nothing was written (one transaction): take back the last tender, keep the cart.
        self.finalizing = False
        self.tenders.pop()
        self._replay(clear_error=False)
        self._error(f"Not saved: {reason}")
