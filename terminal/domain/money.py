"""Integer-cent money helpers. ``Decimal`` appears only here, at parse/format edges."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


class MoneyError(ValueError):
    """A money amount typed by a person could not be understood."""


def parse_cents(text: str) -> int:
    """Parse ``"3.30"``, ``"3.3"``, ``"S$12"`` or ``"12"`` (dollars) into cents.

    More than two decimal places, negatives and non-numbers are refused rather than
    rounded: a cashier typing ``3.305`` has made a mistake we should show.
    """
    cleaned = text.strip().upper().removeprefix("S$").removeprefix("$").replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise MoneyError(f"{text!r} is not an amount; type dollars like 12.50") from exc
    if not value.is_finite() or value < 0:
        raise MoneyError(f"{text!r} is not an amount; type dollars like 12.50")
    if value != value.quantize(Decimal("0.01")):
        raise MoneyError(f"{text!r} has more than two decimal places")
    return int(value * 100)


def format_cents(cents: int, *, symbol: str = "") -> str:
    """``1234 -> "12.34"``; negatives keep their sign: ``-5 -> "-0.05"``."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{symbol}{whole:,}.{part:02d}"


def div_round_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounded half away from zero (for non-negative inputs: half up)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    q = Decimal(numerator) / Decimal(denominator)
    return int(q.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def round_to_5(cents: int) -> int:
    """Singapore cash rounding: to the nearest 5 cents (1,2 down; 3,4 up; 6,7 down...)."""
    return 5 * div_round_half_up(cents, 5) if cents >= 0 else -round_to_5(-cents)
