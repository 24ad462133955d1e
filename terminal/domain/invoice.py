"""Which GST tax invoice a receipt must be (IRAS rules for retailers).

A GST-registered retailer may issue a *simplified* tax invoice when the total
(GST-inclusive) is at most S$1,000 and every line is at one rate; above that, or when
lines are at different codes (standard-rated with zero-rated or exempt goods), a *full*
tax invoice with the customer's name and address, each line's tax code and the GST per
rate. Zero-rated and exempt lines are marked on every receipt.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

SIMPLIFIED_LIMIT_CENTS = 100_000
"""S$1,000 including GST."""

CODE_MARKS = {"SR": "", "ZR": "Z", "ES": "E"}
CODE_NAMES = {"SR": "Standard-rated", "ZR": "Zero-rated", "ES": "Exempt"}


def invoice_kind(total_cents: int, tax_codes: Iterable[str]) -> Literal["simplified", "full"]:
    codes = set(tax_codes)
    if total_cents <= SIMPLIFIED_LIMIT_CENTS and len(codes) <= 1:
        return "simplified"
    return "full"
