"""Catalog lookups at the till: scan, search as you type, list."""

from __future__ import annotations

from sqlalchemy import or_, select

from terminal.db.engine import Database
from terminal.db.models import Product
from terminal.services.errors import NotFoundError
from terminal.services.schemas import ProductView
from terminal.services.uow import reading

_COLUMNS = (
    Product.id,
    Product.sku,
    Product.barcode,
    Product.name,
    Product.price_cents,
    Product.tax_code,
    Product.cdc_eligible,
)


def _view(row: object) -> ProductView:
    return ProductView.model_validate(row, from_attributes=True)


async def lookup_code(db: Database, code: str) -> ProductView:
    """Find an active product by barcode or SKU (what a scanner or a cashier types)."""
    code = code.strip()
    if not code:
        raise NotFoundError("Nothing was scanned.")
    async with reading(db) as s:
        row = (
            await s.execute(
                select(*_COLUMNS)
                .where(or_(Product.barcode == code, Product.sku == code.upper()))
                .where(Product.active.is_(True))
                .limit(1)
            )
        ).first()
    if row is None:
        raise NotFoundError(
            f"Unknown barcode or SKU {code!r}: check the item or search by name (F2)."
        )
    return _view(row)


async def search_products(db: Database, text: str, *, limit: int = 50) -> list[ProductView]:
    """Active products whose name starts with, then contains, ``text`` (case-insensitive)."""
    needle = text.strip().lower()
    if not needle:
        return []
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    async with reading(db) as s:
        prefix = (
            await s.execute(
                select(*_COLUMNS)
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
                        select(*_COLUMNS)
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
            await s.execute(select(*_COLUMNS).where(Product.active.is_(True)).order_by(Product.sku))
        ).all()
    return [_view(r) for r in rows]
