"""Opening and closing a shift against a real till database.

Expected cash in the drawer = opening float + cash taken for sales - change given. The
payments table keeps the cash *applied* to each sale (tendered - change), so the service
sums that; these tests pin the arithmetic down with change and a non-cash tender.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest

from sync import demo_data
from terminal.db.engine import Database
from terminal.services.checkout import finalize_sale
from terminal.services.errors import TillError
from terminal.services.schemas import CartItemIn, CheckoutRequest, TenderIn
from terminal.services.shifts import close_shift, open_shift, open_shift_for

PRODUCTS = {p.sku: p for p in demo_data.demo_products()}
KOPI = PRODUCTS["KOPI-001"]  # S$3.30
MILO = PRODUCTS["MILO-400"]  # S$7.89
CASHIER = demo_data.demo_cashiers()[0].cashier_id
OPENED = datetime(2025, 3, 14, 1, 0, tzinfo=UTC)


async def _sell(db: Database, shift_id, sku, tenders: list[TenderIn]) -> None:
    await finalize_sale(
        db,
        CheckoutRequest(
            cashier_id=CASHIER,
            shift_id=shift_id,
            items=[CartItemIn(product_id=PRODUCTS[sku].product_id, qty=1)],
            tenders=tenders,
        ),
        now=OPENED + timedelta(hours=1),
    )


async def test_close_shift_counts_float_plus_cash_minus_change(till_db: Database) -> None:
    shift = await open_shift(till_db, CASHIER, float_cents=100_00, now=OPENED)
    # Kopi 3.30 paid with S$10 cash: S$6.70 change, S$3.30 stays in the drawer.
    await _sell(till_db, shift.id, "KOPI-001", [TenderIn(kind="cash", amount_cents=10_00)])
    # Milo 7.89 (cash due rounds to 7.90): NETS S$5 + S$5 cash -> S$2.90 cash kept.
    await _sell(
        till_db,
        shift.id,
        "MILO-400",
        [TenderIn(kind="nets", amount_cents=5_00), TenderIn(kind="cash", amount_cents=5_00)],
    )
    closed_at = OPENED + timedelta(hours=8)
    summary = await close_shift(till_db, shift.id, counted_cash_cents=106_00, now=closed_at)

    assert summary.expected_cash_cents == 100_00 + 3_30 + 2_90
    assert summary.sales_count == 2
    assert summary.sales_total_cents == 3_30 + 7_89
    assert summary.shift.closed_at == closed_at
    assert summary.shift.counted_cash_cents == 106_00
    assert await open_shift_for(till_db, CASHIER) is None

    with closing(sqlite3.connect(till_db.path)) as c:
        rows = c.execute("SELECT type, payload FROM outbox ORDER BY seq").fetchall()
    assert [t for t, _ in rows] == [
        "sale.completed",
        "sale.completed",
        "shift.closed",
        "shift.z_report",
    ]
    z = json.loads(rows[-1][1])
    assert z["variance_cents"] == -20 and z["sales_count"] == 2
    assert z["first_receipt_no"] == "DEMO-T01-000001" and z["last_receipt_no"] == "DEMO-T01-000002"
    event = json.loads(rows[-2][1])
    assert event["shift_id"] == str(shift.id)
    assert event["opening_float_cents"] == 100_00
    assert event["expected_cash_cents"] == 106_20
    assert event["counted_cash_cents"] == 106_00
    assert event["sales_count"] == 2


async def test_a_shift_closes_once(till_db: Database) -> None:
    shift = await open_shift(till_db, CASHIER, float_cents=0, now=OPENED)
    summary = await close_shift(till_db, shift.id, counted_cash_cents=0, now=OPENED)
    assert summary.expected_cash_cents == 0 and summary.sales_count == 0
    with pytest.raises(TillError, match="already closed"):
        await close_shift(till_db, shift.id, counted_cash_cents=0, now=OPENED)
    with pytest.raises(TillError, match="cannot be negative"):
        await close_shift(till_db, shift.id, counted_cash_cents=-1, now=OPENED)
