"""Parking and recalling a cart against a real till database.

Recall reads the parked row, its products and customer and deletes the row in one unit
of work: a failure anywhere before COMMIT leaves the parked sale to recall again.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime

import pytest

from sync.demo_data import cashier_uuid
from terminal.db.engine import Database
from terminal.services import parked
from terminal.services.catalog import lookup_code
from terminal.services.customers import find_customers
from terminal.services.errors import NotFoundError, TillError
from terminal.services.schemas import ApprovalView, ParkedItem

NOW = datetime(2025, 3, 14, 4, 30, tzinfo=UTC)
AISHA = cashier_uuid("Aisha")


async def _park(db: Database) -> parked.ParkedSaleView:
    kopi = await lookup_code(db, "KOPI-001")
    milo = await lookup_code(db, "MILO-400")
    [priya] = await find_customers(db, "priya")
    return await parked.park_sale(
        db,
        cashier_id=AISHA,
        items=[ParkedItem(product=kopi, qty=2), ParkedItem(product=milo, qty=1, discount_cents=50)],
        customer=priya,
        now=NOW,
    )


def _parked_ids(db: Database) -> list[str]:
    con = sqlite3.connect(db.path)
    try:
        return [r[0] for r in con.execute("SELECT id FROM parked_sales")]
    finally:
        con.close()


async def test_park_then_recall_gives_the_cart_back_once(till_db: Database) -> None:
    view = await _park(till_db)
    assert view.label == "Kopi-O Powder 500g +1" and view.item_count == 3
    cart = await parked.recall_sale(till_db, view.id)
    assert [(i.product.sku, i.qty, i.discount_cents) for i in cart.items] == [
        ("KOPI-001", 2, 0),
        ("MILO-400", 1, 50),
    ]
    assert cart.customer is not None and cart.customer.name == "Priya Nair"
    assert cart.missing == []
    assert _parked_ids(till_db) == []
    with pytest.raises(NotFoundError, match="already recalled"):
        await parked.recall_sale(till_db, view.id)


async def test_a_failure_while_reading_the_products_keeps_the_parked_sale(
    till_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = await _park(till_db)

    async def broken(*args, **kwargs):
        raise RuntimeError("catalog read failed")

    # Before the fix the products were read after the delete had committed (separately).
    monkeypatch.setattr(parked, "products_in", broken)
    with pytest.raises(RuntimeError):
        await parked.recall_sale(till_db, view.id)
    assert len(_parked_ids(till_db)) == 1
    monkeypatch.undo()
    cart = await parked.recall_sale(till_db, view.id)
    assert len(cart.items) == 2


async def test_a_damaged_parked_sale_is_refused_and_kept(till_db: Database) -> None:
    view = await _park(till_db)
    con = sqlite3.connect(till_db.path)
    with con:
        con.execute(
            'UPDATE parked_sales SET cart_json = replace(cart_json, \'"product_id": "\', '
            '\'"product_id": "x\')'
        )
    con.close()
    with pytest.raises(TillError, match="damaged"):
        await parked.recall_sale(till_db, view.id)
    assert len(_parked_ids(till_db)) == 1


def _approval(action: str) -> ApprovalView:
    return ApprovalView(
        id=cashier_uuid("Mr Tan"),
        name="Mr Tan",
        role="manager",
        approval_id=uuid.uuid4(),
        action=action,  # type: ignore[arg-type]
    )


async def test_overrides_approvals_and_age_checks_come_back_as_parked(till_db: Database) -> None:
    milo = await lookup_code(till_db, "MILO-400")
    rice = await lookup_code(till_db, "RICE-5KG")
    beer = await lookup_code(till_db, "BEER-6")
    items = [
        ParkedItem(
            product=milo,
            qty=2,
            override_cents=650,
            override_approval=_approval("price_override"),
        ),
        ParkedItem(product=rice, qty=1, discount_cents=419, approval=_approval("discount")),
        ParkedItem(product=beer, qty=1, age_checked=True),
    ]
    view = await parked.park_sale(till_db, cashier_id=AISHA, items=items, now=NOW)
    assert view.total_cents == 2 * 650 + 1395 - 419 + beer.price_cents
    cart = await parked.recall_sale(till_db, view.id)
    assert cart.items == items


async def test_a_cart_parked_before_overrides_were_stored_still_recalls(
    till_db: Database,
) -> None:
    view = await _park(till_db)
    con = sqlite3.connect(till_db.path)
    with con:
        [(text,)] = con.execute("SELECT cart_json FROM parked_sales").fetchall()
        body = json.loads(text)
        old = ("product_id", "sku", "qty", "discount_cents")
        body["items"] = [{k: i[k] for k in old} for i in body["items"]]
        con.execute("UPDATE parked_sales SET cart_json = ?", (json.dumps(body),))
    con.close()
    [listed] = await parked.list_parked(till_db)
    assert listed.total_cents == view.total_cents
    cart = await parked.recall_sale(till_db, view.id)
    assert [
        (i.product.sku, i.qty, i.discount_cents, i.override_cents, i.approval, i.age_checked)
        for i in cart.items
    ] == [("KOPI-001", 2, 0, None, None, False), ("MILO-400", 1, 50, None, None, False)]
    assert all(i.override_approval is None for i in cart.items)
