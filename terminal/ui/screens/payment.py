"""Taking payment: cash by default, split tenders, quick cash, 5-cent cash rounding.

Typing an amount and Enter tenders cash (Enter alone or F1: the exact cash due). Each
tender is checked by replaying all tenders through :func:`terminal.domain.tender.settle`,
the same function the checkout uses: a tender it refuses (CDC on excluded items, a card
larger than the balance) is taken back with the reason on screen. As soon as the
tenders cover the sale it is finalized in one transaction (there is no "complete" key);
only after COMMIT does the screen close with the receipt. If finalizing fails, nothing
was saved: the tenders and the cart stay and the reason is shown.

Non-cash tenders already taken are real money (a NETS or card slip exists): Esc or
Undo over one asks first, so none is ever dropped silently.

F5 pays with the attached member's points at the store's rate (typed S$ amount, or as
much as the points cover). The balance is read when the screen opens (HQ's balance plus
this till's unsynced deltas, the figure the checkout checks), shown before and after,
and a redemption over it or not a whole number of points is refused here, never rounded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Input, Label, Static

from terminal.domain.cart import Totals
from terminal.domain.money import format_cents, parse_cents
from terminal.domain.tender import (
    TENDER_NAMES,
    ShortPaymentError,
    TenderInput,
    cash_due,
    settle,
)
from terminal.services.checkout import finalize_sale
from terminal.services.schemas import Receipt, TenderIn
from terminal.ui.cart import Cart
from terminal.ui.screens.base import TillModal

if TYPE_CHECKING:
    from terminal.services.schemas import PointsAccount

QUICK_CASH = {"f2": 10_00, "f3": 50_00, "f4": 100_00}


def _name(kind: str) -> str:
    return TENDER_NAMES.get(kind, kind)


class PaymentScreen(TillModal[Receipt | None]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        # F1 = Enter on an empty amount; the footer has no room at 80 columns, so the
        # amount field's placeholder says it.
        Binding("f1", "exact", "Exact", show=False),
        Binding("f2", "quick(1000)", "S$10"),
        Binding("f3", "quick(5000)", "S$50"),
        Binding("f4", "quick(10000)", "S$100"),
        # No room in the footer at 80 columns: the hint line names F5 when a member is
        # on the sale (without one, F5 says why points cannot pay).
        Binding("f5", "points", "Points", show=False),
        Binding("f6", "tender('nets')", "NETS"),
        Binding("f7", "tender('card')", "Card"),
        Binding("f8", "tender('paynow')", "PayNow"),
        Binding("f10", "tender('cdc')", "CDC"),
        Binding("f12", "undo", "Undo"),
        Binding("f9", "still_due", "Due", show=False),  # habit from the sale screen
    ]
    AUTO_FOCUS = "#amount"

    def __init__(self, cart: Cart, totals: Totals) -> None:
        super().__init__()
        self.cart = cart
        self.totals = totals
        self.tenders: list[TenderIn] = []
        self.remaining = totals.total_cents
        self.finalizing = False
        self.points: PointsAccount | None = None
        """The member's points and the redeem rate, once read (None: no member, or not yet)."""
        self.refused: frozenset[str] = frozenset()
        """Tender kinds this shop does not take, once read (the checkout checks them too)."""

    def compose(self) -> ComposeResult:
        t = self.totals
        with Vertical(id="payment", classes="dialog"):
            yield Label("PAYMENT", classes="dialog-title")
            yield Label(self._member_line(), id="pay-member")
            with VerticalScroll(id="pay-items"):
                yield Static(self._item_lines(), id="pay-items-text")
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
                yield Input(placeholder="amount", id="amount")
            yield Label("", id="pay-error")
            hint = "Enter: cash   F1 or Enter alone: exact cash"
            if self.cart.customer is not None:
                hint += "   F5: points"
            yield Label(hint, classes="dialog-hint")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show()
        self._read_refused()
        if self.cart.customer is not None:
            self._read_points(self.cart.customer.id)

    @work(exclusive=True, group="points", exit_on_error=False)
    async def _read_points(self, customer_id: UUID) -> None:
        from terminal.services.customers import points_account

        with self.boundary("reading the member's points", show=self._show_error) as outcome:
            account = await points_account(self.till.database, customer_id)
        if not outcome.failed:
            self.points = account
            self._show()

    @work(exclusive=True, group="refused", exit_on_error=False)
    async def _read_refused(self) -> None:
        from terminal.services.tenders import refused_tender_kinds

        with self.boundary("reading the tenders", show=self._show_error) as outcome:
            refused = await refused_tender_kinds(self.till.database)
        if not outcome.failed:
            self.refused = refused

    # ------------------------------------------------------------------ display

    def _member_line(self) -> str:
        c = self.cart.customer
        if c is None:
            return "No member on this sale"
        phone = f" {c.phone}" if c.phone else ""
        if self.points is None:
            return f"Member: {c.name}{phone}  {c.balance:,} pts"
        balance = self.points.customer.balance
        used = self._points_used()
        if not used:
            return f"Member: {c.name}{phone}  {balance:,} pts"
        return f"Member: {c.name}{phone}  {balance:,} pts, {used:,} used, {balance - used:,} left"

    def _points_used(self) -> int:
        value = self.points.point_value_cents if self.points is not None else 1
        return sum(t.amount_cents for t in self.tenders if t.kind == "points") // value

    def _item_lines(self) -> str:
        return "\n".join(
            f"{e.qty:>3} x {e.product.name[:36]:<36} {format_cents(p.total_cents):>9}"
            for e, p in zip(self.cart.entries, self.totals.lines, strict=True)
        )

    def _show(self) -> None:
        self.query_one("#pay-member", Label).update(self._member_line())
        lines = [f"{_name(t.kind):<12}{format_cents(t.amount_cents):>9}" for t in self.tenders]
        self.query_one("#pay-tenders", Static).update("\n".join(lines) or "No tenders yet")
        due = self.remaining
        cash = cash_due(due)
        rounding = cash - due
        text = f"[b]Due S${format_cents(due)}[/b]   Cash due S${format_cents(cash)}"
        if rounding:
            text += f" (rounding {'+' if rounding > 0 else ''}{format_cents(rounding)})"
        self.query_one("#pay-due", Label).update(text)

    def _show_error(self, text: str) -> None:
        """On the screen until the next tender (it wraps), and as a toast."""
        self.query_one("#pay-error", Label).update(text)
        self.error(text, "Payment")

    # ------------------------------------------------------------------ tenders

    @on(Input.Submitted, "#amount")
    def _amount(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.value = ""
        if not text:
            self.action_exact()
            return
        with self.boundary("reading the amount", show=self._show_error) as outcome:
            cents = parse_cents(text)
        if not outcome.failed:
            self._add(TenderIn(kind="cash", amount_cents=cents))

    def action_still_due(self) -> None:
        """F9 (the sale screen's Pay): the sale completes by itself once paid; say what is
        still due, in cash (rounded) and by the other tenders (exact)."""
        if self.remaining == 0:
            return
        due = self.remaining
        self._show_error(
            f"Still due: S${format_cents(cash_due(due))} in cash, or "
            f"S${format_cents(due)} by NETS, card or PayNow."
        )

    def action_exact(self) -> None:
        self._add(TenderIn(kind="cash", amount_cents=cash_due(self.remaining)))

    def action_quick(self, cents: int) -> None:
        self._add(TenderIn(kind="cash", amount_cents=cents))

    def action_tender(self, kind: str) -> None:
        field = self.query_one("#amount", Input)
        text = field.value.strip()
        field.value = ""
        with self.boundary("reading the amount", show=self._show_error) as outcome:
            cents = parse_cents(text) if text else self._default_for(kind)
        if not outcome.failed:
            self._add(TenderIn(kind=kind, amount_cents=cents))

    def action_points(self) -> None:
        """Pay with the member's points: the amount typed, else all the points can cover."""
        field = self.query_one("#amount", Input)
        text = field.value.strip()
        field.value = ""
        if self.cart.customer is None:
            self._show_error(
                "No member on this sale: points need a member (F3 on the sale screen)."
            )
            return
        if self.finalizing or self.remaining == 0:
            self._show_error("The sale is already paid.")
            return
        account = self.points
        if account is None:
            self._show_error("The member's points are still being read: try again.")
            return
        value = account.point_value_cents
        left = account.customer.balance - self._points_used()
        with self.boundary("reading the amount", show=self._show_error) as outcome:
            cents = parse_cents(text) if text else min(self.remaining // value, left) * value
        if outcome.failed:
            return
        if cents <= 0:
            self._show_error(f"{account.customer.name} has no points left to pay with.")
            return
        if cents % value:
            self._show_error(
                f"S${format_cents(cents)} is not a whole number of points "
                f"(1 point pays S${format_cents(value)}): nothing was rounded."
            )
            return
        if cents // value > left:
            self._show_error(
                f"S${format_cents(cents)} needs {cents // value:,} points; "
                f"{account.customer.name} has {left:,} (S${format_cents(left * value)})."
            )
            return
        self._add(TenderIn(kind="points", amount_cents=cents))

    def _default_for(self, kind: str) -> int:
        if kind != "cdc":
            return self.remaining
        used = sum(t.amount_cents for t in self.tenders if t.kind == "cdc")
        return max(0, min(self.remaining, self.totals.cdc_eligible_cents - used))

    def _non_cash(self, tenders: list[TenderIn]) -> str:
        return ", ".join(
            f"{_name(t.kind)} S${format_cents(t.amount_cents)}" for t in tenders if t.kind != "cash"
        )

    def _cash(self, tenders: list[TenderIn]) -> int:
        return sum(t.amount_cents for t in tenders if t.kind == "cash")

    def _ask_to_drop(self, tenders: list[TenderIn], then: str) -> None:
        from terminal.ui.screens.confirm import ConfirmModal

        def answered(yes: bool | None) -> None:
            if not yes or self.finalizing:
                return
            if then == "back":
                self.dismiss(None)
            else:
                self.tenders.pop()
                self._replay()

        taken = self._non_cash(tenders)
        cash = self._cash(tenders)
        if taken:
            question = (
                f"{taken} was already paid. Give it back to the customer on its own terminal first"
            )
            if cash:
                question += f", and the S${format_cents(cash)} cash handed over"
        else:
            question = f"S${format_cents(cash)} cash was handed over. Give it back first"
        self.app.push_screen(
            ConfirmModal(
                "Money already taken",
                question + ", then Enter to drop it.",
                yes="given back, drop it",
                no="keep it and stay",
            ),
            answered,
        )

    def action_undo(self) -> None:
        if not self.tenders or self.finalizing:
            return
        last = self.tenders[-1]
        if last.kind != "cash":
            self._ask_to_drop([last], "undo")
            return
        self.tenders.pop()
        self._replay()

    def action_back(self) -> None:
        if self.finalizing:
            return
        if self.tenders:  # cash too: the customer's money is in the cashier's hand
            self._ask_to_drop(self.tenders, "back")
            return
        self.dismiss(None)

    def _add(self, tender: TenderIn) -> None:
        if self.finalizing:
            return
        if self.remaining == 0:
            self._show_error("The sale is already paid.")
            return
        if tender.kind == "cdc" and self.totals.cdc_eligible_cents == 0:
            self._show_error("CDC vouchers cannot pay for any item in this sale.")
            return
        self.tenders.append(tender)
        if not self._replay():
            self.tenders.pop()
            self._replay(clear_error=False)

    def _replay(self, *, clear_error: bool = True) -> bool:
        """Settle all tenders so far; True if accepted (finalizes once fully paid)."""
        remaining = 0
        with self.boundary("checking the tenders", show=self._show_error) as outcome:
            try:
                settle(
                    self.totals.total_cents,
                    [TenderInput(t.kind, t.amount_cents, t.reference) for t in self.tenders],
                    cdc_eligible_cents=self.totals.cdc_eligible_cents,
                    refused_kinds=self.refused,
                )
            except ShortPaymentError as exc:
                remaining = exc.remaining_cents
        if outcome.failed:
            return False
        self.remaining = remaining
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
        shift_id = till.shift.id if till.shift is not None else None
        with self.boundary("saving the sale", show=lambda _: None) as outcome:
            request = self.cart.request(
                cashier_id=till.signed_in.id, shift_id=shift_id, tenders=list(self.tenders)
            )
            receipt = await finalize_sale(till.database, request, now=till.clock())
        if not outcome.failed:
            self.dismiss(receipt)
            return
        # Nothing was written (one transaction): take back the last tender, keep the cart.
        self.finalizing = False
        self.tenders.pop()
        self._replay(clear_error=False)
        self._show_error(f"Not saved: {outcome.message}")
