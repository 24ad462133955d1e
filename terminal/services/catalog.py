"""Catalog lookups at the till: scan, search as you type, list."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from terminal.db.engine import Database
from terminal.db.models import GstRateRow, Product, ScheduledPrice, StoreSettings
from terminal.domain.gst import GstRate, NoGstRateError, rate_on
from terminal.services.errors import NotFoundError, NotInitialisedError
from terminal.services.schemas import ProductView, StoreProfile, StoreView
from terminal.services.uow import reading, reading_in_one_trip


def price_now(at: datetime | None = None) -> ColumnElement[int]:
    """The price in effect at ``at`` (now): the last scheduled step begun, else the
    product's own price. The till switches prices at their moment without HQ."""
    moment = int((at or datetime.now(UTC)).timestamp())
    step = (
        select(ScheduledPrice.price_cents)
        .where(ScheduledPrice.product_id == Product.id, ScheduledPrice.effective_at <= moment)
        .order_by(ScheduledPrice.effective_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(step, Product.price_cents).label("price_cents")


def _columns(at: datetime | None = None) -> tuple[Any, ...]:
    return (
        Product.id,
        Product.sku,
        Product.barcode,
        Product.name,
        price_now(at),
        Product.tax_code,
        Product.cdc_eligible,
        Product.age_restricted,
    )


def _view(row: object) -> ProductView:
    return ProductView.model_validate(row, from_attributes=True)


def price_at_sql(moment: str) -> str:
    """:func:`price_now` as raw SQL over ``products``, for the one-trip statements (a
    scan's lookup, the checkout's read): ``moment`` names the unix-seconds parameter."""
    return (
        "coalesce((SELECT price_cents FROM price_schedule"
        f" WHERE product_id = products.id AND effective_at <= {moment}"
        " ORDER BY effective_at DESC LIMIT 1), price_cents)"
    )


# One statement for a scan: the product by barcode, else by SKU (both unique indexes), at
# the price in effect now (?3, unix seconds).
_LOOKUP_SQL = f"""
SELECT id, sku, barcode, name, {price_at_sql("?3")}, tax_code, cdc_eligible, age_restricted
FROM products WHERE (barcode = ?1 OR sku = ?2) AND active = 1
ORDER BY barcode = ?1 DESC LIMIT 1
"""


async def lookup_code(db: Database, code: str, *, at: datetime | None = None) -> ProductView:
    """Find an active product by barcode or SKU (what a scanner or a cashier types).

    The till's hottest read (every scan), so it is one trip to the driver's thread.
    A code that is one product's barcode and another's SKU finds the barcode's.
    """
    code = code.strip()
    if not code:
        raise NotFoundError("Nothing was scanned.")
    moment = int((at or datetime.now(UTC)).timestamp())

    def find(conn: sqlite3.Connection) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = conn.execute(
            _LOOKUP_SQL, (code, code.upper(), moment)
        ).fetchone()
        return row

    row = await reading_in_one_trip(db, find)
    if row is None:
        raise NotFoundError(
            f"Unknown barcode or SKU {code!r}: check the item or search by name (F2)."
        )
    return ProductView(
        id=UUID(hex=row[0]),
        sku=row[1],
        barcode=row[2],
        name=row[3],
        price_cents=row[4],
        tax_code=row[5],
        cdc_eligible=bool(row[6]),
        age_restricted=bool(row[7]),
    )


async def search_products(db: Database, text: str, *, limit: int = 50) -> list[ProductView]:
    """Active products whose name starts with, then contains, ``text`` (case-insensitive)."""
    needle = text.strip().lower()
    if not needle:
        return []
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    async with reading(db) as s:
        prefix = (
            await s.execute(
                select(*_columns())
                .where(
                    Product.active.is_(True), Product.search_name.like(f"{escaped}%", escape="\\")
                )
                .order_by(Product.search_name)
                .limit(limit)
            )
        ).all()
        rest: list[object] = []
        if len(prefix) < limit:
            rest = list(
                (
                    await s.execute(
                        select(*_columns())
                        .where(
                            Product.active.is_(True),
                            Product.search_name.like(f"%{escaped}%", escape="\\"),
                            Product.search_name.not_like(f"{escaped}%", escape="\\"),
                        )
                        .order_by(Product.search_name)
                        .limit(limit - len(prefix))
                    )
                ).all()
            )
    return [_view(r) for r in [*prefix, *rest]]


async def list_products(db: Database) -> list[ProductView]:
    async with reading(db) as s:
        rows = (
            await s.execute(
                select(*_columns()).where(Product.active.is_(True)).order_by(Product.sku)
            )
        ).all()
    return [_view(r) for r in rows]


async def products_in(session: AsyncSession, ids: list[UUID]) -> dict[UUID, ProductView]:
    """Active products among ``ids``, keyed by id, read in the caller's unit of work
    (recalling a parked cart reads them and deletes the parked row together)."""
    if not ids:
        return {}
    rows = (
        await session.execute(
            select(*_columns()).where(Product.id.in_(ids), Product.active.is_(True))
        )
    ).all()
    return {row.id: _view(row) for row in rows}


async def store_profile(db: Database, *, today: date | None = None) -> StoreProfile:
    """The store's identity and today's GST rate, in one read unit of work."""
    day = today or datetime.now(UTC).date()
    async with reading(db) as s:
        store = (
            await s.execute(
                select(
                    StoreSettings.outlet_code,
                    StoreSettings.terminal_code,
                    StoreSettings.store_name,
                    StoreSettings.address,
                    StoreSettings.gst_reg_no,
                )
            )
        ).first()
        rates = (await s.execute(select(GstRateRow.effective_from, GstRateRow.rate_bp))).all()
    if store is None:
        raise NotInitialisedError("This till has no store settings: run `kedai-till init`.")
    try:
        rate = rate_on(day, [GstRate(r.effective_from, r.rate_bp) for r in rates])
    except NoGstRateError as exc:
        raise NotInitialisedError(f"{exc}: HQ must send the GST rates.") from exc
    return StoreProfile(
        store=StoreView.model_validate(store, from_attributes=True), gst_rate_bp=rate
    )
