"""When a cashier needs a manager: the approval policy, pure and configurable.

The limits come from HQ's store settings (:class:`sync.protocol.ApprovalLimits`, copied
here field for field so the domain imports nothing of the wire). Every service that
writes asks this module what the action in hand needs and refuses it unless the
request carries a recorded approval for each need; the UI only asks for the PIN the
service said it needs. A discount is judged on the line as it is now (quantity times
price), so a 20% discount given at quantity 5 and then left on a line of 1 is 100% and
needs a manager again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Action = Literal[
    "refund",
    "void",
    "price_override",
    "discount",
    "no_sale",
    "qty_decrease",
    "cancel",
    "refund_to_cash",
    "unlock",
]

FULL_BP = 10_000


@dataclass(frozen=True, slots=True)
class ApprovalLimits:
    line_discount_bp: int = 2_000
    line_discount_cents: int = 2_000
    sale_discount_bp: int = 2_000
    sale_discount_cents: int = 5_000
    refund_cents: int = 0
    """A refund above this needs approval (0: every refund does)."""
    price_override: bool = True
    void: bool = True
    qty_decrease: bool = True
    no_sale: bool = True
    cancel: bool = True


@dataclass(frozen=True, slots=True, order=True)
class Need:
    """One approval an action needs; ``line_no`` ties a line-level need to its line."""

    action: Action
    line_no: int | None = None
    why: str = ""


@dataclass(frozen=True, slots=True)
class LineFacts:
    """A cart line as the policy sees it (1-based ``line_no``)."""

    line_no: int
    sku: str
    qty: int
    unit_price_cents: int
    discount_cents: int = 0
    list_price_cents: int | None = None
    """The catalog price when the cashier overrode it (``unit_price_cents`` is the new one)."""


def _over(amount: int, base: int, limit_bp: int, limit_cents: int) -> bool:
    """``amount`` exceeds ``limit_bp`` of ``base`` or ``limit_cents`` (integer arithmetic)."""
    return amount > limit_cents or amount * FULL_BP > base * limit_bp


def sale_needs(
    lines: Sequence[LineFacts],
    cart_discount_cents: int,
    limits: ApprovalLimits,
    approved_lines: Collection[int] = (),
) -> list[Need]:
    """Approvals a cart needs at checkout: line discounts, the sale's discount, overrides.

    A line whose own discount is over the line limit needs its own approval; when the
    request carries one (``approved_lines``), that discount is the manager's decision
    and does not count again towards the sale's limit. The line's need stays in the
    answer, so the approval it rests on is still checked against the till's records.
    """
    needs: list[Need] = []
    for ln in lines:
        if _over_line(ln, limits):
            needs.append(Need("discount", ln.line_no, f"{ln.sku}: discount over the line limit"))
        if (
            limits.price_override
            and ln.list_price_cents is not None
            and ln.list_price_cents != ln.unit_price_cents
        ):
            needs.append(Need("price_override", ln.line_no, f"{ln.sku}: price changed"))
    if sale_discount_over(lines, cart_discount_cents, limits, approved_lines):
        needs.append(Need("discount", None, "the sale's discounts are over the limit"))
    return needs


def _over_line(ln: LineFacts, limits: ApprovalLimits) -> bool:
    return bool(ln.discount_cents) and _over(
        ln.discount_cents,
        ln.qty * ln.unit_price_cents,
        limits.line_discount_bp,
        limits.line_discount_cents,
    )


def sale_discount_over(
    lines: Sequence[LineFacts],
    cart_discount_cents: int,
    limits: ApprovalLimits,
    approved_lines: Collection[int] = (),
) -> int:
    """The sale's discounts as its limit counts them, when over it (else 0).

    A line discount approved on its own (over the line limit, in ``approved_lines``) is
    the manager's decision already and is not counted again. The till's sale screen asks
    with this the moment an edit takes the sale over, as the checkout would refuse it.
    """
    gross = sum(ln.qty * ln.unit_price_cents for ln in lines)
    counted = cart_discount_cents + sum(
        ln.discount_cents
        for ln in lines
        if not (ln.line_no in approved_lines and _over_line(ln, limits))
    )
    if counted and _over(counted, gross, limits.sale_discount_bp, limits.sale_discount_cents):
        return counted
    return 0


def line_change_needs(
    old_qty: int, new_qty: int, limits: ApprovalLimits, *, line_no: int | None = None
) -> list[Need]:
    """Removing a line (``new_qty == 0``) is a void; lowering its quantity is a decrease."""
    if new_qty >= old_qty:
        return []
    if new_qty == 0:
        return [Need("void", line_no, "void a line")] if limits.void else []
    return [Need("qty_decrease", line_no, "lower a quantity")] if limits.qty_decrease else []


def refund_needs(amount_cents: int, *, to_cash: bool, limits: ApprovalLimits) -> list[Need]:
    needs: list[Need] = []
    if amount_cents > limits.refund_cents:
        needs.append(Need("refund", None, "a refund over the limit"))
    if to_cash:
        needs.append(Need("refund_to_cash", None, "refund to cash instead of the tenders paid"))
    return needs


def manual_return_needs() -> list[Need]:
    """Goods back without a sale to refund them from: a manager approves every one.

    No limit applies (there is no sale to bound what comes back), so this is not
    configurable; ``refund`` is the action the approval records."""
    return [Need("refund", None, "a manual return (no sale to refund it from)")]


def simple_needs(action: Literal["no_sale", "cancel"], limits: ApprovalLimits) -> list[Need]:
    """Opening the drawer with no sale, cancelling a whole sale (one approval)."""
    required = limits.no_sale if action == "no_sale" else limits.cancel
    return [Need(action, None, action.replace("_", " "))] if required else []


@dataclass(frozen=True, slots=True)
class Granted:
    """An approval the caller carries: what was approved, and for which line (or all)."""

    action: Action
    line_no: int | None = None


def missing(needs: Iterable[Need], granted: Iterable[Granted]) -> list[Need]:
    """Needs no carried approval covers; a sale-wide approval covers every line."""
    have = list(granted)
    return [
        n
        for n in needs
        if not any(g.action == n.action and g.line_no in (None, n.line_no) for g in have)
    ]


# ------------------------------------------------------------ the till UI's questions

ApprovalNeed = Action
"""The approval one line edit needs (the ``action`` of its ``approval.granted`` event)."""

DEFAULT_LIMITS = ApprovalLimits()


def for_void(limits: ApprovalLimits = DEFAULT_LIMITS) -> ApprovalNeed | None:
    """Voiding a line takes money off the sale."""
    return "void" if limits.void else None


def for_quantity(
    old_qty: int, new_qty: int, limits: ApprovalLimits = DEFAULT_LIMITS
) -> ApprovalNeed | None:
    """A lower quantity takes items off the sale (a partial void); a higher one never does."""
    needs = line_change_needs(old_qty, new_qty, limits)
    return needs[0].action if needs else None


def for_discount(
    discount_cents: int, gross_cents: int, limits: ApprovalLimits = DEFAULT_LIMITS
) -> ApprovalNeed | None:
    """A line discount over the line limits (percent of the line, or an amount) needs a
    manager: the same rule the checkout applies to the line as it is at payment."""
    if discount_cents and _over(
        discount_cents, gross_cents, limits.line_discount_bp, limits.line_discount_cents
    ):
        return "discount"
    return None
