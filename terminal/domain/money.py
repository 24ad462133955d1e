"""Integer-cent money helpers. ``Decimal`` appears only here, at the parsing edge."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MAX_AMOUNT_CENTS = 10_000_000
"""S$100,000: no single amount a cashier types at this till is larger. Anything bigger is
a slip (a barcode scanned into the cash field, a finger on a key) and is refused."""


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
    if not value.is_finite() or value < 0 or "E" in cleaned:
        raise MoneyError(f"{text!r} is not an amount; type dollars like 12.50")
    if value * 100 > MAX_AMOUNT_CENTS:
        raise MoneyError(
            f"S${cleaned} is more than S${format_cents(MAX_AMOUNT_CENTS)}: "
            "was a barcode scanned into an amount? Check and type it again."
        )
    cents = value * 100
    if cents != cents.to_integral_value():
        raise MoneyError(f"{text!r} has more than two decimal places")
    return int(cents)


def format_cents(cents: int, *, symbol: str = "") -> str:
    """``1234 -> "12.34"``; negatives keep their sign: ``-5 -> "-0.05"``."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{symbol}{whole:,}.{part:02d}"


def div_round_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounded half away from zero (for non-negative inputs: half up).

    Pure integer arithmetic: exact for any size, and cheap on the pricing path.
    """
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if numerator < 0:
        return -div_round_half_up(-numerator, denominator)
    return (2 * numerator + denominator) // (2 * denominator)


def round_to_5(cents: int) -> int:
    """Singapore cash rounding: to the nearest 5 cents (1,2 down; 3,4 up; 6,7 down...)."""
    return 5 * div_round_half_up(cents, 5) if cents >= 0 else -round_to_5(-cents)
