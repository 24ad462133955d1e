"""Settling an amount due with one or more tenders.

Tenders are applied in the order given. Cash is the only tender that rounds (to the
nearest 5 cents, on the balance it settles) and the only one that gives change;
non-cash tenders must not exceed the balance. CDC vouchers may only pay for eligible
goods; points are worth a configured number of cents each. A tender the shop does not
take (HQ sends it inactive for this outlet) is refused.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from terminal.domain.money import format_cents, round_to_5

MAX_CHANGE_CENTS = 100_000
"""Cash that would need S$1,000 or more in change is a slip, not a payment."""

TENDER_NAMES = {
    "cash": "Cash",
    "nets": "NETS",
    "card": "Card",
    "paynow": "PayNow",
    "cdc": "CDC Voucher",
    "voucher": "Voucher",
    "points": "Points",
}
"""How the till names each tender kind, on screen and on paper."""


class TenderError(ValueError):
    """The tenders given cannot settle the sale."""


class ShortPaymentError(TenderError):
    def __init__(self, remaining_cents: int) -> None:
        self.remaining_cents = remaining_cents
        super().__init__(f"payment is short by S${format_cents(remaining_cents)}")


class OverpaymentError(TenderError):
    """A non-cash tender larger than the balance (card terminals never give change)."""


@dataclass(frozen=True, slots=True)
class TenderInput:
    kind: str
    tendered_cents: int
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class AppliedTender:
    kind: str
    amount_cents: int
    tendered_cents: int
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    tenders: tuple[AppliedTender, ...]
    rounding_cents: int
    change_cents: int

    @property
    def collected_cents(self) -> int:
        return sum(t.amount_cents for t in self.tenders)


class TenderNotTakenError(TenderError):
    """A tender this shop does not take."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(
            f"this shop does not take {TENDER_NAMES.get(kind, kind)}: choose another tender"
        )


def settle(
    due_cents: int,
    tenders: Sequence[TenderInput],
    *,
    cdc_eligible_cents: int | None = None,
    refused_kinds: Collection[str] = (),
) -> Settlement:
    """Apply ``tenders`` to ``due_cents``; raise a :class:`TenderError` if they cannot.

    ``refused_kinds``: tender kinds the shop does not take."""
    if due_cents < 0:
        raise TenderError("amount due cannot be negative")
    for t in tenders:
        if t.kind in refused_kinds:
            raise TenderNotTakenError(t.kind)
    remaining = due_cents
    rounding = change = cdc_used = 0
    applied: list[AppliedTender] = []
    for t in tenders:
        if remaining == 0:
            raise TenderError("the sale is already paid; remove the extra tender")
        if t.kind == "cash":
            _check_cash(t.tendered_cents, remaining)
            target = round_to_5(remaining)
            if t.tendered_cents >= target:
                if t.tendered_cents - target >= MAX_CHANGE_CENTS:
                    raise TenderError(
                        f"S${format_cents(t.tendered_cents)} cash for S${format_cents(target)} "
                        f"due would give S${format_cents(t.tendered_cents - target)} change: "
                        "check the amount"
                    )
                rounding = target - remaining
                change = t.tendered_cents - target
                applied.append(AppliedTender("cash", target, t.tendered_cents, t.reference))
                remaining = 0
                continue
            applied.append(AppliedTender("cash", t.tendered_cents, t.tendered_cents, t.reference))
            remaining -= t.tendered_cents
            continue
        if t.tendered_cents <= 0:
            raise TenderError(f"{t.kind} amount must be above zero")
        if t.tendered_cents > remaining:
            raise OverpaymentError(
                f"{t.kind} of S${format_cents(t.tendered_cents)} is more than the "
                f"S${format_cents(remaining)} due; non-cash tenders give no change"
            )
        if t.kind == "cdc" and cdc_eligible_cents is not None:
            cdc_used += t.tendered_cents
            if cdc_used > cdc_eligible_cents:
                raise TenderError(
                    f"CDC vouchers can pay at most S${format_cents(cdc_eligible_cents)} "
                    "here: some items are not eligible"
                )
        applied.append(AppliedTender(t.kind, t.tendered_cents, t.tendered_cents, t.reference))
        remaining -= t.tendered_cents
    if remaining > 0:
        raise ShortPaymentError(remaining)
    return Settlement(tuple(applied), rounding, change)


def _check_cash(tendered_cents: int, remaining_cents: int) -> None:
    """Cash is handed over in 5-cent steps, so an amount between them is a typing slip
    (taken as it was, it would round the balance down below what is due). Nothing in
    cash settles a balance of 1 or 2 cents, left by other tenders: it rounds to 0."""
    if tendered_cents == 0 and round_to_5(remaining_cents) == 0:
        return
    if tendered_cents <= 0:
        raise TenderError("cash amount must be above zero")
    if tendered_cents % 5:
        below = tendered_cents - tendered_cents % 5
        raise TenderError(
            f"cash comes in 5-cent steps: S${format_cents(tendered_cents)} cannot be handed "
            f"over; enter S${format_cents(below)} or S${format_cents(below + 5)}"
        )


def cash_due(remaining_cents: int) -> int:
    """What a cashier should ask for in cash to settle ``remaining_cents``."""
    return round_to_5(remaining_cents)
