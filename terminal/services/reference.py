"""Applying HQ's reference data (products, customers, cashiers, tenders, settings).

The sync agent applies each pulled page with :func:`apply_changes` inside the same unit
of work that stores the new cursor; the demo seed reuses it so local and synced data
take exactly one path into the store.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from terminal.db.models import (
    Cashier,
    Customer,
    GstRateRow,
    Product,
    ScheduledPrice,
    StoreSettings,
    Tender,
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


def _product(r: ProductRecord) -> dict[str, Any]:
    return {
        "id": r.product_id,
        "sku": r.sku,
        "barcode": r.barcode or None,
        "name": r.name,
        "search_name": r.name.lower(),
        "price_cents": r.price_cents,
        "tax_code": r.tax_code,
        "cdc_eligible": r.cdc_eligible,
        "active": r.active,
        "age_restricted": r.age_restricted,
    }


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


async def _replace_schedules(session: AsyncSession, products: Sequence[ProductRecord]) -> None:
    """Each product record carries its whole future schedule: replace the stored one."""
    if not products:
        return
    latest = {r.product_id: r for r in products}
    ids = list(latest)
    for start in range(0, len(ids), 500):
        await session.execute(
            delete(ScheduledPrice).where(ScheduledPrice.product_id.in_(ids[start : start + 500]))
        )
    rows = {
        (r.product_id, int(step.effective_from.timestamp())): step.price_cents
        for r in latest.values()
        for step in r.prices
    }
    if rows:
        await session.execute(
            insert(table_of(ScheduledPrice)),
            [
                {"product_id": pid, "effective_at": at, "price_cents": cents}
                for (pid, at), cents in rows.items()
            ],
        )


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
    await _upsert(session, table_of(Product), "id", _dedupe([_product(p) for p in products]))
    await _replace_schedules(session, products)
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
