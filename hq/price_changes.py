"""Bulk price changes: one rule applied to many products, previewed, then scheduled in
one transaction through :func:`hq.prices.schedule_prices` (the single schedule's path),
so the tills receive them down the change feed exactly as single scheduled prices.

Arithmetic is in integer cents. A percent is taken in hundredths of a percent (basis
points) and the result rounds half up to the cent: ``new = (old * (10000 +/- bp) * 2 +
10000) // 20000``. The optional rounding to 5 or 10 cents is to the nearest step, half up,
and never takes a price below one step (a positive price never rounds to 0). A change is
all or nothing: if any product's new price would be 0 or less, or above
:data:`hq.prices.MAX_PRICE_CENTS`, the whole change is refused and those rows named.

"Old" is the price in effect at the change's moment for its scope: chain-wide, the chain
price (outlets' own overrides stay and still win where they are in effect); for one
outlet, what that outlet sells at. The apply step recomputes everything and refuses if
the figures differ from the preview's (a digest carried by the form).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq import prices
from hq.auth import audit

Kind = Literal["percent", "amount", "fixed"]
MAX_PASTED = 10_000
PRICE_CHUNK = 1_000


class BulkPriceError(prices.PriceError):
    """A bulk change the admin can fix (no products, a bad figure, a stale preview)."""


class Selection(BaseModel):
    """Which products: pasted skus if any (exactly those), else sku prefix and/or a name
    search (both must match when both are given)."""

    sku_prefix: str = ""
    name: str = ""
    skus: list[str] = []

    def describe(self) -> str:
        if self.skus:
            return f"{len(self.skus)} listed skus"
        parts = [f"sku {self.sku_prefix}*" if self.sku_prefix else ""]
        parts.append(f"name ~ {self.name!r}" if self.name else "")
        return " and ".join(x for x in parts if x)


class Rule(BaseModel):
    kind: Kind
    up: bool = True
    value: int
    """Basis points for a percent, cents for an amount or a fixed price."""
    round_to: Literal[0, 5, 10] = 0

    def describe(self) -> str:
        sign = "+" if self.up else "-"
        if self.kind == "percent":
            text = f"{sign}{Decimal(self.value) / 100}%"
        elif self.kind == "amount":
            text = f"{sign}S${self.value / 100:.2f}"
        else:
            text = f"set to S${self.value / 100:.2f}"
        return text + (f", rounded to {self.round_to} cents" if self.round_to else "")

    def apply(self, old: int) -> int:
        if self.kind == "fixed":
            new = self.value
        elif self.kind == "amount":
            new = old + self.value if self.up else old - self.value
        else:
            factor = 10_000 + self.value if self.up else 10_000 - self.value
            new = (old * factor * 2 + 10_000) // 20_000
        if self.round_to and new > 0:
            step = self.round_to
            new = max(step, (new * 2 + step) // (2 * step) * step)
        return new


class BulkRow(BaseModel):
    product_id: uuid.UUID
    sku: str
    name: str
    old_cents: int
    new_cents: int
    problem: str | None = None


class BulkPreview(BaseModel):
    rows: list[BulkRow]
    rule: str
    selection: str
    effective_from: datetime
    outlet_code: str | None
    digest: str

    @property
    def problems(self) -> list[BulkRow]:
        return [r for r in self.rows if r.problem]


def basis_points(value: str) -> int:
    """``"7.5"`` -> 750; a percent with at most two decimals, above 0."""
    try:
        amount = Decimal(value.strip())
        ok = amount.is_finite() and 0 < amount <= 10_000
        ok = ok and amount == amount.quantize(Decimal("0.01"))
    except InvalidOperation:  # not a number ("NaN" refuses even comparisons)
        ok = False
    if not ok:
        raise BulkPriceError(f"{value!r} is not a percent like 7.5")
    return int(amount * 100)


def parse_skus(text: str) -> list[str]:
    """A pasted list: skus separated by commas, spaces or new lines, in upper case."""
    found = list(dict.fromkeys(x.upper() for x in text.replace(",", " ").split()))
    if len(found) > MAX_PASTED:
        raise BulkPriceError(f"at most {MAX_PASTED:,} skus in one change")
    return found


def _where(selection: Selection) -> ColumnElement[bool]:
    if selection.skus:
        return m.Product.sku.in_(selection.skus)
    if not selection.sku_prefix.strip() and not selection.name.strip():
        raise BulkPriceError("choose products: a sku prefix, a name or a list of skus")
    clauses: list[ColumnElement[bool]] = [true()]
    if prefix := selection.sku_prefix.strip().upper():
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(m.Product.sku.like(f"{escaped}%", escape="\\"))
    if needle := selection.name.strip().lower():
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(func.lower(m.Product.name).like(f"%{escaped}%", escape="\\"))
    return and_(*clauses)


def _digest(rows: list[BulkRow]) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(f"{r.product_id}:{r.old_cents}:{r.new_cents};".encode())
    return h.hexdigest()


async def preview(
    session: AsyncSession,
    *,
    selection: Selection,
    rule: Rule,
    outlet_code: str | None,
    effective_from: datetime,
) -> BulkPreview:
    """Every selected product with its old and new price; writes nothing."""
    if outlet_code is not None and await session.get(m.Outlet, outlet_code) is None:
        raise BulkPriceError(f"no outlet {outlet_code!r}")
    query = select(m.Product.product_id, m.Product.sku, m.Product.name, m.Product.price_cents)
    products = list(await session.execute(query.where(_where(selection)).order_by(m.Product.sku)))
    if selection.skus:
        missing = sorted(set(selection.skus) - {sku for _, sku, _, _ in products})
        if missing:
            raise BulkPriceError("no such sku: " + ", ".join(missing[:20]))
    if not products:
        raise BulkPriceError("no product matches")
    ids = [pid for pid, _, _, _ in products]
    scheduled: dict[uuid.UUID, list[prices.PriceRow]] = {}
    for start in range(0, len(ids), PRICE_CHUNK):
        chunk = ids[start : start + PRICE_CHUNK]
        scheduled |= await prices.price_rows(session, chunk, outlet_code)
    rows: list[BulkRow] = []
    for pid, sku, name, base in products:
        old = prices.price_at(effective_from, base, scheduled.get(pid, []), outlet_code)
        new = rule.apply(old)
        problem = None
        if new <= 0:
            problem = "would be S$0.00 or less"
        elif new > prices.MAX_PRICE_CENTS:
            problem = f"would be above S${prices.MAX_PRICE_CENTS / 100:,.2f}"
        rows.append(
            BulkRow(
                product_id=pid, sku=sku, name=name, old_cents=old, new_cents=new, problem=problem
            )
        )
    return BulkPreview(
        rows=rows,
        rule=rule.describe(),
        selection=selection.describe(),
        effective_from=effective_from,
        outlet_code=outlet_code,
        digest=_digest(rows),
    )


async def apply(
    session: AsyncSession,
    *,
    selection: Selection,
    rule: Rule,
    outlet_code: str | None,
    effective_from: datetime,
    now: datetime,
    digest: str,
    actor: str,
    ip: str | None = None,
) -> BulkPreview:
    """Recompute the preview and, if it has no problem and still matches ``digest``,
    schedule every new price in the caller's transaction; one audit entry for all."""
    found = await preview(
        session,
        selection=selection,
        rule=rule,
        outlet_code=outlet_code,
        effective_from=effective_from,
    )
    if found.problems:
        return found
    if found.digest != digest:
        raise BulkPriceError("prices changed since the preview; preview again")
    await prices.schedule_prices(
        session,
        new_prices={r.product_id: r.new_cents for r in found.rows},
        effective_from=effective_from,
        outlet_code=outlet_code,
        actor=actor,
        now=now,
    )
    await audit.record(
        session=session,
        username=actor,
        action="price.bulk",
        target=outlet_code or "every outlet",
        detail=(
            f"{len(found.rows)} products ({found.selection}): {found.rule}, "
            f"from {effective_from.isoformat()} at {outlet_code or 'every outlet'}"
        ),
        ip=ip,
    )
    return found
