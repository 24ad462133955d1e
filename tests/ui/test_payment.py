"""Payment: split tender with cash rounding and change, refusals, the receipt, reprint."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from sqlalchemy import func, select

from sync.demo_data import demo_products
from terminal.db.engine import open_database
from terminal.db.models import Sale
from terminal.services.errors import StorageError
from terminal.ui.screens.payment import PaymentScreen
from terminal.ui.screens.receipt import ReceiptModal
from terminal.ui.screens.sale import SaleScreen
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import login, notices, scan, settle, text_of

BARCODES = {p.sku: p.barcode for p in demo_products()}


async def _sales(path) -> int:
    db = open_database(path)
    async with db.reader() as s:
        n = (await s.execute(select(func.count()).select_from(Sale))).scalar_one()
    await db.dispose()
    return n


async def test_split_nets_and_cash_with_rounding_and_change(make_app, till_path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        await scan(pilot, DEMO_BARCODE, BARCODES["MILO-400"])  # 3.30 + 7.89 = 11.19
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, PaymentScreen)
        assert "Cash due S$11.20 (rounding +0.01)" in text_of(app, "#pay-due")
        await pilot.press(*"5", "f6")  # S$5.00 on NETS
        await settle(pilot)
        assert "Due S$6.19" in text_of(app, "#pay-due")
        assert "Cash due S$6.20 (rounding +0.01)" in text_of(app, "#pay-due")
        assert "NETS" in text_of(app, "#pay-tenders")
        await pilot.press(*"10", "enter")  # cash is the default tender
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal)
        receipt = app.screen.receipt
        assert receipt.total_cents == 1119 and receipt.rounding_cents == 1
        assert receipt.change_cents == 380
        assert [(p.tender, p.amount_cents) for p in receipt.payments] == [
            ("nets", 500),
            ("cash", 620),
        ]
        assert "CHANGE DUE  S$3.80" in text_of(app, "#change-due")
        text = text_of(app, "#receipt-text")
        for expected in (
            "GST Reg No: M90312345X",
            "DEMO-T01-000001",
            "GST 9% included",
            "0.92",
            "Rounding",
            "14/03/2025 12:30",
            "Aisha",
        ):
            assert expected in text, expected
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen) and len(app.screen.cart) == 0
        await pilot.press("f12")  # reprint the last receipt
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal)
        assert "** REPRINT **" in text_of(app, "#receipt-text")
        assert "DEMO-T01-000001" in text_of(app, "#receipt-text")
    assert await _sales(till_path) == 1


async def test_short_payment_is_refused_and_nothing_is_written(make_app, till_path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("f9", *"1", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PaymentScreen)
        assert "Due S$2.30" in text_of(app, "#pay-due")
        await pilot.press("f9")  # the sale completes by itself: F9 says what is due
        await settle(pilot)
        assert "Still due: S$2.30 in cash" in text_of(app, "#pay-error")
        await pilot.press(*"9.99", "f7")  # card larger than the balance: no change from cards
        await settle(pilot)
        assert "non-cash tenders give no change" in text_of(app, "#pay-error")
        await pilot.press("escape", "enter")  # the S$1 cash given back, then dropped
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen) and len(app.screen.cart) == 1
    assert await _sales(till_path) == 0


async def test_cdc_is_refused_for_excluded_items(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        await scan(pilot, BARCODES["BEER-6"])
        await pilot.press("enter")  # the customer is of age
        await pilot.press("f9", "f10")
        await settle(pilot)
        assert "CDC vouchers cannot pay for any item" in text_of(app, "#pay-error")
        await pilot.press("escape")
        await scan(pilot, DEMO_BARCODE)  # beer 19.80 + kopi 3.30: only 3.30 is eligible
        await pilot.press("f9", *"10", "f10")
        await settle(pilot)
        assert "at most S$3.30" in text_of(app, "#pay-error")
        assert "Due S$23.10" in text_of(app, "#pay-due")
        await pilot.press("f10")  # empty amount: the eligible part
        await settle(pilot)
        assert "Due S$19.80" in text_of(app, "#pay-due")
        await pilot.press("f1")  # exact cash
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal)
        assert [p.tender for p in app.screen.receipt.payments] == ["cdc", "cash"]


async def test_a_tender_the_shop_does_not_take_is_refused_on_screen(make_app, till_path) -> None:
    with closing(sqlite3.connect(till_path)) as c, c:
        c.execute("UPDATE tenders SET active = 0 WHERE kind = 'paynow'")  # as HQ sends it
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("f9")
        await settle(pilot)
        await pilot.press("f8")  # PayNow, the whole amount
        await settle(pilot)
        assert isinstance(app.screen, PaymentScreen)
        error = text_of(app, "#pay-error")
        assert "does not take PayNow" in error
        assert "Not saved" not in error  # refused on screen, before any checkout
        assert app.screen.tenders == [] and "Due S$3.30" in text_of(app, "#pay-due")
        await pilot.press("f6")  # NETS is taken
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal)
        assert [p.tender for p in app.screen.receipt.payments] == ["nets"]


async def test_storage_failure_keeps_cart_and_tenders(make_app, monkeypatch, till_path) -> None:
    async def full(*args, **kwargs):
        raise StorageError("The till's disk is full. Nothing was saved; free space and try again.")

    monkeypatch.setattr("terminal.ui.screens.payment.finalize_sale", full)
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("f9", "f2")  # quick cash S$10
        await settle(pilot)
        assert isinstance(app.screen, PaymentScreen)
        assert "Not saved: The till's disk is full" in text_of(app, "#pay-error")
        assert any("disk is full" in n for n in notices(app))
        assert len(sale.cart) == 1
    assert await _sales(till_path) == 0


async def test_an_unexpected_failure_while_saving_keeps_the_screen_usable(
    make_app, monkeypatch, till_path, caplog
) -> None:
    """A bug below the services (not a TillError) must not leave "Saving the sale...".

    The tender that completed the sale is taken back, the reason is shown, the error is
    logged with its traceback, and Undo/Esc work again.
    """

    async def broken(*args, **kwargs):
        raise RuntimeError("driver exploded")

    monkeypatch.setattr("terminal.ui.screens.payment.finalize_sale", broken)
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("f9", *"1", "f6", "f2")  # NETS S$1, then quick cash S$10
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PaymentScreen)
        assert not screen.finalizing
        assert [t.kind for t in screen.tenders] == ["nets"]
        assert "Not saved: Something went wrong" in text_of(app, "#pay-error")
        assert "Due S$2.30" in text_of(app, "#pay-due")
        assert any("Not saved" in n for n in notices(app))
        await pilot.press("f12", "enter")  # Undo works again (NETS: confirmed given back)
        await settle(pilot)
        assert screen.tenders == []
        await pilot.press("escape")  # and so does Esc
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen) and len(sale.cart) == 1
    assert any(
        r.exc_info is not None and "driver exploded" in str(r.exc_info[1]) for r in caplog.records
    )
    assert await _sales(till_path) == 0
