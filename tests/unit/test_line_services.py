"""The services behind the sale screen's line operations, called directly (no UI)."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, datetime

import pytest

from sync import demo_data
from terminal.db.engine import Database
from terminal.services.catalog import lookup_code
from terminal.services.checkout import finalize_sale
from terminal.services.customers import points_account
from terminal.services.errors import NotFoundError
from terminal.services.schemas import CartItemIn, CheckoutRequest, TenderIn

PRODUCTS = {p.sku: p for p in demo_data.demo_products()}
CASHIER = demo_data.demo_cashiers()[0].cashier_id
PRIYA = next(c for c in demo_data.demo_customers() if c.name == "Priya Nair")  # 300 points
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


async def test_points_account_is_hq_balance_plus_unsynced_deltas_at_the_store_rate(
    till_db: Database,
) -> None:
    before = await points_account(till_db, PRIYA.customer_id)
    assert (before.customer.balance, before.point_value_cents) == (300, 1)
    rice = PRODUCTS["RICE-5KG"]  # 13.95: 250 in points, 11.45 by card earns 11
    await finalize_sale(
        till_db,
        CheckoutRequest(
            cashier_id=CASHIER,
            customer_id=PRIYA.customer_id,
            items=[CartItemIn(product_id=rice.product_id, qty=1)],
            tenders=[
                TenderIn(kind="points", amount_cents=250),
                TenderIn(kind="card", amount_cents=1145),
            ],
        ),
        now=NOW,
    )
    with closing(sqlite3.connect(till_db.path)) as c, c:
        c.execute("UPDATE store_settings SET loyalty_point_value_cents = 5")
    after = await points_account(till_db, PRIYA.customer_id)
    assert (after.customer.balance, after.point_value_cents) == (300 - 250 + 11, 5)
    with pytest.raises(NotFoundError):
        await points_account(till_db, uuid.uuid4())


async def test_the_age_restriction_flag_reaches_the_till_catalog(till_db: Database) -> None:
    beer = await lookup_code(till_db, PRODUCTS["BEER-6"].barcode or "")
    kopi = await lookup_code(till_db, "KOPI-001")
    assert (beer.age_restricted, kopi.age_restricted) == (True, False)
