"""GST for GST-inclusive shelf prices, effective-dated.

Singapore prices are displayed inclusive of GST, so the tax in a total is
``total * rate / (1 + rate)``, rounded half-up once at invoice level (not per line).
Rates are held in basis points (900 = 9%) and chosen by the sale's date, so a receipt
reprinted or a sale replayed from 2023 uses 8%.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from terminal.domain.money import div_round_half_up


@dataclass(frozen=True, slots=True)
class GstRate:
    effective_from: date
    rate_bp: int


SINGAPORE_GST_RATES: tuple[GstRate, ...] = (
    GstRate(date(2007, 7, 1), 700),
    GstRate(date(2023, 1, 1), 800),
    GstRate(date(2024, 1, 1), 900),
)
"""Default schedule; HQ's settings override it through the change feed."""


class NoGstRateError(LookupError):
    """No rate is in force on the requested date."""


def rate_on(day: date, rates: Iterable[GstRate]) -> int:
    """The rate (basis points) in force on ``day``: the latest ``effective_from <= day``."""
    best: GstRate | None = None
    for r in rates:
        if r.effective_from <= day and (best is None or r.effective_from > best.effective_from):
            best = r
    if best is None:
        raise NoGstRateError(f"no GST rate is in force on {day.isoformat()}")
    return best.rate_bp


def inclusive_tax(total_cents: int, rate_bp: int) -> int:
    """GST contained in a GST-inclusive ``total_cents`` at ``rate_bp``, half-up."""
    if total_cents < 0:
        return -inclusive_tax(-total_cents, rate_bp)
    return div_round_half_up(total_cents * rate_bp, 10_000 + rate_bp)
