"""Effective-dated prices: schedule a price chain-wide or for one outlet, and work out
the steps a till of a given outlet must hold.

A scheduled price is a row of :class:`~hq.models.ProductPrice`; scheduling one bumps the
product's change_seq so every till pulls the product again, each with its own outlet's
steps, well before the moment. The till switches at the moment by itself (offline too).

Rule: at moment ``t`` an outlet sells at its own latest override begun by ``t`` if there
is one, else at the latest chain-wide price begun by ``t``, else at the product's base
``price_cents``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.auth import audit
from hq.sqlutil import allocate_change_seqs
from sync import protocol as p

MAX_PRICE_CENTS = 100_000_000


class PriceError(ValueError):
    """A scheduling request the admin can fix."""


class PriceRow(BaseModel):
    price_id: int
    outlet_code: str | None
    effective_from: datetime
    price_cents: int
    created_by: str


def price_at(
    moment: datetime, base_cents: int, rows: Sequence[PriceRow], outlet_code: str | None
) -> int:
    """What a till of ``outlet_code`` sells at, at ``moment`` (see the module's rule)."""
    chain: PriceRow | None = None
    local: PriceRow | None = None
    for r in sorted(rows, key=lambda r: (r.effective_from, r.price_id)):
        if r.effective_from > moment:
            break
        if r.outlet_code is None:
            chain = r
        elif r.outlet_code == outlet_code:
            local = r
    chosen = local or chain
    return chosen.price_cents if chosen else base_cents


def steps_for(
    base_cents: int, rows: Sequence[PriceRow], outlet_code: str, now: datetime
) -> tuple[int, list[p.ScheduledPrice]]:
    """The price now in effect and the future steps (a change of price only) for a till."""
    mine = [r for r in rows if r.outlet_code in (None, outlet_code)]
    current = price_at(now, base_cents, mine, outlet_code)
    steps: list[p.ScheduledPrice] = []
    last = current
    for moment in sorted({r.effective_from for r in mine if r.effective_from > now}):
        price = price_at(moment, base_cents, mine, outlet_code)
        if price != last:
            steps.append(p.ScheduledPrice(effective_from=moment, price_cents=price))
            last = price
    return current, steps


async def price_rows(
    session: AsyncSession, product_ids: Iterable[uuid.UUID], outlet_code: str | None = None
) -> dict[uuid.UUID, list[PriceRow]]:
    """Scheduled prices of these products (chain-wide, and ``outlet_code``'s if given;
    every outlet's when None)."""
    ids = list(product_ids)
    if not ids:
        return {}
    query = select(m.ProductPrice).where(m.ProductPrice.product_id.in_(ids))
    if outlet_code is not None:
        query = query.where(
            or_(m.ProductPrice.outlet_code.is_(None), m.ProductPrice.outlet_code == outlet_code)
        )
    found: dict[uuid.UUID, list[PriceRow]] = {}
    for r in (await session.execute(query.order_by(m.ProductPrice.price_id))).scalars():
        found.setdefault(r.product_id, []).append(
            PriceRow(
                price_id=r.price_id,
                outlet_code=r.outlet_code,
                effective_from=r.effective_from,
                price_cents=r.price_cents,
                created_by=r.created_by,
            )
        )
    return found


async def schedule_price(
    session: AsyncSession,
    *,
    product_id: uuid.UUID,
    price_cents: int,
    effective_from: datetime,
    outlet_code: str | None,
    actor: str,
    now: datetime | None = None,
) -> None:
    """Schedule a price from a future moment; the tills pull it at their next sync."""
    at = now or datetime.now(UTC)
    if effective_from.tzinfo is None:
        raise PriceError("the moment needs a time zone")
    if effective_from <= at:
        raise PriceError("a scheduled price starts in the future")
    if not 0 <= price_cents <= MAX_PRICE_CENTS:
        raise PriceError("a price is 0 to 1,000,000.00")
    product = await session.get(m.Product, product_id, with_for_update=True)
    if product is None:
        raise PriceError("no such product")
    if outlet_code is not None and await session.get(m.Outlet, outlet_code) is None:
        raise PriceError(f"no outlet {outlet_code!r}")
    session.add(
        m.ProductPrice(
            product_id=product_id,
            outlet_code=outlet_code,
            effective_from=effective_from,
            price_cents=price_cents,
            created_by=actor,
            created_at=at,
        )
    )
    (product.change_seq,) = await allocate_change_seqs(session, 1)
    await audit.record(
        session=session,
        username=actor,
        action="price.schedule",
        target=product.sku,
        detail=(
            f"{price_cents} cents from {effective_from.isoformat()} "
            f"at {outlet_code or 'every outlet'}"
        ),
    )
