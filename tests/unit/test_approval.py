"""The approval policy: what needs a manager, at the exact limits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from terminal.domain import approval


def test_voids_always_need_a_manager() -> None:
    assert approval.for_void() == "void"


def test_quantity_down_is_a_partial_void_up_is_free() -> None:
    assert approval.for_quantity(3, 2) == "void"
    assert approval.for_quantity(3, 3) is None
    assert approval.for_quantity(3, 9) is None


def test_discount_limit_is_twenty_percent_inclusive() -> None:
    assert approval.for_discount(200, 1000) is None  # exactly 20%
    assert approval.for_discount(201, 1000) == "discount"
    assert approval.for_discount(0, 1000) is None
    assert approval.for_discount(50, 100, limit_pct=50) is None
    assert approval.for_discount(51, 100, limit_pct=50) == "discount"


@given(st.integers(0, 10**7), st.integers(1, 10**7))
def test_discount_needs_approval_exactly_above_a_fifth(disc: int, gross: int) -> None:
    # 20% as an exact fraction: disc / gross > 1/5, in integers.
    assert (approval.for_discount(disc, gross) is not None) == (disc * 5 > gross)
