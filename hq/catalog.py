"""Master data written at HQ (products, customers, cashiers, tenders, settings).

Every write that changes a row stamps it with a fresh change_seq so tills pull it; a row
whose fields did not change keeps its seq, so re-importing the same catalog costs tills
nothing. Customers' balances are never written here: they move only through the loyalty
ledger (:func:`add_loyalty_entries`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import fields
from hq import models as m
from hq.ingest import LOYALTY, apply_customer_changes
from hq.sqlutil import allocate_change_seqs, insert
from sync import protocol as p
from sync.demo_data import product_uuid

SETTINGS_ROW_ID = 1


class CatalogError(ValueError):
    """A catalog file or record HQ cannot accept (the message names the line)."""


async def check_sellable(session: AsyncSession, product: p.ProductRecord) -> None:
    """What the back office refuses in a product a person types (the CSV import has its
    own, row by row): a price of nothing, and a barcode a scan could not tell from
    another product's."""
    if product.price_cents <= 0:
        raise CatalogError(fields.FREE_PRICE)
    code = product.barcode
    if code is None:
        return
    if any(c.isspace() for c in code):
        raise CatalogError(f"barcode {code!r} has a space: a scanner never sends one")
    other = (
        await session.execute(
            select(m.Product.sku).where(
                m.Product.barcode == code, m.Product.product_id != product.product_id
            )
        )
    ).scalar()
    if other is not None:
        raise CatalogError(
            f"barcode {code!r} already belongs to {other}: a scan could not tell them apart"
        )


async def upsert_products(*, session: AsyncSession, products: Sequence[p.ProductRecord]) -> int:
    """Create or update products by ``product_id``; returns how many changed."""
    taken = {
        row.sku: row.product_id
        for row in await session.execute(
            select(m.Product.sku, m.Product.product_id).where(
                m.Product.sku.in_([r.sku for r in products])
            )
        )
    }
    for rec in products:
        if taken.get(rec.sku, rec.product_id) != rec.product_id:
            raise CatalogError(f"sku {rec.sku!r} already belongs to product {taken[rec.sku]}")
    rows = [r.model_dump(exclude={"prices"}) for r in products]
    return await _upsert(session, m.Product, "product_id", rows)


async def upsert_customers(*, session: AsyncSession, customers: Sequence[p.CustomerRecord]) -> int:
    """Create or update customers' details; ``loyalty_balance`` in the records is ignored."""
    rows = [{**c.model_dump(exclude={"loyalty_balance"}), "placeholder": False} for c in customers]
    return await _upsert(session, m.Customer, "customer_id", rows)


async def upsert_cashiers(*, session: AsyncSession, cashiers: Sequence[p.CashierRecord]) -> int:
    return await _upsert(session, m.Cashier, "cashier_id", [c.model_dump() for c in cashiers])


async def upsert_tenders(*, session: AsyncSession, tenders: Sequence[p.TenderRecord]) -> int:
    return await _upsert(session, m.Tender, "code", [t.model_dump() for t in tenders])


async def put_settings(*, session: AsyncSession, settings: p.SettingsRecord) -> int:
    row = settings.model_dump(mode="json")
    return await _upsert(session, m.StoreSettings, "id", [{"id": SETTINGS_ROW_ID, **row}])


async def add_loyalty_entries(*, session: AsyncSession, entries: Sequence[p.LoyaltyDelta]) -> int:
    """Add HQ-side ledger entries (adjustments, opening balances); idempotent by entry_id."""
    if not entries:
        return 0
    now = datetime.now(UTC)
    rows = [
        {
            "entry_id": e.entry_id,
            "customer_id": e.customer_id,
            "points": e.points,
            "reason": e.reason,
            "event_id": None,
            "terminal_id": None,
            "occurred_at": now,
            "received_at": now,
        }
        for e in entries
    ]
    stmt = (
        insert(session, LOYALTY)
        .on_conflict_do_nothing()
        .returning(LOYALTY.c.customer_id, LOYALTY.c.points)
    )
    deltas: dict[UUID, int] = defaultdict(int)
    added = 0
    for customer_id, points in await session.execute(stmt, rows):
        deltas[customer_id] += points
        added += 1
    await apply_customer_changes(session=session, created={}, deltas=deltas)
    return added


async def _upsert(
    session: AsyncSession, model: type[m.Base], key: str, rows: list[dict[str, Any]]
) -> int:
    if not rows:
        return 0
    column = getattr(model, key)
    existing = {
        getattr(obj, key): obj
        for obj in (
            await session.execute(select(model).where(column.in_([r[key] for r in rows])))
        ).scalars()
    }
    changed = [
        row
        for row in rows
        if (obj := existing.get(row[key])) is None
        or any(getattr(obj, k) != v for k, v in row.items())
    ]
    seqs = await allocate_change_seqs(session, len(changed))
    for row, seq in zip(changed, seqs, strict=True):
        obj = existing.get(row[key])
        if obj is None:
            session.add(model(**row, change_seq=seq))
        else:
            for k, v in row.items():
                setattr(obj, k, v)
            obj.change_seq = seq  # type: ignore[attr-defined]
    await session.flush()
    return len(changed)


# ----------------------------------------------------------------------------- CSV

CSV_COLUMNS = (
    "sku",
    "barcode",
    "name",
    "price",
    "tax_code",
    "cdc_eligible",
    "active",
    "age_restricted",
)
"""``price`` is in dollars (``3.30``); ``price_cents`` (``330``) may be given instead.
``age_restricted`` (default no) makes the tills ask for an age check; a file without that
column leaves existing products' flag as it is. Files are checked and imported by
:mod:`hq.catalog_import`."""

_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


def _product_from_cells(
    sku: str,
    barcode: str,
    name: str,
    price_cents: str,
    price: str,
    tax_code: str,
    cdc_eligible: str,
    active: str,
    age_restricted: str,
) -> p.ProductRecord:
    """One CSV row's product from its cells, stripped ("" for a column the file lacks)."""
    if not sku:
        raise ValueError("empty sku")
    if price_cents:
        if not (price_cents.isascii() and price_cents.isdigit() and len(price_cents) < 12):
            raise ValueError(f"price_cents {price_cents!r} is not whole cents like 330")
        cents = int(price_cents)
    else:
        try:
            cents = fields.price_cents(price)
        except fields.FieldError:
            raise ValueError(f"price {price!r} is not an amount like 3.30") from None
    if cents <= 0:
        raise ValueError(fields.FREE_PRICE)
    return p.ProductRecord(
        product_id=product_uuid(sku),
        sku=sku,
        barcode=barcode or None,
        name=name,
        price_cents=cents,
        tax_code=(tax_code or "SR").upper(),  # type: ignore[arg-type]
        cdc_eligible=_flag(cdc_eligible, default=True),
        active=_flag(active, default=True),
        age_restricted=_flag(age_restricted, default=False),
    )


def _flag(value: str, *, default: bool) -> bool:
    if not value:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(f"expected yes/no, got {value!r}")
