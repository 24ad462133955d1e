"""The sale-level discount limit on the sale screen: asked the moment it is crossed.

Line discounts each within the line limit can add up past the store's limit for the
whole sale; the checkout refuses that without a manager's sale-wide approval, so the
screen asks for it at the edit that crosses it (and again if the discounts grow past
what was approved), rather than at payment.
"""

from __future__ import annotations

from sync.demo_data import demo_products
from terminal.ui.screens.approve import ApproveModal
from terminal.ui.screens.receipt import ReceiptModal
from tests.ui.helpers import login, notices, scan, settle, text_of
from tests.ui.test_line_ops import outbox, set_limits

BARCODES = {p.sku: p.barcode for p in demo_products()}


async def test_a_sale_discount_over_the_limit_asks_for_the_manager(make_app, till_path) -> None:
    set_limits(till_path, sale_discount_cents=500)  # S$5 a sale; lines keep 20% / S$20
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, "3*" + BARCODES["RICE-5KG"])  # 41.85
        await pilot.press("f7", *"15%", "enter")  # 6.28: fine for the line, not the sale
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal) and app.screen.action_name == "discount"
        assert "the sale's discounts S$6.28 (over the sale limit)" in text_of(app, "#approve-what")
        await pilot.press("escape")  # not approved: nothing changes
        await settle(pilot)
        assert sale.cart.entries[0].discount_cents == 0 and sale.cart.sale_approval is None

        await pilot.press("f7", *"15%", "enter", *"9999", "enter")
        await settle(pilot)
        assert sale.cart.entries[0].discount_cents == 628
        assert sale.cart.sale_approval is not None and sale.cart.entries[0].approval is None

        await scan(pilot, BARCODES["KOPI-001"])  # 3.30: more sold, no more discount
        assert not isinstance(app.screen, ApproveModal)
        await pilot.press("f7", *"0.30", "enter")  # 6.58 in all: more than was approved
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
        assert "S$6.58" in text_of(app, "#approve-what")
        await pilot.press(*"9999", "enter")
        await settle(pilot)
        assert [e.discount_cents for e in sale.cart.entries] == [628, 30]

        await pilot.press("f9", "f1")  # the checkout takes the sale-wide approval
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal), notices(app)
    events = outbox(till_path)
    granted = [p for t, p in events if t == "approval.granted"]
    assert [g["action"] for g in granted] == ["discount", "discount"]
    (sold,) = [p for t, p in events if t == "sale.completed"]
    assert sold["discount_cents"] == 658


async def test_a_parked_cart_keeps_its_sale_wide_approval(make_app, till_path) -> None:
    set_limits(till_path, sale_discount_cents=500)
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, "3*" + BARCODES["RICE-5KG"])
        await pilot.press("f7", *"15%", "enter", *"9999", "enter")  # approved sale-wide
        await settle(pilot)
        assert sale.cart.sale_approval is not None
        await pilot.press("f4")  # park
        await settle(pilot)
        assert not sale.cart.entries and sale.cart.sale_approval is None
        await pilot.press("f5", "enter")  # recall the only parked sale
        await settle(pilot)
        assert sale.cart.entries[0].discount_cents == 628
        assert sale.cart.sale_approval is not None and sale.cart.sale_discount_approved == 628
        await pilot.press("f9", "f1")  # no manager asked again; the checkout takes it
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal), notices(app)
    (sold,) = [p for t, p in outbox(till_path) if t == "sale.completed"]
    assert sold["discount_cents"] == 628
