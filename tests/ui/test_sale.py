"""The sale screen: scan, errors that keep the cart, quantity, void, discount, search."""

from __future__ import annotations

import json

from sqlalchemy import select
from textual.widgets._toast import Toast, ToastRack

from sync.demo_data import demo_products
from terminal.db.engine import open_database
from terminal.db.models import OutboxEvent
from terminal.ui.screens.approve import ApproveModal
from terminal.ui.screens.confirm import ConfirmModal
from terminal.ui.screens.customer import CustomerModal
from terminal.ui.screens.payment import PaymentScreen
from terminal.ui.screens.search import SearchModal
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import burst, login, notices, scan, settle, text_of

BARCODES = {p.sku: p.barcode for p in demo_products()}


async def test_scan_adds_a_line_and_the_totals_show_gst(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, DEMO_BARCODE)
        assert [(e.product.name, e.qty) for e in sale.cart.entries] == [("Kopi-O Powder 500g", 1)]
        totals = text_of(app, "#totals")
        assert "3.30" in totals and "GST 9% incl" in totals and "0.27" in totals
        await scan(pilot, DEMO_BARCODE, "milo-400")  # a repeat bumps qty; SKU works too
        assert [(e.product.sku, e.qty) for e in sale.cart.entries] == [
            ("KOPI-001", 2),
            ("MILO-400", 1),
        ]


async def test_unknown_barcode_is_an_error_and_the_cart_stays(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, DEMO_BARCODE, "4006381333931")
        assert len(sale.cart) == 1
        assert any("Unknown barcode or SKU '4006381333931'" in n for n in notices(app))
        await scan(pilot, "0*" + DEMO_BARCODE)
        assert any("Quantity" in n and "not allowed" in n for n in notices(app))
        await scan(pilot, "3*" + BARCODES["MILO-400"])
        assert [e.qty for e in sale.cart.entries] == [1, 3]


async def test_quantity_change_and_bad_quantity(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("f6", *"4", "enter")
        await settle(pilot)
        assert sale.cart.entries[0].qty == 4
        assert "13.20" in text_of(app, "#totals")
        await pilot.press("f6", *"two", "enter")
        await settle(pilot)
        assert sale.cart.entries[0].qty == 4
        assert any("'two' is not a quantity" in n for n in notices(app))


async def test_line_void_needs_a_manager_pin_and_is_audited(make_app, till_path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, DEMO_BARCODE, BARCODES["MILO-400"])
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
        await pilot.press(*"1234", "enter")  # a cashier's PIN does not approve
        await settle(pilot)
        assert "not a manager's PIN" in text_of(app, "#approve-error")
        await pilot.press(*"9999", "enter")
        await settle(pilot)
        assert [e.product.sku for e in sale.cart.entries] == ["KOPI-001"]
        assert "3.30" in text_of(app, "#totals")
    db = open_database(till_path)
    async with db.reader() as s:
        types = (await s.execute(select(OutboxEvent.type))).scalars().all()
    await db.dispose()
    # the wrong PIN is audited too, and the void itself goes to HQ and the shift's report
    assert types == ["approval.refused", "approval.granted", "line.voided"]


async def test_line_discount_small_is_free_large_needs_approval(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, BARCODES["RICE-5KG"])  # 13.95
        await pilot.press("f7", *"10%", "enter")
        await settle(pilot)
        assert sale.cart.entries[0].discount_cents == 140
        assert "12.55" in text_of(app, "#totals")
        await pilot.press("f7", *"5.00", "enter")  # 36%: over the 20% limit
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
        await pilot.press("escape")
        await settle(pilot)
        assert sale.cart.entries[0].discount_cents == 140
        await pilot.press("f7", *"20.00", "enter")  # more than the line
        await settle(pilot)
        assert any("more than the line amount" in n for n in notices(app))
        assert sale.cart.entries[0].discount_cents == 140


async def test_f2_search_by_name_adds_the_chosen_product(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, SearchModal)
        await pilot.press(*"sauce")
        await settle(pilot)
        assert [p.sku for p in app.screen.results] == ["SOY-SAUCE", "OYSTER"]
        await pilot.press("down", "enter")
        await settle(pilot)
        assert [e.product.sku for e in sale.cart.entries] == ["OYSTER"]


async def test_a_managers_own_void_and_discount_are_audited(make_app, till_path) -> None:
    """No PIN prompt for a manager, but each approval is still an event for HQ."""
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot, "9999")  # Mr Tan, manager
        manager = app.cashier
        assert manager is not None and manager.role == "manager"
        await scan(pilot, DEMO_BARCODE, BARCODES["RICE-5KG"])
        await pilot.press("f7", *"5.00", "enter")  # 36% of 13.95: over the limit
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)  # no PIN, but asked once
        await pilot.press("enter")
        await settle(pilot)
        assert sale.cart.entries[1].discount_cents == 500
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("enter")
        await settle(pilot)
        assert [e.product.sku for e in sale.cart.entries] == ["KOPI-001"]
    db = open_database(till_path)
    async with db.reader() as s:
        rows = (
            await s.execute(select(OutboxEvent.type, OutboxEvent.payload).order_by(OutboxEvent.seq))
        ).all()
    await db.dispose()
    assert [r.type for r in rows] == ["approval.granted", "approval.granted", "line.voided"]
    payloads = [json.loads(r.payload) for r in rows[:2]]
    assert [p["action"] for p in payloads] == ["discount", "void"]
    assert all(p["manager_id"] == p["cashier_id"] == str(manager.id) for p in payloads)


async def test_escape_while_the_manager_pin_is_checked_is_ignored(make_app, till_path) -> None:
    """PIN + Enter + Esc at once: the approval must not be recorded for a void not done."""
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, DEMO_BARCODE, BARCODES["MILO-400"])
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
        burst(app, *"9999", "enter", "escape")
        for _ in range(20):
            await pilot.pause(0.05)
        await settle(pilot)
        assert not isinstance(app.screen, ApproveModal)
        assert [e.product.sku for e in sale.cart.entries] == ["KOPI-001"]  # the void happened
    db = open_database(till_path)
    async with db.reader() as s:
        types = (await s.execute(select(OutboxEvent.type))).scalars().all()
    await db.dispose()
    assert types == ["approval.granted", "line.voided"]  # exactly the approval acted on


async def test_f2_enter_typed_before_the_search_finishes_adds_the_right_product(
    make_app,
) -> None:
    """Name + Enter at once: Enter must not take a result of the text typed so far."""
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("m")  # results for "m" on screen: Oranges highlighted
        await settle(pilot)
        assert app.screen.results[0].sku != "MILK-1L"
        burst(app, *"ilk", "enter")
        for _ in range(50):
            await settle(pilot)
            if not isinstance(app.screen, SearchModal):
                break
        assert [e.product.sku for e in sale.cart.entries] == ["MILK-1L"]


async def test_an_approved_discount_reaches_the_checkout_which_checks_it(make_app) -> None:
    """The manager's approval travels with its line: the checkout, which refuses an
    over-limit discount without one, saves this sale and records the approval on it."""
    from terminal.ui.screens.receipt import ReceiptModal

    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, BARCODES["RICE-5KG"])  # 13.95
        await pilot.press("f7", *"5.00", "enter")  # 36%: over the 20% limit
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
        await pilot.press(*"9999", "enter")
        await settle(pilot)
        entry = sale.cart.entries[0]
        assert entry.discount_cents == 500 and entry.approval is not None
        await pilot.press("f9", "f1")  # pay, exact cash
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal), notices(app)
        assert app.screen.receipt.total_cents == 895


async def test_one_notice_at_a_time_and_over_a_dialog_at_the_top(make_app) -> None:
    """At 80x24 three stacked notices covered half the screen and the next dialog's input;
    one left from the sale screen covered the payment dialog's keys."""
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await login(pilot)
        burst(app, *"111", "enter", *"222", "enter", *"333", "enter")
        await settle(pilot)
        assert notices(app) == [
            "Unknown barcode or SKU '333': check the item or search by name (F2)."
        ]
        assert "'333'" in text_of(app, "#message")  # what must be read stays on screen
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, CustomerModal) and len(notices(app)) == 1
        await pilot.press("escape")
        await scan(pilot, DEMO_BARCODE, "444")
        await pilot.press("f9")  # the payment dialog fills most of 24 lines
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, PaymentScreen) and len(notices(app)) == 1
        toasts = [t.region for t in dialog.get_child_by_type(ToastRack).query(Toast)]
        assert toasts, "the notice shows over the dialog too"
        for part in dialog.query("#amount, .dialog-hint, #pay-error"):
            assert not any(t.overlaps(part.region) for t in toasts), part
