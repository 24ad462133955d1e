"""Line edits on the sale screen: quantity (F6), discount (F7), void (F8), approvals.

A mixin of :class:`~terminal.ui.screens.sale.SaleScreen` (kept apart so that module
stays about scanning, paying and parking). A void, or a discount over
:data:`DISCOUNT_LIMIT_PCT` of the line, needs a manager: a cashier gets the PIN prompt,
a logged-in manager approves their own; either way ``approval.granted`` is recorded for
HQ before the cart changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from textual import work
from textual.screen import Screen

from terminal.domain.cart import CartError
from terminal.domain.money import MoneyError, parse_cents
from terminal.services.errors import TillError
from terminal.ui.cart import Cart, parse_qty
from terminal.ui.failures import unexpected
from terminal.ui.widgets.cart.cart_table import CartTable

if TYPE_CHECKING:
    from terminal.db.engine import Database
    from terminal.ui.app import KedaiTill

    _ScreenBase = Screen[None]
else:
    _ScreenBase = object

DISCOUNT_LIMIT_PCT = 20
"""Line discounts above this share of the line need a manager's PIN."""


class LineEdits(_ScreenBase):
    """F6/F7/F8 on the selected line (the last one if none is selected)."""

    cart: Cart

    if TYPE_CHECKING:

        @property
        def till(self) -> KedaiTill: ...

        @property
        def db(self) -> Database: ...

        def _refresh_cart(self, *, select: int | None = None) -> None: ...

        def _error(self, text: str, title: str = "") -> None: ...

    def _selected(self) -> int | None:
        if not self.cart.entries:
            self._error("The cart is empty.")
            return None
        sel = self.query_one(CartTable).selected
        return len(self.cart.entries) - 1 if sel is None else sel

    def action_quantity(self) -> None:
        from terminal.ui.screens.prompt import PromptModal

        index = self._selected()
        if index is None:
            return
        entry = self.cart.entries[index]

        def done(text: str | None) -> None:
            if text is None:
                return
            try:
                self.cart.set_qty(index, parse_qty(text))
            except CartError as exc:
                self._error(str(exc), "Quantity")
                return
            self._refresh_cart(select=index)

        self.app.push_screen(
            PromptModal("Quantity", entry.product.name, default=str(entry.qty)), done
        )

    def action_discount(self) -> None:
        from terminal.ui.screens.prompt import PromptModal

        index = self._selected()
        if index is None:
            return
        entry = self.cart.entries[index]

        def done(text: str | None) -> None:
            if text is None:
                return
            gross = entry.qty * entry.product.price_cents
            try:
                cents = _discount_cents(text, gross)
                if cents > gross:
                    raise CartError("A discount cannot be more than the line amount.")
            except (MoneyError, CartError) as exc:
                self._error(str(exc), "Discount")
                return
            if cents * 100 > gross * DISCOUNT_LIMIT_PCT:
                self._with_approval(
                    "discount",
                    f"{entry.product.sku} -{cents}c",
                    lambda: self._discount(index, cents),
                )
            else:
                self._discount(index, cents)

        self.app.push_screen(
            PromptModal(
                "Line discount",
                f"{entry.product.name}: amount (S$) or percent (e.g. 10%)",
                default="",
            ),
            done,
        )

    def _discount(self, index: int, cents: int) -> None:
        try:
            self.cart.set_discount(index, cents)
        except CartError as exc:
            self._error(str(exc), "Discount")
            return
        self._refresh_cart(select=index)

    def action_void(self) -> None:
        index = self._selected()
        if index is None:
            return
        entry = self.cart.entries[index]

        def void() -> None:
            self.cart.void(index)
            self._refresh_cart(select=max(0, index - 1))
            self.notify(f"Voided: {entry.product.name}", title="Line void")

        self._with_approval("void", f"{entry.product.sku} x{entry.qty}", void)

    def _with_approval(self, action: str, note: str, then: Callable[[], None]) -> None:
        """A cashier needs a manager's PIN; a manager approves their own. Both audited."""
        from terminal.ui.screens.approve import ApproveModal

        assert self.till.cashier is not None
        if self.till.cashier.role == "manager":
            self._own_approval(action, note, then)
            return

        def done(ok: bool | None) -> None:
            if ok:
                then()

        self.app.push_screen(ApproveModal(action, note), done)

    @work(group="approval", exit_on_error=False)
    async def _own_approval(self, action: str, note: str, then: Callable[[], None]) -> None:
        """Record the manager's ``approval.granted`` first: no audit, no action."""
        from terminal.services.cashiers import ApprovalAction, record_own_approval

        assert self.till.cashier is not None
        try:
            await record_own_approval(
                self.db,
                action=cast("ApprovalAction", action),
                manager_id=self.till.cashier.id,
                note=note,
                now=self.till.clock(),
            )
        except TillError as exc:
            self._error(exc.message, "Approval")
            return
        except Exception as exc:
            self._error(unexpected(exc, "recording the approval"), "Approval")
            return
        then()


def _discount_cents(text: str, gross_cents: int) -> int:
    cleaned = text.strip()
    if cleaned.endswith("%"):
        pct = parse_cents(cleaned[:-1])  # hundredths of a percent
        if pct > 100_00:
            raise CartError("A discount cannot be more than 100%.")
        return (gross_cents * pct + 5_000) // 10_000
    return parse_cents(cleaned)
