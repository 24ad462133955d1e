"""F3 customer attach/create, F4 park and F5 recall, through the UI."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing
from typing import Any

from sqlalchemy import select

from sync.demo_data import demo_products
from terminal.db.engine import open_database
from terminal.db.models import OutboxEvent, ParkedSale
from terminal.ui.screens.age_check import AgeCheckModal
from terminal.ui.screens.approve import ApproveModal
from terminal.ui.screens.customer import CustomerModal
from terminal.ui.screens.recall import RecallModal
from terminal.ui.screens.receipt import ReceiptModal
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import burst, login, notices, scan, settle, text_of

BARCODES = {p.sku: p.barcode for p in demo_products()}


async def test_f3_attach_by_phone_then_sale_earns_points(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, BARCODES["RICE-5KG"])
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, CustomerModal)
        await pilot.press(*"9123")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert sale.cart.customer is not None and sale.cart.customer.name == "Tan Mei Ling"
        assert "Tan Mei Ling" in text_of(app, "#badge") and "0 pts" in text_of(app, "#badge")
        await pilot.press("f9", "f1")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal)
        text = text_of(app, "#receipt-text")
        assert "Member" in text and "Tan Mei Ling" in text
        assert "Points earned" in text and "Points balance" in text
        assert app.screen.receipt.points_earned == 13
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f3", *"tan mei")  # balance = HQ's + unsynced ledger deltas
        await settle(pilot)
        assert app.screen.results[0].balance == 13


async def test_f3_create_a_member_queues_customer_created(make_app, till_path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await pilot.press("f3", *"Ahmad Ali", "ctrl+n")
        await settle(pilot)
        await pilot.press("enter", *"12", "enter")  # bad phone first
        await settle(pilot)
        assert "is not a phone number" in text_of(app, "#new-error")
        await pilot.press(*"93334444", "enter")
        await settle(pilot)
        assert sale.cart.customer is not None and sale.cart.customer.phone == "93334444"
    db = open_database(till_path)
    async with db.reader() as s:
        events = (await s.execute(select(OutboxEvent.type, OutboxEvent.payload))).all()
    await db.dispose()
    assert [e.type for e in events] == ["customer.created"]
    assert "Ahmad Ali" in events[0].payload


async def test_f4_park_and_f5_recall(make_app, till_path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert any("nothing to park" in n for n in notices(app))
        await scan(pilot, DEMO_BARCODE, "3*" + BARCODES["EGGS-10"], "8")
        assert "Unknown barcode or SKU '8'" in text_of(app, "#message")
        await pilot.press("f3", *"priya", "enter")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert len(sale.cart) == 0 and sale.cart.customer is None
        assert text_of(app, "#message") == "", "the next customer's screen starts clean"
        assert any("Parked: Kopi-O Powder 500g +1" in n for n in notices(app))
        await scan(pilot, BARCODES["MILK-1L"])
        await pilot.press("f5")
        await settle(pilot)
        assert any("before recalling" in n for n in notices(app))
        await pilot.press("f4", "f5")
        await settle(pilot)
        assert isinstance(app.screen, RecallModal)
        assert len(app.screen.parked) == 2
        await pilot.press("enter")  # the oldest first
        await settle(pilot)
        assert [(e.product.sku, e.qty) for e in sale.cart.entries] == [
            ("KOPI-001", 1),
            ("EGGS-10", 3),
        ]
        assert sale.cart.customer is not None and sale.cart.customer.name == "Priya Nair"
    db = open_database(till_path)
    async with db.reader() as s:
        left = (await s.execute(select(ParkedSale.label))).scalars().all()
    await db.dispose()
    assert left == ["Fresh Milk 1L"]


async def test_f3_enter_typed_before_the_search_finishes_still_attaches(make_app) -> None:
    """A cashier types the phone and Enter at once; the search must not lose the race."""
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, BARCODES["RICE-5KG"])
        await pilot.press("f3")
        await settle(pilot)
        burst(app, *"9123", "enter")
        for _ in range(50):
            await settle(pilot)
            if not isinstance(app.screen, CustomerModal):
                break
        assert sale.cart.customer is not None and sale.cart.customer.name == "Tan Mei Ling"


async def test_f4_again_while_parking_parks_the_cart_once(make_app, till_path, monkeypatch) -> None:
    """A second F4 must not cancel the first after its COMMIT and park the cart again."""
    from terminal.services import parked

    real = parked.park_sale
    committed = asyncio.Event()

    async def slow_return(*args, **kwargs):
        view = await real(*args, **kwargs)
        committed.set()
        await asyncio.sleep(0.2)  # COMMIT done; the answer has not reached the screen yet
        return view

    monkeypatch.setattr(parked, "park_sale", slow_return)
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, DEMO_BARCODE, BARCODES["MILO-400"])
        burst(app, "f4")
        await asyncio.wait_for(committed.wait(), timeout=5)
        burst(app, "f4")
        for _ in range(20):
            await pilot.pause(0.05)
        await settle(pilot)
        assert len(sale.cart) == 0
    db = open_database(till_path)
    async with db.reader() as s:
        labels = (await s.execute(select(ParkedSale.label))).scalars().all()
    await db.dispose()
    assert labels == ["Kopi-O Powder 500g +1"]


async def test_a_recalled_cart_keeps_its_prices_discounts_approvals_and_age_check(
    make_app, till_path
) -> None:
    """A price override and a discount a manager approved, and an age check, survive
    F4/F5: the checkout accepts the same recorded approvals and nobody is asked again."""
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, "2*" + BARCODES["MILO-400"])  # 2 x 7.89
        await pilot.press("ctrl+p", *"6.50", "enter", *"9999", "enter")
        await settle(pilot)
        await scan(pilot, BARCODES["RICE-5KG"])  # 13.95
        await pilot.press("f7", *"30%", "enter")  # over the default 20%: the manager
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal) and app.screen.action_name == "discount"
        await pilot.press(*"9999", "enter")
        await settle(pilot)
        await scan(pilot, BARCODES["BEER-6"])
        assert isinstance(app.screen, AgeCheckModal)
        await pilot.press("enter")
        await settle(pilot)
        before = list(sale.cart.entries)
        assert [(e.override_cents, e.discount_cents, e.age_checked) for e in before] == [
            (650, 0, False),
            (None, 419, False),
            (None, 0, True),
        ]
        assert before[0].override_approval is not None and before[1].approval is not None

        await pilot.press("f4")
        await settle(pilot)
        assert len(sale.cart) == 0 and not sale.cart.age_confirmed
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, RecallModal)
        assert app.screen.parked[0].total_cents == 1300 + 1395 - 419 + 1980
        await pilot.press("enter")
        await settle(pilot)
        assert sale.cart.entries == before
        assert sale.cart.age_confirmed
        await scan(pilot, BARCODES["CIGAR-PK"])  # the age was confirmed for this sale
        assert not isinstance(app.screen, AgeCheckModal)

        await pilot.press("f9", "f1")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal), notices(app)
        lines = app.screen.receipt.lines
        assert [(x.unit_price_cents, x.total_cents) for x in lines[:3]] == [
            (650, 1300),
            (1395, 1395 - 419),
            (1980, 1980),
        ]
    events = _outbox(till_path)
    granted = [p for t, p in events if t == "approval.granted"]
    assert [g["action"] for g in granted] == ["price_override", "discount"]
    [sold] = [p for t, p in events if t == "sale.completed"]
    assert [(x["unit_price_cents"], x["discount_cents"]) for x in sold["lines"][:2]] == [
        (650, 0),
        (1395, 419),
    ]
    assert "approval.refused" not in [t for t, _ in events]


def _outbox(path) -> list[tuple[str, dict[str, Any]]]:
    with closing(sqlite3.connect(path)) as c:
        rows = c.execute("SELECT type, payload FROM outbox ORDER BY seq").fetchall()
    return [(t, json.loads(p)) for t, p in rows]
