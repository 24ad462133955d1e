"""The back office's typed fields that mean one thing everywhere, read one way.

A price (the product form, scheduled and bulk prices, the catalog CSV), a GST
registration number (store settings, outlets, suppliers) and an email (members). Each
function returns the clean value, or raises :class:`FieldError` saying what was expected;
the caller turns that into its own page's words.
"""

from __future__ import annotations

import re

FREE_PRICE = "a price must be above S$0.00 (an item given away is a discount at the till)"
"""Why a product is refused at a price of nothing (the product form and the CSV import)."""

_PRICE = re.compile(r"(?:S?\$)?(\d{1,9}|\d{1,3}(?:,\d{3}){1,2})(?:\.(\d{1,2}))?")
_GST_REG = re.compile(r"[A-Z0-9][A-Z0-9-]{6,14}[A-Z0-9]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


class FieldError(ValueError):
    """A typed value that is not what its field holds (the message says what is)."""


def price_cents(text: str) -> int:
    """``"3.30"`` -> 330. Plain dollars with at most two decimals, optionally after ``S$``
    and with thousands commas (``S$1,250.50``); never negative. Python's other spellings
    of a number (``1e3``, ``NaN``, ``Infinity``, ``+3``, ``3_000``) are refused rather
    than read as something the person did not see."""
    found = _PRICE.fullmatch(text.strip())
    if found is None:
        raise FieldError(f"{text.strip()[:20]!r} is not a price like 3.30")
    dollars, part = found.groups()
    return int(dollars.replace(",", "")) * 100 + int((part or "0").ljust(2, "0"))


def gst_reg_no(text: str) -> str | None:
    """A GST registration number as IRAS issues them (``M90312345X``, ``MR-8500001-7``, a
    UEN such as ``200312345A``), in capitals; ``None`` when left empty."""
    reg = text.strip().upper()
    if not reg:
        return None
    if _GST_REG.fullmatch(reg) is None or sum(c.isdigit() for c in reg) < 6:
        raise FieldError(
            f"{reg[:20]!r} is not a GST registration number: 8 to 16 letters and digits, "
            "like M90312345X or 200312345A"
        )
    return reg


def email(text: str) -> str | None:
    """An email address with a name and a domain (``ah.hock@example.sg``); ``None`` when
    left empty. Whether it reaches anyone is not checked: HQ sends no mail."""
    value = text.strip()
    if not value:
        return None
    if len(value) > 200 or _EMAIL.fullmatch(value) is None:
        raise FieldError(f"{value[:40]!r} is not an email address like ah.hock@example.sg")
    return value
