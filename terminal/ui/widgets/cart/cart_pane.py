"""The cart pane: the cart's lines, the scan input and a message line, owning the cart.

The pane is the only thing that changes the :class:`~terminal.ui.cart.Cart`. It says
what happened with its own messages: :class:`CartPane.Changed` after every change (the
side pane shows totals, member and the last item from it), :class:`CartPane.Refused`
when something typed cannot be done, and :class:`CartPane.ApprovalNeeded` when a line
edit needs a manager (the domain's approval policy, with the store's limits in
:attr:`CartPane.limits`, the ones the checkout applies): the screen gets the approval
and calls :meth:`apply`, which re-checks that the line is still the same and asks for
the next approval the edit needs, if any. A void or a lower quantity is said with
:class:`CartPane.ItemsTakenOff` so the screen records it (``line.voided``) for the
shift's report and HQ.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label

from terminal.domain import approval
from terminal.domain.approval import DEFAULT_LIMITS, ApprovalLimits
from terminal.domain.cart import CartError, Totals
from terminal.domain.money import MoneyError, format_cents, parse_cents
from terminal.ui.cart import Cart, CartEntry, parse_qty
from terminal.ui.widgets.cart.cart_table import CartTable
from terminal.ui.widgets.scan.scan_input import ScanInput

if TYPE_CHECKING:
    from terminal.domain.approval import ApprovalNeed
    from terminal.services.schemas import ApprovalView, CustomerView, ParkedCart, ProductView


@dataclass(frozen=True, slots=True)
class LineEdit:
    """One change to one line, as proposed, with the approvals granted for it so far."""

    kind: Literal["qty", "discount", "void", "price"]
    index: int
    entry: CartEntry
    value: int = 0
    """The new quantity, the discount in cents, or the new unit price in cents."""
    granted: tuple[ApprovalView, ...] = ()
    sale_discount_cents: int = 0
    """Set when the edit takes the sale's discounts over the sale limit: the total that
    a manager is asked to approve (sale-wide) before the edit is made."""
    sale_granted: ApprovalView | None = None

    def after(self) -> CartEntry | None:
        """The line as the edit leaves it (None: voided), before any approval."""
        e = self.entry
        if self.kind == "void":
            return None
        if self.kind == "qty":
            e = replace(e, qty=self.value)
        elif self.kind == "price":
            e = replace(e, override_cents=self.value)
        else:
            return replace(e, discount_cents=self.value)
        return replace(e, discount_cents=min(e.discount_cents, e.line().gross_cents))

    def needs(self, limits: ApprovalLimits) -> list[ApprovalNeed]:
        """What the store's limits ask of this edit, in the order a manager is asked.

        A discount is judged on the line the edit leaves: a quantity or price lowered
        under a discount can make it over the limit (20% at quantity 5 is 100% at 1),
        and the approval it had was for the bigger line, so it is asked again.
        """
        out: list[ApprovalNeed] = []
        if self.kind == "void":
            need = approval.for_void(limits)
            return [need] if need else []
        if self.kind == "qty":
            need = approval.for_quantity(self.entry.qty, self.value, limits)
            if need:
                out.append(need)
        if (
            self.kind == "price"
            and limits.price_override
            and self.value != self.entry.product.price_cents
        ):
            out.append("price_override")
        after = self.after()
        assert after is not None
        line = after.line()
        lowered = line.gross_cents < self.entry.line().gross_cents
        approved_before = self.entry.approval is not None and self.kind != "discount"
        if (lowered or not approved_before) and approval.for_discount(
            after.discount_cents, line.gross_cents, limits
        ):
            out.append("discount")
        return out

    def missing(self, limits: ApprovalLimits) -> ApprovalNeed | None:
        have = {g.action for g in self.granted}
        return next((n for n in self.needs(limits) if n not in have), None)

    def approved(self, granted: ApprovalView) -> LineEdit:
        return replace(self, granted=(*self.granted, granted))

    def approval_for(self, action: ApprovalNeed) -> ApprovalView | None:
        return next((g for g in self.granted if g.action == action), None)

    @property
    def takes_off(self) -> int:
        """Items this edit takes off the sale (a void or a lower quantity), else 0."""
        if self.kind == "void":
            return self.entry.qty
        if self.kind == "qty":
            return max(0, self.entry.qty - self.value)
        return 0

    @property
    def note(self) -> str:
        """What the approval is for, in the words (and S$) a manager reads."""
        p, qty = self.entry.product, self.entry.qty
        if self.sale_discount_cents and self.sale_granted is None:
            total = format_cents(self.sale_discount_cents)
            return f"the sale's discounts S${total} (over the sale limit)"
        if self.kind == "void":
            amount = self.entry.line().gross_cents - self.entry.discount_cents
            return f"{p.sku} {p.name} x{qty} (S${format_cents(amount)})"
        kept = self.after()
        stays = (
            f", discount S${format_cents(kept.discount_cents)} stays"
            if kept is not None and kept.discount_cents and self.kind != "discount"
            else ""
        )
        if self.kind == "qty":
            return f"{p.sku} {p.name} quantity {qty} -> {self.value}{stays}"
        if self.kind == "price":
            return (
                f"{p.sku} {p.name} price S${format_cents(self.entry.unit_price_cents)} "
                f"-> S${format_cents(self.value)}{stays}"
            )
        return f"{p.sku} {p.name} discount S${format_cents(self.value)}"


class CartPane(Vertical):
    @dataclass
    class Changed(Message):
        """The cart changed: what the side pane shows."""

        totals: Totals | None
        item_count: int
        customer: CustomerView | None
        last: ProductView | None
        """The item last added (None once the cart is cleared or parked)."""

    @dataclass
    class Refused(Message):
        """Something typed cannot be done; the cart is unchanged."""

        text: str
        title: str

    @dataclass
    class ApprovalNeeded(Message):
        """``edit`` needs a manager: approve it, then call :meth:`CartPane.apply`."""

        edit: LineEdit
        need: ApprovalNeed

    @dataclass
    class ItemsTakenOff(Message):
        """A void or a lower quantity was made in the cart: it must be recorded (the shift's
        void count, HQ); if recording fails, :meth:`CartPane.undo` puts the line back."""

        edit: LineEdit
        now: CartEntry | None
        """The line as it is now (None: voided)."""

    def __init__(self, gst_rate_bp: int, limits: ApprovalLimits = DEFAULT_LIMITS) -> None:
        super().__init__(id="cart-pane")
        self.cart = Cart()
        self.limits = limits
        """The store's approval limits (HQ's settings): the checkout judges by the same."""
        self._gst_rate_bp = gst_rate_bp
        self._last: ProductView | None = None

    def compose(self) -> ComposeResult:
        yield CartTable()
        with Horizontal(id="scan-row"):
            yield Label("Scan/SKU", id="scan-label")
            yield ScanInput(placeholder="barcode, SKU, or 3*barcode", id="scan")
        yield Label("", id="message")

    def on_mount(self) -> None:
        self._changed()

    # ------------------------------------------------------------------ reading

    @property
    def entries(self) -> list[CartEntry]:
        return self.cart.entries

    def totals(self) -> Totals | None:
        return self.cart.totals(self._gst_rate_bp)

    def selected(self) -> int | None:
        """The line F6/F7/F8 act on: the highlighted one, else the last."""
        if not self.cart.entries:
            return None
        sel = self.query_one(CartTable).selected
        return len(self.cart.entries) - 1 if sel is None else sel

    def move(self, step: int) -> None:
        table = self.query_one(CartTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    # ------------------------------------------------------------------ changing

    def needs_age_check(self, product: ProductView) -> bool:
        """An age-restricted item, and the customer's age not yet confirmed in this sale."""
        return product.age_restricted and not self.cart.age_confirmed

    def add(self, product: ProductView, qty: int = 1, *, age_checked: bool = False) -> None:
        """Add a scan or a search pick (raises ``CartError`` for a bad quantity).

        ``age_checked``: the cashier confirmed the customer's age for this item (an
        age-restricted item is refused without it, unless confirmed earlier in the sale).
        """
        if self.needs_age_check(product) and not age_checked:
            raise CartError(f"{product.name} is age-restricted: confirm the customer's age.")
        checked = age_checked or (product.age_restricted and self.cart.age_confirmed)
        index = self.cart.add(product, qty, age_checked=checked)
        self._last = product
        self._changed(select=index)

    def attach(self, customer: CustomerView | None) -> None:
        self.cart.customer = customer
        self._changed()

    def clear(self) -> None:
        """A new, empty cart (the sale done, cancelled or parked): the last sale's message
        line goes with it, so the next customer's screen starts clean."""
        self.cart.clear()
        self._last = None
        message = self.query_one("#message", Label)
        message.update("")
        message.remove_class("error")
        self._changed()

    def load(self, parked: ParkedCart) -> None:
        """A recalled sale; lines scanned while it was loading stay after it."""
        meanwhile = list(self.cart.entries)
        self.cart.load(parked.items, parked.customer or self.cart.customer)
        if parked.sale_approval is not None:
            self.cart.sale_approval = parked.sale_approval
            self.cart.sale_discount_approved = parked.sale_discount_approved
        self.cart.entries.extend(meanwhile)
        self._last = None
        self._changed(select=0)

    def propose_quantity(self, index: int, text: str) -> None:
        try:
            qty = parse_qty(text)
        except CartError as exc:
            self.post_message(self.Refused(str(exc), "Quantity"))
            return
        self._propose(LineEdit("qty", index, self.cart.entries[index], qty))

    def propose_discount(self, index: int, text: str) -> None:
        entry = self.cart.entries[index]
        gross = entry.line().gross_cents
        try:
            cents = discount_cents(text, gross)
            if cents > gross:
                raise CartError("A discount cannot be more than the line amount.")
        except (MoneyError, CartError) as exc:
            self.post_message(self.Refused(str(exc), "Discount"))
            return
        self._propose(LineEdit("discount", index, entry, cents))

    def propose_void(self, index: int) -> None:
        self._propose(LineEdit("void", index, self.cart.entries[index]))

    def propose_price(self, index: int, text: str) -> None:
        """A new unit price for the line (a price override; the manager approves it)."""
        entry = self.cart.entries[index]
        try:
            cents = parse_cents(text)
            if cents < 0:
                raise CartError("A price cannot be negative.")
        except (MoneyError, CartError) as exc:
            self.post_message(self.Refused(str(exc), "Price"))
            return
        if cents == entry.unit_price_cents:
            self.post_message(
                self.Refused(f"The line is already S${format_cents(cents)}.", "Price")
            )
            return
        self._propose(LineEdit("price", index, entry, cents))

    def _propose(self, edit: LineEdit) -> None:
        self.apply(edit)

    def apply(self, edit: LineEdit, approval: ApprovalView | None = None) -> bool:
        """Make an edit once every approval it needs is granted, if its line is still the
        one it was proposed for; else ask for the next approval (``ApprovalNeeded``)."""
        entries = self.cart.entries
        if edit.index >= len(entries) or entries[edit.index] is not edit.entry:
            self.post_message(self.Refused("The line changed meanwhile: try again.", "Cart"))
            return False
        if approval is not None:
            asked_sale = edit.sale_discount_cents and edit.sale_granted is None
            edit = replace(edit, sale_granted=approval) if asked_sale else edit.approved(approval)
        need = edit.missing(self.limits)
        if need is not None:
            self.post_message(self.ApprovalNeeded(edit, need))
            return False
        over = self._sale_discount_after(edit)
        if over > self.cart.sale_discount_approved and edit.sale_granted is None:
            self.post_message(
                self.ApprovalNeeded(replace(edit, sale_discount_cents=over), "discount")
            )
            return False
        disc = edit.approval_for("discount")
        try:
            if edit.kind == "void":
                self.cart.void(edit.index)
                select = max(0, edit.index - 1)
            elif edit.kind == "qty":
                select = self.cart.set_qty(edit.index, edit.value)
            elif edit.kind == "price":
                select = self.cart.set_price(
                    edit.index, edit.value, edit.approval_for("price_override")
                )
            else:
                select = self.cart.set_discount(edit.index, edit.value, disc)
            if disc is not None and edit.kind != "discount":
                self.cart.set_discount(edit.index, entries[edit.index].discount_cents, disc)
        except CartError as exc:
            self.post_message(self.Refused(str(exc), "Cart"))
            return False
        if edit.sale_granted is not None:
            self.cart.sale_approval, self.cart.sale_discount_approved = edit.sale_granted, over
        self._changed(select=select)
        if edit.takes_off:
            now = None if edit.kind == "void" else entries[edit.index]
            self.post_message(self.ItemsTakenOff(edit, now))
        return True

    def _sale_discount_after(self, edit: LineEdit) -> int:
        """The sale's discounts the edit would leave, when over the sale limit (else 0):
        judged as the checkout judges them (:func:`approval.sale_discount_over`)."""
        entries: list[CartEntry] = list(self.cart.entries)
        after = edit.after()
        if after is None:
            del entries[edit.index]
        else:
            entries[edit.index] = replace(
                after, approval=edit.approval_for("discount") or after.approval
            )
        facts = [
            approval.LineFacts(i, e.product.sku, e.qty, e.unit_price_cents, e.discount_cents)
            for i, e in enumerate(entries, start=1)
        ]
        approved = {i for i, e in enumerate(entries, start=1) if e.approval is not None}
        return approval.sale_discount_over(facts, 0, self.limits, approved)

    def undo(self, edit: LineEdit, now: CartEntry | None) -> None:
        """Put back what ``edit`` took off (its recording failed: nothing was taken off)."""
        entries = self.cart.entries
        if now is None:
            self.cart.put_back(edit.index, edit.entry)
        elif edit.index < len(entries) and entries[edit.index] is now:
            entries[edit.index] = edit.entry
        else:
            self.post_message(self.Refused("The line changed meanwhile: check it.", "Cart"))
            return
        self._changed(select=edit.index)

    def _changed(self, *, select: int | None = None) -> None:
        try:
            totals = self.totals()
        except CartError as exc:
            self.post_message(self.Refused(str(exc), "Cart"))
            return
        self.query_one(CartTable).show(self.cart, totals, select=select)
        count = sum(e.qty for e in self.cart.entries)
        self.post_message(self.Changed(totals, count, self.cart.customer, self._last))


def discount_cents(text: str, gross_cents: int) -> int:
    """A discount typed as an amount (``1.50``) or a percent of the line (``10%``)."""
    cleaned = text.strip()
    if cleaned.endswith("%"):
        pct = parse_cents(cleaned[:-1])  # hundredths of a percent
        if pct > 100_00:
            raise CartError("A discount cannot be more than 100%.")
        return (gross_cents * pct + 5_000) // 10_000
    return parse_cents(cleaned)
