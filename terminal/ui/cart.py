"""The cart on screen: what was scanned, priced with the same domain code as checkout.

The totals panel calls :func:`terminal.domain.cart.price_cart` exactly as
``finalize_sale`` does, so the screen and the receipt agree to the cent. The cart is
plain UI state: nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from uuid import UUID

from terminal.domain.cart import CartError, CartLine, Totals, price_cart, validate_line
from terminal.services.schemas import (
    ApprovalView,
    CartItemIn,
    CheckoutRequest,
    CustomerView,
    ParkedItem,
    ProductView,
    TenderIn,
)

MAX_QTY = 9_999


@dataclass(frozen=True, slots=True)
class CartEntry:
    product: ProductView
    qty: int = 1
    discount_cents: int = 0
    approval: ApprovalView | None = None
    """The manager's approval of this line's discount, carried to the checkout."""
    override_cents: int | None = None
    """A price the cashier set instead of the catalog's (``product.price_cents``)."""
    override_approval: ApprovalView | None = None
    """The manager's approval of that price, carried to the checkout."""
    age_checked: bool = False
    """An age-restricted item the cashier confirmed the customer is old enough to buy."""

    @property
    def unit_price_cents(self) -> int:
        """What one item sells for on this line: the override, else the catalog price."""
        return self.product.price_cents if self.override_cents is None else self.override_cents

    def line(self) -> CartLine:
        p = self.product
        return CartLine(
            product_id=p.id,
            sku=p.sku,
            name=p.name,
            qty=self.qty,
            unit_price_cents=self.unit_price_cents,
            tax_code=p.tax_code,
            cdc_eligible=p.cdc_eligible,
            discount_cents=self.discount_cents,
        )


@dataclass
class Cart:
    entries: list[CartEntry] = field(default_factory=list)
    customer: CustomerView | None = None
    age_confirmed: bool = False
    """The cashier confirmed the customer's age once in this sale (asked once per sale)."""
    sale_approval: ApprovalView | None = None
    """A manager's approval of the sale's discounts over the sale limit (sale-wide)."""
    sale_discount_approved: int = 0
    """The discount total that approval was given for: more asks again."""

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, product: ProductView, qty: int = 1, *, age_checked: bool = False) -> int:
        """Add a scan; a repeat scan of the last (undiscounted) line bumps its quantity.

        Returns the index of the line that changed.
        """
        check_qty(qty)
        if self.entries:
            last = self.entries[-1]
            if (
                last.product.id == product.id
                and last.discount_cents == 0
                and last.override_cents is None
            ):
                return self.set_qty(len(self.entries) - 1, last.qty + qty)
        self.entries.append(CartEntry(product, qty, age_checked=age_checked))
        if age_checked:
            self.age_confirmed = True
        return len(self.entries) - 1

    def set_qty(self, index: int, qty: int) -> int:
        check_qty(qty)
        entry = replace(self.entries[index], qty=qty)
        entry = replace(entry, discount_cents=min(entry.discount_cents, entry.line().gross_cents))
        self.entries[index] = entry
        return index

    def set_discount(self, index: int, cents: int, approval: ApprovalView | None = None) -> int:
        old = self.entries[index]
        entry = replace(old, discount_cents=cents, approval=approval or old.approval)
        validate_line(entry.line())
        self.entries[index] = entry
        return index

    def set_price(self, index: int, cents: int, approval: ApprovalView | None = None) -> int:
        """Sell the line at ``cents`` each (the catalog price again clears the override)."""
        old = self.entries[index]
        override = None if cents == old.product.price_cents else cents
        entry = replace(
            old,
            override_cents=override,
            override_approval=(approval or old.override_approval) if override is not None else None,
        )
        entry = replace(entry, discount_cents=min(entry.discount_cents, entry.line().gross_cents))
        validate_line(entry.line())
        self.entries[index] = entry
        return index

    def void(self, index: int) -> CartEntry:
        return self.entries.pop(index)

    def put_back(self, index: int, entry: CartEntry) -> None:
        """Undo a void whose recording failed: the line returns where it was."""
        self.entries.insert(min(index, len(self.entries)), entry)

    def copy(self) -> Cart:
        """A snapshot: later scans into this cart do not change the copy (entries are frozen)."""
        return Cart(
            entries=list(self.entries),
            customer=self.customer,
            age_confirmed=self.age_confirmed,
            sale_approval=self.sale_approval,
            sale_discount_approved=self.sale_discount_approved,
        )

    def clear(self) -> None:
        self.entries.clear()
        self.customer = None
        self.age_confirmed = False
        self.sale_approval = None
        self.sale_discount_approved = 0

    def totals(self, gst_rate_bp: int) -> Totals | None:
        if not self.entries:
            return None
        return price_cart([e.line() for e in self.entries], gst_rate_bp=gst_rate_bp)

    def parked_items(self) -> list[ParkedItem]:
        return [
            ParkedItem(
                product=e.product,
                qty=e.qty,
                discount_cents=e.discount_cents,
                approval=e.approval,
                override_cents=e.override_cents,
                override_approval=e.override_approval,
                age_checked=e.age_checked,
            )
            for e in self.entries
        ]

    def load(self, items: list[ParkedItem], customer: CustomerView | None) -> None:
        """The lines of a recalled cart, with their prices, approvals and age checks."""
        self.entries = [
            CartEntry(
                i.product,
                i.qty,
                i.discount_cents,
                approval=i.approval,
                override_cents=i.override_cents,
                override_approval=i.override_approval,
                age_checked=i.age_checked,
            )
            for i in items
        ]
        self.customer = customer
        self.age_confirmed = self.age_confirmed or any(i.age_checked for i in items)

    def request(
        self, *, cashier_id: UUID, shift_id: UUID | None, tenders: list[TenderIn]
    ) -> CheckoutRequest:
        return CheckoutRequest(
            cashier_id=cashier_id,
            customer_id=self.customer.id if self.customer else None,
            shift_id=shift_id,
            items=[
                CartItemIn(
                    product_id=e.product.id,
                    qty=e.qty,
                    discount_cents=e.discount_cents,
                    unit_price_cents=e.override_cents,
                    age_confirmed=e.product.age_restricted
                    and (e.age_checked or self.age_confirmed),
                )
                for e in self.entries
            ],
            tenders=tenders,
            approvals=[
                granted.as_approval(line_no)
                for line_no, e in enumerate(self.entries, start=1)
                for granted in (e.approval, e.override_approval)
                if granted is not None
            ]
            + ([self.sale_approval.as_approval()] if self.sale_approval is not None else []),
        )


def check_qty(qty: int) -> None:
    if not 1 <= qty <= MAX_QTY:
        raise CartError(f"Quantity {qty} is not allowed: use 1 to {MAX_QTY}.")


def parse_qty(text: str) -> int:
    """A quantity a cashier typed: a whole number from 1 to :data:`MAX_QTY`."""
    cleaned = text.strip()
    if not cleaned.isdigit():
        raise CartError(f"{cleaned!r} is not a quantity: type a whole number like 3.")
    qty = int(cleaned)
    check_qty(qty)
    return qty
