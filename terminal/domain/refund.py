"""Refund arithmetic: what a (partial) refund of a sale gives back, exactly.

A refund mirrors its sale. Each line gives back its share of what was paid for it
(floor of the proportional share); the refund that takes the last of a line gives back
exactly what is left, and the refund that takes the last of the whole sale gives back
exactly the GST, cash rounding and points that are left. So however a sale is refunded
(at once or in pieces), the refunds add up to the sale to the cent and to the point.

Money goes back to the tenders that paid (points first, then card-like tenders, cash
last), never more to a tender than it paid; or all to cash when a manager approves.
Cash rounds to 5 cents on its own part, as the sale's cash did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from terminal.domain.gst import inclusive_tax
from terminal.domain.loyalty import LoyaltyRules
from terminal.domain.money import round_to_5

TAXABLE = "SR"


class RefundRuleError(ValueError):
    """The refund asked for is not possible (over-refund, unknown line, nothing to refund)."""


@dataclass(frozen=True, slots=True)
class SoldLine:
    line_no: int
    qty: int
    unit_price_cents: int
    total_cents: int
    tax_code: str
    refunded_qty: int = 0
    refunded_cents: int = 0


@dataclass(frozen=True, slots=True)
class SoldSale:
    """A sale as sold, with what earlier refunds already took from it."""

    lines: tuple[SoldLine, ...]
    total_cents: int
    tax_cents: int
    gst_rate_bp: int
    rounding_cents: int
    paid: Mapping[str, int]
    """Per tender kind, what it paid towards ``total_cents`` (cash without its rounding)."""
    points_earned: int = 0
    refunded_tax_cents: int = 0
    refunded_rounding_cents: int = 0
    refunded_paid: Mapping[str, int] | None = None
    """Per tender kind, what earlier refunds gave back (cash without rounding)."""
    points_reversed: int = 0
    """Earned points earlier refunds already took back (positive)."""


@dataclass(frozen=True, slots=True)
class RefundedLine:
    line_no: int
    qty: int
    total_cents: int
    discount_cents: int
    tax_code: str


@dataclass(frozen=True, slots=True)
class RefundPlan:
    lines: tuple[RefundedLine, ...]
    total_cents: int
    tax_cents: int
    rounding_cents: int
    tenders: tuple[tuple[str, int], ...]
    """(tender kind, amount paid out); cash includes ``rounding_cents``."""
    points_given_back: int
    """Points that paid for the refunded part, returned to the member."""
    points_taken_back: int
    """Earned points reversed (positive; the ledger entry is its negative)."""
    completes_sale: bool


TENDER_ORDER = ("points", "voucher", "cdc", "card", "nets", "paynow", "cash")


def plan_refund(
    sale: SoldSale,
    qty_by_line: Mapping[int, int],
    *,
    rules: LoyaltyRules,
    to_cash: bool = False,
) -> RefundPlan:
    """Work out a refund of ``qty_by_line``; raise :class:`RefundRuleError` if it can't be."""
    by_no = {ln.line_no: ln for ln in sale.lines}
    wanted = {no: q for no, q in qty_by_line.items() if q}
    if not wanted:
        raise RefundRuleError("choose at least one item to refund")
    lines = []
    for no, qty in sorted(wanted.items()):
        ln = by_no.get(no)
        if ln is None:
            raise RefundRuleError(f"the sale has no line {no}")
        left = ln.qty - ln.refunded_qty
        if not 0 < qty <= left:
            raise RefundRuleError(
                f"line {no} sold {ln.qty}, {ln.refunded_qty} already refunded: "
                f"at most {left} can be refunded"
            )
        # The line's total is shared by cumulative quantity: refunds of it so far and
        # this one add up to the total's share for that many units, rounded down, so
        # each part is between nothing and its own gross and the last part is exactly
        # what is left. (Sharing each part on its own let the last part's discount go
        # negative: 299 cents for 3 x 100 refunded one at a time as 99, 99, 101.)
        amount = ln.total_cents * (ln.refunded_qty + qty) // ln.qty - ln.refunded_cents
        if qty < left:  # a refund shared otherwise before cannot push a part out of range
            amount = min(max(amount, 0), qty * ln.unit_price_cents)
        lines.append(RefundedLine(no, qty, amount, qty * ln.unit_price_cents - amount, ln.tax_code))
    completes = all(ln.refunded_qty + wanted.get(ln.line_no, 0) == ln.qty for ln in sale.lines)
    total = sum(ln.total_cents for ln in lines)
    if completes:
        tax = sale.tax_cents - sale.refunded_tax_cents
    else:
        taxable = sum(ln.total_cents for ln in lines if ln.tax_code == TAXABLE)
        tax = inclusive_tax(taxable, sale.gst_rate_bp)
    tenders, rounding = _tenders(sale, total, completes=completes, to_cash=to_cash, rules=rules)
    points_paid = dict(tenders).get("points", 0)
    money_total = sale.total_cents - sale.paid.get("points", 0)
    money_part = total - points_paid
    if completes:
        taken = sale.points_earned - sale.points_reversed
    elif money_total > 0:
        taken = min(
            sale.points_earned - sale.points_reversed,
            sale.points_earned * money_part // money_total,
        )
    else:
        taken = 0
    return RefundPlan(
        lines=tuple(lines),
        total_cents=total,
        tax_cents=tax,
        rounding_cents=rounding,
        tenders=tuple(tenders),
        points_given_back=points_paid // rules.point_value_cents,
        points_taken_back=max(0, taken),
        completes_sale=completes,
    )


def _tenders(
    sale: SoldSale, total: int, *, completes: bool, to_cash: bool, rules: LoyaltyRules
) -> tuple[list[tuple[str, int]], int]:
    if to_cash:
        rounding = round_to_5(total) - total
        return [("cash", total + rounding)], rounding
    done = sale.refunded_paid or {}
    left = total
    out: list[tuple[str, int]] = []
    kinds = sorted(sale.paid, key=lambda k: TENDER_ORDER.index(k) if k in TENDER_ORDER else 0)
    cash_part = 0
    for kind in kinds:
        room = sale.paid[kind] - done.get(kind, 0)
        take = min(room, left)
        if kind == "points":
            take -= take % rules.point_value_cents
        if take <= 0:
            continue
        left -= take
        if kind == "cash":
            cash_part = take
        else:
            out.append((kind, take))
    if left:
        raise RefundRuleError("the tenders paid cannot take this refund back: refund to cash")
    if not cash_part:
        return out, 0
    if completes:
        rounding = sale.rounding_cents - sale.refunded_rounding_cents
    else:
        rounding = round_to_5(cash_part) - cash_part
    out.append(("cash", cash_part + rounding))
    return out, rounding


def lines_left(lines: Sequence[SoldLine]) -> dict[int, int]:
    """What can still be refunded of each line."""
    return {ln.line_no: ln.qty - ln.refunded_qty for ln in lines}


@dataclass(frozen=True, slots=True)
class ReturnedItem:
    """One line of a manual return: goods back at a price, no sale behind them."""

    line_no: int
    qty: int
    unit_price_cents: int
    tax_code: str


def plan_manual_return(
    items: Sequence[ReturnedItem], *, gst_rate_bp: int, tender: str
) -> RefundPlan:
    """What a manual return gives back: each line at its price, GST at today's rate, all
    to one tender (cash rounds to 5 cents, as a sale's cash does; points cannot be paid
    back without a sale that took them)."""
    if not items:
        raise RefundRuleError("choose at least one item to return")
    if tender == "points":
        raise RefundRuleError("points go back only on a refund of the sale that took them")
    lines = []
    for item in items:
        if item.qty <= 0 or item.unit_price_cents < 0:
            raise RefundRuleError(f"line {item.line_no}: a quantity and a price are needed")
        lines.append(
            RefundedLine(item.line_no, item.qty, item.qty * item.unit_price_cents, 0, item.tax_code)
        )
    total = sum(ln.total_cents for ln in lines)
    if total <= 0:
        raise RefundRuleError("nothing to give back: the items returned cost nothing")
    taxable = sum(ln.total_cents for ln in lines if ln.tax_code == TAXABLE)
    rounding = round_to_5(total) - total if tender == "cash" else 0
    return RefundPlan(
        lines=tuple(lines),
        total_cents=total,
        tax_cents=inclusive_tax(taxable, gst_rate_bp),
        rounding_cents=rounding,
        tenders=((tender, total + rounding),),
        points_given_back=0,
        points_taken_back=0,
        completes_sale=True,
    )
