"""At 80x24, the smallest screen the till must be usable on, the footer shows every key
a cashier needs on each screen (a key cut off at the right edge might as well not exist).
"""

from __future__ import annotations

import pytest
from textual.app import App
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from sync.demo_data import demo_products
from terminal.ui.screens.payment import PaymentScreen
from terminal.ui.screens.receipt import ReceiptModal
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import login, scan, settle, text_of

BARCODES = {p.sku: p.barcode for p in demo_products()}


def visible_footer(app: App) -> str:
    """The footer's keys as 'key description' pairs; every one must fit on screen."""
    width = app.size.width
    footer = app.screen.query_one(Footer)
    shown = []
    for item in footer.query(FooterKey):
        region = item.region
        assert region.width and region.right <= width, f"cut off: {item.key_display}"
        shown.append(f"{item.key_display} {item.description}")
    return "  ".join(shown)


SALE_KEYS = ["f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "esc"]
PAYMENT_KEYS = ["esc", "f2", "f3", "f4", "f6", "f7", "f8", "f10", "f12"]  # F1 = Enter


@pytest.mark.parametrize("size", [(80, 24)])
async def test_every_cashier_key_is_visible_at_80_columns(make_app, size) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await login(pilot)
        await scan(pilot, DEMO_BARCODE)
        text = visible_footer(app)
        for key in SALE_KEYS:
            assert f"{key} " in text + " ", (key, text)
        more = text_of(app, "#more-keys")  # the rarer keys, in the side pane
        assert "F12 Reprint" in more and "F10 Sync" in more and "Ctrl+L" in more
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, PaymentScreen)
        text = visible_footer(app)
        for key in PAYMENT_KEYS:
            assert f"{key} " in text + " ", (key, text)
        assert "f12 Undo" in text
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal)
        text = visible_footer(app)
        assert "⏎ New sale" in text, text  # Enter
        assert "f12 Print" in text, text
