"""F9 and F4 pressed while the last scan is still being looked up (a fast cashier).

The queue can be empty while its consumer is still looking up the last code: F9 then
opened payment with stale totals, and F4 parked a cart without that code (which then
landed in the next cart or was cleared). Both now wait for every code scanned before the
key; codes scanned after it go into the next cart.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from sync.demo_data import demo_products
from terminal.db.engine import open_database
from terminal.db.models import ParkedSale
from terminal.services import catalog
from terminal.ui.screens.payment import PaymentScreen
from terminal.ui.screens.receipt import ReceiptModal
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import burst, login, scan, settle

BARCODES = {p.sku: p.barcode for p in demo_products()}


def _slow_lookups(monkeypatch) -> None:
    """Lookups as slow as a busy till's disk: the race window is then wide open."""
    real = catalog.lookup_code

    async def slow(db, code):
        await asyncio.sleep(0.15)
        return await real(db, code)

    monkeypatch.setattr(catalog, "lookup_code", slow)


async def _wait(pilot, until) -> None:
    for _ in range(60):
        await pilot.pause(0.05)
        if until():
            return


async def test_f9_right_after_a_scan_pays_for_that_scan_too(make_app, monkeypatch) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, DEMO_BARCODE)  # 3.30
        _slow_lookups(monkeypatch)
        burst(app, *BARCODES["MILO-400"], "enter", "f9")  # + 7.89, F9 before its lookup
        await _wait(pilot, lambda: isinstance(app.screen, PaymentScreen))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PaymentScreen)
        assert screen.totals.total_cents == 3_30 + 7_89
        assert screen.cart is not sale.cart  # payment works on a copy
        await pilot.press("f1")  # exact cash
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal)
        receipt = app.screen.receipt
        assert receipt.total_cents == 11_19
        assert [line.sku for line in receipt.lines] == ["KOPI-001", "MILO-400"]
        await pilot.press("enter")
        await settle(pilot)
        assert len(sale.cart) == 0


async def test_f4_right_after_a_scan_parks_it_and_later_scans_start_the_next_cart(
    make_app, monkeypatch, till_path
) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, DEMO_BARCODE)
        _slow_lookups(monkeypatch)
        burst(
            app,
            *BARCODES["MILO-400"],
            "enter",
            "f4",
            *BARCODES["EGGS-10"],
            "enter",
        )
        await _wait(pilot, lambda: [e.product.sku for e in sale.cart.entries] == ["EGGS-10"])
        await settle(pilot)
        assert [e.product.sku for e in sale.cart.entries] == ["EGGS-10"]
    db = open_database(till_path)
    async with db.reader() as s:
        labels = (await s.execute(select(ParkedSale.label))).scalars().all()
    await db.dispose()
    assert labels == ["Kopi-O Powder 500g +1"]  # Kopi + Milo, not Eggs
