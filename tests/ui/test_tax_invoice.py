"""The full tax invoice after a sale: F7 names the customer and their address on it; a
simplified invoice does not offer F7."""

from __future__ import annotations

from sync.demo_data import demo_products
from terminal.ui.screens.prompt import PromptModal
from terminal.ui.screens.receipt import ReceiptModal
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import login, notices, scan, settle, text_of

BARCODES = {p.sku: p.barcode for p in demo_products()}


async def test_a_mixed_sale_prints_a_full_invoice_with_the_customer_typed(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        await scan(pilot, DEMO_BARCODE, BARCODES["STAMP-10"])  # SR and ES: a full invoice
        await pilot.press("f9", "f1")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal), notices(app)
        assert app.screen.full_invoice
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(app.screen, PromptModal)
        await pilot.press(*"Tan Trading [Pte] Ltd", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PromptModal)
        await pilot.press(*"8 Jurong Port Rd, Singapore 619092", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal)
        text = text_of(app, "#receipt-text")
        assert "TAX INVOICE" in text and "SIMPLIFIED" not in text
        assert "Tan Trading [Pte] Ltd" in text
        assert "8 Jurong Port Rd, Singapore" in text
        assert "ES" in text  # each line's tax code is marked


async def test_a_simplified_invoice_does_not_offer_f7(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("f9", "f1")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal) and not app.screen.full_invoice
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal)
        assert "Customer" not in text_of(app, "#receipt-text")
