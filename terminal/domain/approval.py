"""Which line changes need a manager's approval: one pure policy, no I/O.

Taking money off a sale needs a manager: voiding a line, lowering a line's quantity (a
partial void), and a line discount above :data:`DISCOUNT_LIMIT_PCT` of the line. Adding
to a sale never does. The UI asks for the PIN this says is needed; the services that
write will refuse what lacks it, from the same function.
"""

from __future__ import annotations

from typing import Literal

ApprovalNeed = Literal["void", "discount"]
"""The approval an action needs (the ``action`` of its ``approval.granted`` event)."""

DISCOUNT_LIMIT_PCT = 20
"""Line discounts above this share of the line's gross amount need a manager."""


def for_quantity(old_qty: int, new_qty: int) -> ApprovalNeed | None:
    """A lower quantity takes items off the sale: a (partial) void."""
    return "void" if new_qty < old_qty else None


def for_void() -> ApprovalNeed:
    return "void"


def for_discount(
    discount_cents: int, gross_cents: int, *, limit_pct: int = DISCOUNT_LIMIT_PCT
) -> ApprovalNeed | None:
    """A discount over ``limit_pct`` percent of the line's gross amount needs approval."""
    return "discount" if discount_cents * 100 > gross_cents * limit_pct else None
