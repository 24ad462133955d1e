"""The till UI's questions to the approval policy: what needs a manager, at the limits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from terminal.domain import approval
from terminal.domain.approval import ApprovalLimits


def test_voids_need_a_manager_unless_the_store_says_otherwise() -> None:
    assert approval.for_void() == "void"
    assert approval.for_void(ApprovalLimits(void=False)) is None


def test_quantity_down_needs_a_manager_up_is_free() -> None:
    assert approval.for_quantity(3, 2) == "qty_decrease"
    assert approval.for_quantity(3, 0) == "void"
    assert approval.for_quantity(3, 3) is None
    assert approval.for_quantity(3, 9) is None


def test_discount_limits_are_twenty_percent_and_twenty_dollars_inclusive() -> None:
    assert approval.for_discount(200, 1000) is None  # exactly 20%
    assert approval.for_discount(201, 1000) == "discount"
    assert approval.for_discount(0, 1000) is None
    assert approval.for_discount(2000, 100_000) is None  # exactly S$20
    assert approval.for_discount(2001, 100_000) == "discount"
    limits = ApprovalLimits(line_discount_bp=5000, line_discount_cents=10**6)
    assert approval.for_discount(50, 100, limits) is None
    assert approval.for_discount(51, 100, limits) == "discount"


@given(st.integers(0, 10**7), st.integers(1, 10**7))
def test_the_ui_asks_exactly_when_the_checkout_would_refuse(disc: int, gross: int) -> None:
    line = approval.LineFacts(
        line_no=1, sku="X", qty=1, unit_price_cents=gross, discount_cents=disc
    )
    checkout_needs = approval.sale_needs(
        [line], 0, ApprovalLimits(sale_discount_bp=10_000, sale_discount_cents=10**9)
    )
    assert (approval.for_discount(disc, gross) is not None) == bool(checkout_needs)
    assert (approval.for_discount(disc, gross) is not None) == (disc * 5 > gross or disc > 2000)


def test_an_approved_line_discount_is_not_counted_again_against_the_sale() -> None:
    limits = ApprovalLimits()
    big = approval.LineFacts(
        line_no=1, sku="RICE", qty=1, unit_price_cents=1395, discount_cents=500
    )
    small = approval.LineFacts(
        line_no=2, sku="KOPI", qty=1, unit_price_cents=330, discount_cents=60
    )
    needs = approval.sale_needs([big, small], 0, limits)
    assert [(n.action, n.line_no) for n in needs] == [("discount", 1), ("discount", None)]
    # the manager approved line 1: it still needs its (checked) approval, the sale does not
    approved = approval.sale_needs([big, small], 0, limits, approved_lines={1})
    assert [(n.action, n.line_no) for n in approved] == [("discount", 1)]
    # an "approval" for a line that needed none exempts nothing
    alone = approval.LineFacts(
        line_no=1, sku="KOPI", qty=5, unit_price_cents=330, discount_cents=330
    )
    many = [alone, approval.LineFacts(2, "MILO", 1, 100, 20)]
    assert approval.sale_needs(many, 400, limits, approved_lines={1, 2}) == approval.sale_needs(
        many, 400, limits
    )
