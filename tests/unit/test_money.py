"""Property tests for the money identities the till relies on."""

from __future__ import annotations

import uuid
from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.domain.cart import CartError, CartLine, allocate, price_cart
from terminal.domain.gst import SINGAPORE_GST_RATES, NoGstRateError, inclusive_tax, rate_on
from terminal.domain.loyalty import LoyaltyRules, points_earned
from terminal.domain.money import (
    MAX_AMOUNT_CENTS,
    MoneyError,
    div_round_half_up,
    format_cents,
    parse_cents,
    round_to_5,
)
from terminal.domain.tender import (
    OverpaymentError,
    ShortPaymentError,
    TenderError,
    TenderInput,
    settle,
)

cents = st.integers(min_value=0, max_value=10_000_000)
rates = st.sampled_from([0, 700, 800, 900])


def half_up(x: Fraction) -> int:
    return int(x + Fraction(1, 2)) if x >= 0 else -int(-x + Fraction(1, 2))


@st.composite
def carts(draw: st.DrawFn) -> tuple[list[CartLine], int]:
    n = draw(st.integers(min_value=1, max_value=12))
    lines = []
    for i in range(n):
        qty = draw(st.integers(min_value=1, max_value=50))
        price = draw(st.integers(min_value=0, max_value=100_000))
        lines.append(
            CartLine(
                product_id=uuid.UUID(int=i),
                sku=f"S{i}",
                name=f"item {i}",
                qty=qty,
                unit_price_cents=price,
                tax_code=draw(st.sampled_from(["SR", "ZR", "ES"])),
                cdc_eligible=draw(st.booleans()),
                discount_cents=draw(st.integers(min_value=0, max_value=qty * price)),
            )
        )
    after = sum(ln.gross_cents - ln.discount_cents for ln in lines)
    return lines, draw(st.integers(min_value=0, max_value=after))


@given(carts(), rates)
def test_cart_lines_and_adjustments_add_up_to_the_total(cart, rate):
    lines, cart_discount = cart
    t = price_cart(lines, cart_discount_cents=cart_discount, gst_rate_bp=rate)
    assert sum(p.total_cents for p in t.lines) == t.total_cents
    assert t.subtotal_cents - t.discount_cents == t.total_cents
    assert t.discount_cents == sum(ln.discount_cents for ln in lines) + cart_discount
    assert all(0 <= p.total_cents <= p.line.gross_cents for p in t.lines)
    assert t.total_cents >= 0


@given(carts(), rates)
def test_tax_is_the_inclusive_formula_on_standard_rated_goods_only(cart, rate):
    lines, cart_discount = cart
    t = price_cart(lines, cart_discount_cents=cart_discount, gst_rate_bp=rate)
    taxable = sum(p.total_cents for p in t.lines if p.line.tax_code == "SR")
    assert t.tax_cents == half_up(Fraction(taxable * rate, 10_000 + rate))
    assert 0 <= t.tax_cents <= taxable


@given(cents, rates)
def test_inclusive_tax_matches_exact_fraction(total, rate):
    assert inclusive_tax(total, rate) == half_up(Fraction(total * rate, 10_000 + rate))


def test_known_gst_figures():
    assert inclusive_tax(109, 900) == 9
    assert inclusive_tax(330, 900) == 27  # 330 * 9 / 109 = 27.25
    assert inclusive_tax(10_800, 800) == 800


@given(st.integers(min_value=0, max_value=10**6), st.lists(st.integers(0, 1000), min_size=1))
def test_allocation_is_exact_and_proportional(amount, weights):
    if sum(weights) == 0:
        assert allocate(amount, weights) == [0] * len(weights)
        return
    shares = allocate(amount, weights)
    assert sum(shares) == amount
    for share, w in zip(shares, weights, strict=True):
        assert abs(Fraction(share) - Fraction(amount * w, sum(weights))) < 1


@given(st.integers(min_value=-(10**7), max_value=10**7))
def test_cash_rounding_bounds(x):
    r = round_to_5(x)
    assert r % 5 == 0
    assert abs(r - x) <= 2


@pytest.mark.parametrize(
    ("due", "rounded"), [(101, 100), (102, 100), (103, 105), (104, 105), (106, 105), (108, 110)]
)
def test_singapore_cash_rounding_examples(due, rounded):
    assert round_to_5(due) == rounded


tender_kinds = st.sampled_from(["cash", "nets", "card", "paynow", "cdc"])


@given(cents, st.lists(st.tuples(tender_kinds, st.integers(1, 200_000)), min_size=1, max_size=4))
def test_settlement_identities(due, tenders):
    inputs = [TenderInput(k, a) for k, a in tenders]
    try:
        s = settle(due, inputs)
    except TenderError:
        return
    assert s.collected_cents == due + s.rounding_cents
    assert s.change_cents == sum(t.tendered_cents for t in s.tenders) - s.collected_cents
    assert s.change_cents >= 0
    assert abs(s.rounding_cents) <= 2
    if s.rounding_cents or s.change_cents:
        assert s.tenders[-1].kind == "cash"
    for t in s.tenders:
        if t.kind != "cash":
            assert t.amount_cents == t.tendered_cents
    # cash changes hands in 5-cent steps: what the drawer takes in is a multiple of 5
    assert sum(t.amount_cents for t in s.tenders if t.kind == "cash") % 5 == 0


@given(cents.filter(lambda d: d > 0), st.sampled_from(["nets", "card", "paynow"]))
def test_non_cash_never_rounds(due, kind):
    s = settle(due, [TenderInput(kind, due)])
    assert s.rounding_cents == 0 and s.change_cents == 0


def test_split_nets_then_cash_rounds_only_the_cash_part():
    s = settle(1234, [TenderInput("nets", 1000), TenderInput("cash", 500)])
    assert s.rounding_cents == 1  # 234 -> 235
    assert s.change_cents == 265
    assert [t.amount_cents for t in s.tenders] == [1000, 235]


def test_cash_between_5_cent_steps_is_refused_not_rounded_down():
    # S$3.30 due: S$3.28 in cash would have left 2 cents that round to nothing
    with pytest.raises(TenderError, match=r"5-cent steps: S\$3.28 .* S\$3.25 or S\$3.30"):
        settle(330, [TenderInput("cash", 328)])
    with pytest.raises(TenderError, match="5-cent steps"):
        settle(2919, [TenderInput("nets", 1000), TenderInput("cash", 500), TenderInput("card", 400),
                      TenderInput("cash", 1017)])  # fmt: skip
    s = settle(2919, [TenderInput("nets", 1000), TenderInput("cash", 500), TenderInput("card", 400),
                      TenderInput("cash", 1020)])  # fmt: skip
    assert (s.rounding_cents, s.change_cents) == (1, 0)
    assert [t.amount_cents for t in s.tenders] == [1000, 500, 400, 1020]


def test_nothing_in_cash_settles_the_cents_other_tenders_left():
    s = settle(330, [TenderInput("nets", 328), TenderInput("cash", 0)])
    assert s.rounding_cents == -2 and s.change_cents == 0 and s.collected_cents == 328
    with pytest.raises(TenderError, match="above zero"):
        settle(330, [TenderInput("nets", 327), TenderInput("cash", 0)])  # 3 cents round to 5
    with pytest.raises(TenderError, match="above zero"):
        settle(330, [TenderInput("cash", 0)])


def test_short_and_over_payments_are_refused():
    with pytest.raises(ShortPaymentError) as short:
        settle(1000, [TenderInput("card", 400)])
    assert short.value.remaining_cents == 600
    with pytest.raises(OverpaymentError):
        settle(1000, [TenderInput("card", 1001)])
    with pytest.raises(TenderError, match="CDC"):
        settle(1000, [TenderInput("cdc", 600), TenderInput("nets", 400)], cdc_eligible_cents=500)
    with pytest.raises(TenderError, match="change"):
        settle(1000, [TenderInput("cash", 1000 + 100_000)])
    with pytest.raises(TenderError, match="already paid"):
        settle(100, [TenderInput("cash", 100), TenderInput("nets", 5)])


def test_cart_rejects_bad_input():
    line = CartLine(uuid.UUID(int=1), "S", "n", 1, 100)
    with pytest.raises(CartError, match="empty"):
        price_cart([], gst_rate_bp=900)
    with pytest.raises(CartError, match="quantity"):
        price_cart([CartLine(uuid.UUID(int=1), "S", "n", -1, 100)], gst_rate_bp=900)
    with pytest.raises(CartError, match="cart discount"):
        price_cart([line], cart_discount_cents=101, gst_rate_bp=900)


def test_gst_rate_is_effective_dated():
    assert rate_on(date(2022, 12, 31), SINGAPORE_GST_RATES) == 700
    assert rate_on(date(2023, 6, 1), SINGAPORE_GST_RATES) == 800
    assert rate_on(date(2024, 1, 1), SINGAPORE_GST_RATES) == 900
    with pytest.raises(NoGstRateError):
        rate_on(date(2000, 1, 1), SINGAPORE_GST_RATES)


@given(cents, st.integers(1, 1000))
def test_points_are_whole_units_of_spend(spent, per_point):
    pts = points_earned(spent, LoyaltyRules(cents_per_point_earned=per_point))
    assert pts * per_point <= spent < (pts + 1) * per_point


@given(cents)
def test_money_text_round_trips(c):
    assert parse_cents(format_cents(c)) == c


@pytest.mark.parametrize(
    "text", ["", "abc", "-1", "3.305", "nan", "inf", "1e30", "1E2", "9" * 30, "8880000000019"]
)
def test_parse_cents_refuses_nonsense(text):
    with pytest.raises(MoneyError):
        parse_cents(text)


def test_parse_cents_accepts_up_to_the_cap():
    assert parse_cents("100000") == MAX_AMOUNT_CENTS
    assert parse_cents("S$1,234.5") == 123_450
    with pytest.raises(MoneyError, match="barcode"):
        parse_cents("100000.01")


@given(st.integers(min_value=-(10**30), max_value=10**30), st.integers(1, 10**6))
def test_div_round_half_up_is_exact(n, d):
    assert div_round_half_up(n, d) == half_up(Fraction(n, d))
