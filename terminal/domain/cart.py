"""Cart arithmetic: line and cart discounts, totals and the GST in them.

Pure functions over frozen dataclasses; the UI edits a cart by building a new one.
A cart discount is spread over the lines in proportion to their value (largest
remainder, so the shares add up exactly); each line then carries its whole discount,
which is what the receipt, the tax split and HQ's facts need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from terminal.domain.gst import inclusive_tax

TAXABLE = "SR"
MAX_QTY = 9_999
"""More of one item than this in one sale is a slip (a barcode typed as a quantity)."""


class CartError(ValueError):
    """The cart cannot be priced as given (bad quantity, discount larger than a line...)."""


@dataclass(frozen=True, slots=True)
class CartLine:
    product_id: UUID
    sku: str
    name: str
    qty: int
    unit_price_cents: int
    tax_code: str = "SR"
    cdc_eligible: bool = True
    discount_cents: int = 0

    @property
    def gross_cents(self) -> int:
        return self.qty * self.unit_price_cents


@dataclass(frozen=True, slots=True)
class PricedLine:
    line: CartLine
    discount_cents: int
    """Line discount plus this line's share of the cart discount."""
    total_cents: int


@dataclass(frozen=True, slots=True)
class Totals:
    lines: tuple[PricedLine, ...]
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    tax_cents: int
    gst_rate_bp: int
    cdc_eligible_cents: int = field(default=0)


def validate_line(line: CartLine) -> None:
    if not 0 < line.qty <= MAX_QTY:
        raise CartError(f"quantity for {line.sku} must be a whole number from 1 to {MAX_QTY}")
    if line.unit_price_cents < 0:
        raise CartError(f"price for {line.sku} cannot be negative")
    if not 0 <= line.discount_cents <= line.gross_cents:
        raise CartError(f"discount on {line.sku} must be between 0 and the line amount")


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` over ``weights`` proportionally; the parts sum to ``amount``."""
    total = sum(weights)
    if amount == 0 or total == 0:
        return [0] * len(weights)
    shares = [amount * w // total for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in remainders[: amount - sum(shares)]:
        shares[i] += 1
    return shares


def price_cart(
    lines: Sequence[CartLine], *, cart_discount_cents: int = 0, gst_rate_bp: int
) -> Totals:
    """Price a cart: every identity here is property-tested in tests/unit."""
    if not lines:
        raise CartError("the cart is empty")
    for line in lines:
        validate_line(line)
    after_line = [ln.gross_cents - ln.discount_cents for ln in lines]
    if not 0 <= cart_discount_cents <= sum(after_line):
        raise CartError("cart discount must be between 0 and the cart total")
    shares = allocate(cart_discount_cents, after_line)
    priced = tuple(
        PricedLine(ln, ln.discount_cents + share, net - share)
        for ln, net, share in zip(lines, after_line, shares, strict=True)
    )
    subtotal = sum(ln.gross_cents for ln in lines)
    total = sum(p.total_cents for p in priced)
    taxable = sum(p.total_cents for p in priced if p.line.tax_code == TAXABLE)
    return Totals(
        lines=priced,
        subtotal_cents=subtotal,
        discount_cents=subtotal - total,
        total_cents=total,
        tax_cents=inclusive_tax(taxable, gst_rate_bp),
        gst_rate_bp=gst_rate_bp,
        cdc_eligible_cents=sum(p.total_cents for p in priced if p.line.cdc_eligible),
    )
