"""Applying HQ's reference data (products, customers, cashiers, tenders, settings).

The sync agent applies each pulled page with :func:`apply_changes` inside the same unit
of work that stores the new cursor; the demo seed reuses it so local and synced data
take exactly one path into the store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Table, delete, update
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.ext.asyncio import AsyncSession

from sync.protocol import (
    CashierRecord,
    Change,
    CustomerRecord,
    ProductRecord,
    SettingsRecord,
    TenderRecord,
)
from terminal.db.engine import driver_connection, in_driver_thread
from terminal.db.models import (
    Cashier,
    Customer,
    GstRateRow,
    StoreSettings,
    Tender,
    db_uuid,
    table_of,
)


async def _upsert(
    session: AsyncSession, table: Table, key: str, rows: list[dict[str, Any]]
) -> None:
    if not rows:
        return
    stmt = insert(table)
    cols = [c for c in rows[0] if c != key]
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c[key]], set_={c: stmt.excluded[c] for c in cols}
    )
    await session.execute(stmt, rows)


def _customer(r: CustomerRecord) -> dict[str, Any]:
    return {
        "id": r.customer_id,
        "name": r.name,
        "search_name": r.name.lower(),
        "phone": r.phone,
        "email": r.email,
        "hq_balance": r.loyalty_balance,
    }


def _cashier(r: CashierRecord) -> dict[str, Any]:
    return {
        "id": r.cashier_id,
        "name": r.name,
        "role": r.role,
        "pin_hash": r.pin_hash,
        "active": r.active,
    }


def _tender(r: TenderRecord) -> dict[str, Any]:
    return {
        "code": r.code,
        "name": r.name,
        "kind": r.kind,
        "active": r.active,
        "sort_order": r.sort_order,
    }


async def apply_settings(session: AsyncSession, s: SettingsRecord) -> None:
    await session.execute(
        update(StoreSettings)
        .where(StoreSettings.id == 1)
        .values(
            store_name=s.store_name,
            address=s.address,
            gst_reg_no=s.gst_reg_no,
            loyalty_cents_per_point_earned=s.loyalty_cents_per_point_earned,
            loyalty_point_value_cents=s.loyalty_point_value_cents,
            approval_limits=s.approval_limits.model_dump_json(),
        )
    )
    await session.execute(delete(GstRateRow))
    if s.gst_rates:
        await session.execute(
            insert(table_of(GstRateRow)),
            [{"effective_from": g.effective_from, "rate_bp": g.rate_bp} for g in s.gst_rates],
        )


_PRODUCT_COLUMNS = (
    "id", "sku", "barcode", "name", "search_name", "price_cents", "tax_code", "cdc_eligible",
    "active", "age_restricted",
)  # fmt: skip
_UPSERT_PRODUCTS = (
    f"INSERT INTO products ({', '.join(_PRODUCT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_PRODUCT_COLUMNS))}) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _PRODUCT_COLUMNS[1:])
)
_INSERT_STEPS = (
    "INSERT INTO price_schedule (product_id, effective_at, price_cents) VALUES (?, ?, ?)"
)
_IDS_PER_DELETE = 500


def product_writer(products: Sequence[ProductRecord]) -> Callable[[sqlite3.Connection], None]:
    """What upserts ``products`` (the last record per id wins) and replaces their price
    schedules, as one function for the driver's thread, inside its caller's transaction.

    A first pull brings 100,000 products, 500 a page: each page's rows are bound straight
    to the driver as tuples (as :func:`_product` would map them) and written in one trip to
    the driver's thread, without SQLAlchemy's per-row parameter processing. The rows are
    made here, on the caller's thread; the function only writes them.
    """
    latest = {db_uuid(r.product_id): r for r in products}  # hex keys: hashed in C
    ids = list(latest)
    rows = [
        (pid, r.sku, r.barcode or None, r.name, r.name.lower(), r.price_cents, r.tax_code,
         r.cdc_eligible, r.active, r.age_restricted)
        for pid, r in latest.items()
    ]  # fmt: skip
    steps = [
        (pid, at, cents)
        for (pid, at), cents in {
            (pid, int(step.effective_from.timestamp())): step.price_cents
            for pid, r in latest.items()
            for step in r.prices
        }.items()
    ]

    def write(conn: sqlite3.Connection) -> None:
        if not rows:
            return
        conn.executemany(_UPSERT_PRODUCTS, rows)
        for start in range(0, len(ids), _IDS_PER_DELETE):
            chunk = ids[start : start + _IDS_PER_DELETE]
            marks = ", ".join("?" * len(chunk))
            conn.execute(f"DELETE FROM price_schedule WHERE product_id IN ({marks})", chunk)
        if steps:
            conn.executemany(_INSERT_STEPS, steps)

    return write


async def _write_products(session: AsyncSession, products: Sequence[ProductRecord]) -> None:
    """:func:`product_writer` in the session's transaction, in one trip to the driver."""
    if products:
        await in_driver_thread(await driver_connection(session), product_writer(products))


async def apply_records(
    session: AsyncSession,
    *,
    products: Sequence[ProductRecord] = (),
    customers: Sequence[CustomerRecord] = (),
    cashiers: Sequence[CashierRecord] = (),
    tenders: Sequence[TenderRecord] = (),
    settings: SettingsRecord | None = None,
) -> None:
    """Upsert records in the caller's unit of work; the last record per key wins."""
    await _write_products(session, products)
    await _upsert(session, table_of(Customer), "id", _dedupe([_customer(c) for c in customers]))
    await _upsert(session, table_of(Cashier), "id", _dedupe([_cashier(c) for c in cashiers]))
    await _upsert(session, table_of(Tender), "code", _dedupe([_tender(t) for t in tenders], "code"))
    if settings is not None:
        await apply_settings(session, settings)


async def apply_changes(session: AsyncSession, changes: Sequence[Change]) -> None:
    """Apply one page of HQ's change feed (in ``seq`` order) in the caller's transaction.

    A cashier's last change in the page wins: a record upserts them, a removal (they were
    reassigned to another outlet) deactivates them and drops their PIN hash; the row stays
    because this till's past sales and shifts point at it.
    """
    settings = [c.data for c in changes if c.kind == "settings"]
    last: dict[UUID, CashierRecord | None] = {}
    for c in changes:
        if c.kind == "cashier":
            last[c.data.cashier_id] = c.data
        elif c.kind == "cashier_removed":
            last[c.data.cashier_id] = None
    await apply_records(
        session,
        products=[c.data for c in changes if c.kind == "product"],
        customers=[c.data for c in changes if c.kind == "customer"],
        cashiers=[r for r in last.values() if r is not None],
        tenders=[c.data for c in changes if c.kind == "tender"],
        settings=settings[-1] if settings else None,
    )
    removed = [cid for cid, r in last.items() if r is None]
    if removed:
        await remove_cashiers(session, removed)


async def remove_cashiers(session: AsyncSession, ids: Sequence[UUID]) -> None:
    """Refuse these cashiers at this till from now on: inactive, no PIN hash kept."""
    await session.execute(
        update(Cashier).where(Cashier.id.in_(ids)).values(active=False, pin_hash="")
    )


def _dedupe(rows: list[dict[str, Any]], key: str = "id") -> list[dict[str, Any]]:
    """One row per key, the last one winning (an UPSERT batch must not repeat a key)."""
    return list({row[key]: row for row in rows}.values())
