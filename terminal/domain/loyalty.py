"""Loyalty points: earned on what was paid in money, redeemed as a tender.

Balances are never stored as truth at the till: HQ's balance is the sum of deltas, and
the till shows HQ's last known balance plus its own deltas HQ has not yet counted.
"""

from __future__ import annotations

from dataclasses import dataclass


class LoyaltyError(ValueError):
    """A redemption the customer's points cannot cover, or a bad points amount."""


@dataclass(frozen=True, slots=True)
class LoyaltyRules:
    cents_per_point_earned: int = 100
    point_value_cents: int = 1


def points_earned(eligible_cents: int, rules: LoyaltyRules) -> int:
    """Whole points for ``eligible_cents`` spent (spend paid with points earns nothing)."""
    return max(0, eligible_cents) // rules.cents_per_point_earned


def points_for_cents(cents: int, rules: LoyaltyRules) -> int:
    """Points needed to pay ``cents``; the amount must be a whole number of points."""
    points, rest = divmod(cents, rules.point_value_cents)
    if rest or cents <= 0:
        raise LoyaltyError("points can only pay a positive whole number of points")
    return points


def check_redeem(points: int, balance: int) -> None:
    if points > balance:
        raise LoyaltyError(f"customer has {balance} points; cannot redeem {points}")
