"""Line operations on the sale screen: the store's limits, voids on record, price override."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from sync.demo_data import demo_products
from terminal.db.engine import open_database
from terminal.services.shift_report import build_report
from terminal.ui.screens.age_check import AgeCheckModal
from terminal.ui.screens.approve import ApproveModal
from terminal.ui.screens.payment import PaymentScreen
from terminal.ui.screens.prompt import PromptModal
from terminal.ui.screens.receipt import ReceiptModal
from tests.ui.helpers import login, notices, scan, settle, text_of

BARCODES = {p.sku: p.barcode for p in demo_products()}


def set_limits(path: Path, **limits: object) -> None:
    """The store settings HQ sent: these approval limits (the rest at their defaults)."""
    with closing(sqlite3.connect(path)) as c, c:
        c.execute("UPDATE store_settings SET approval_limits = ?", (json.dumps(limits),))


def outbox(path: Path) -> list[tuple[str, dict[str, object]]]:
    with closing(sqlite3.connect(path)) as c:
        rows = c.execute("SELECT type, payload FROM outbox ORDER BY seq").fetchall()
    return [(t, json.loads(p)) for t, p in rows]


async def test_a_lower_store_limit_makes_the_ui_ask_where_the_default_would_not(
    make_app, till_path
) -> None:
    set_limits(till_path, line_discount_bp=500, qty_decrease=False)
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        assert sale.pane.limits.line_discount_bp == 500
        await scan(pilot, "3*" + BARCODES["RICE-5KG"])  # 41.85
        await pilot.press("f7", *"10%", "enter")  # free by default, over this store's 5%
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
        await pilot.press("escape")
        await settle(pilot)
        assert sale.cart.entries[0].discount_cents == 0
        await pilot.press("f6", *"2", "enter")  # this store lets a cashier lower a quantity
        await settle(pilot)
        assert not isinstance(app.screen, ApproveModal)
        assert sale.cart.entries[0].qty == 2
    events = outbox(till_path)
    assert [t for t, _ in events] == ["line.voided"]
    assert events[0][1]["qty"] == 1 and events[0][1]["approved_by"] is None


async def test_a_void_is_on_record_and_the_shift_report_counts_it(make_app, till_path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, BARCODES["KOPI-001"], "2*" + BARCODES["MILO-400"])
        await pilot.press("f8", *"9999", "enter")  # void MILO x2 with the manager's PIN
        await settle(pilot)
        assert [e.product.sku for e in sale.cart.entries] == ["KOPI-001"]
        await scan(pilot, "4*" + BARCODES["EGGS-10"])
        await pilot.press("f6", *"1", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
        await pilot.press(*"9999", "enter")
        await settle(pilot)
        assert [e.qty for e in sale.cart.entries] == [1, 1]
        assert app.shift is not None
        shift_id = app.shift.id
    voids = [p for t, p in outbox(till_path) if t == "line.voided"]
    assert [(v["sku"], v["qty"], v["amount_cents"]) for v in voids] == [
        ("MILO-400", 2, 1578),
        ("EGGS-10", 3, 1095),
    ]
    granted = [p for t, p in outbox(till_path) if t == "approval.granted"]
    manager = granted[0]["manager_id"]
    assert all(v["approved_by"] == manager and v["shift_id"] == str(shift_id) for v in voids)
    db = open_database(till_path)
    try:
        async with db.reader() as s:
            report = await build_report(s, shift_id, kind="x")
    finally:
        await db.dispose()
    assert (report.voids_count, report.voids_cents) == (2, 1578 + 1095)


async def test_a_quantity_decrease_without_approval_is_refused(make_app, till_path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, "3*" + BARCODES["KOPI-001"])
        await pilot.press("f6", *"1", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
        await pilot.press(*"1234", "enter")  # the cashier's own PIN approves nothing
        await settle(pilot)
        assert "not a manager's PIN" in text_of(app, "#approve-error")
        await pilot.press("escape")
        await settle(pilot)
        assert [e.qty for e in sale.cart.entries] == [3]
        assert "9.90" in text_of(app, "#totals")
    assert [t for t, _ in outbox(till_path)] == ["approval.refused"]


async def test_a_discount_over_the_limit_after_f6_is_asked_again(make_app, till_path) -> None:
    """10% at quantity 5 needs nobody; at quantity 1 it is 50%: the manager approves the
    lower quantity and, separately, the discount the line now carries, or nothing changes."""
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, "5*" + BARCODES["RICE-5KG"])  # 69.75
        await pilot.press("f7", *"10%", "enter")
        await settle(pilot)
        assert sale.cart.entries[0].discount_cents == 698
        await pilot.press("f6", *"1", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal) and app.screen.action_name == "qty_decrease"
        await pilot.press(*"9999", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal) and app.screen.action_name == "discount"
        assert "quantity 5 -> 1, discount S$6.98 stays" in text_of(app, "#approve-what")
        await pilot.press("escape")  # the discount is not approved: nothing changes
        await settle(pilot)
        entry = sale.cart.entries[0]
        assert (entry.qty, entry.discount_cents, entry.approval) == (5, 698, None)
        assert "line.voided" not in [t for t, _ in outbox(till_path)]

        await pilot.press("f6", *"1", "enter", *"9999", "enter")
        await settle(pilot)
        await pilot.press(*"9999", "enter")
        await settle(pilot)
        entry = sale.cart.entries[0]
        assert (entry.qty, entry.discount_cents) == (1, 698)
        assert entry.approval is not None and entry.approval.action == "discount"
        await pilot.press("f9", "f1")  # the checkout checks the same rule and accepts it
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal), notices(app)
        assert app.screen.receipt.total_cents == 1395 - 698
    assert [t for t, _ in outbox(till_path)].count("line.voided") == 1


async def test_a_price_override_needs_a_manager_and_shows_on_the_line(make_app, till_path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, "2*" + BARCODES["MILO-400"])  # 2 x 7.89
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, PromptModal)
        await pilot.press(*"6.50", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal) and app.screen.action_name == "price_override"
        await pilot.press("escape")
        await settle(pilot)
        assert sale.cart.entries[0].override_cents is None
        assert "15.78" in text_of(app, "#totals")

        await pilot.press("ctrl+p", *"6.50", "enter", *"9999", "enter")
        await settle(pilot)
        entry = sale.cart.entries[0]
        assert entry.override_cents == 650 and entry.override_approval is not None
        assert "13.00" in text_of(app, "#totals")
        row = [str(c) for c in app.screen.query_one("#cart").get_row_at(0)]
        assert any(c.endswith("@6.50*") for c in row)  # the override is marked on the line
        await pilot.press("f9", "f1")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal), notices(app)
        line = app.screen.receipt.lines[0]
        assert (line.unit_price_cents, line.total_cents) == (650, 1300)
    sold = [p for t, p in outbox(till_path) if t == "sale.completed"]
    assert sold[0]["lines"][0]["unit_price_cents"] == 650
    granted = [p for t, p in outbox(till_path) if t == "approval.granted"]
    assert [g["action"] for g in granted] == ["price_override"]


async def test_a_void_the_service_refuses_puts_the_line_back(make_app, till_path) -> None:
    """The screen judged by limits HQ has since tightened: the service that writes
    refuses the void, so the line comes back and nothing is on record."""
    set_limits(till_path, void=False)
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, BARCODES["KOPI-001"], BARCODES["MILO-400"])
        set_limits(till_path)  # a pull brought stricter settings; the screen has not re-read
        await pilot.press("f8")
        await settle(pilot)
        assert not isinstance(app.screen, ApproveModal)
        assert [e.product.sku for e in sale.cart.entries] == ["KOPI-001", "MILO-400"]
        assert any("manager's approval is needed" in n for n in notices(app))
        assert "11.19" in text_of(app, "#totals")
    assert outbox(till_path) == []


async def _attach(pilot, phone: str) -> None:
    await pilot.press("f3", *phone)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def test_points_pay_part_of_a_sale_with_the_balance_before_and_after(
    make_app, till_path
) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        await scan(pilot, BARCODES["RICE-5KG"])  # 13.95
        await _attach(pilot, "81112222")  # Priya Nair, 300 points (1 point = 1 cent)
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, PaymentScreen)
        assert "300 pts" in text_of(app, "#pay-member")
        await pilot.press(*"2.50", "f5")
        await settle(pilot)
        assert "300 pts, 250 used, 50 left" in text_of(app, "#pay-member")
        assert "Due S$11.45" in text_of(app, "#pay-due")
        await pilot.press("f5")  # no amount: what is left of the points
        await settle(pilot)
        assert "300 pts, 300 used, 0 left" in text_of(app, "#pay-member")
        await pilot.press("f5")
        await settle(pilot)
        assert "has no points left" in text_of(app, "#pay-error")
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal), notices(app)
        receipt = app.screen.receipt
        assert [(p.tender, p.amount_cents) for p in receipt.payments] == [
            ("points", 250),
            ("points", 50),
            ("cash", 1095),
        ]
        assert (receipt.points_redeemed, receipt.points_earned) == (300, 10)
        assert receipt.points_balance == 10
        text = text_of(app, "#receipt-text")
        assert "Points before" in text and "300" in text and "Points redeemed" in text
    sold = [p for t, p in outbox(till_path) if t == "sale.completed"]
    assert sorted(d["points"] for d in sold[0]["loyalty"]) == [-300, 10]


async def test_points_are_refused_over_the_balance_and_without_a_member(
    make_app, till_path
) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        await scan(pilot, BARCODES["RICE-5KG"])
        await pilot.press("f9")
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert "No member on this sale" in text_of(app, "#pay-error")
        await pilot.press("escape")
        await settle(pilot)
        await _attach(pilot, "87776666")  # Siti Nurhaliza, 15 points
        await pilot.press("f9")
        await settle(pilot)
        await pilot.press(*"0.20", "f5")
        await settle(pilot)
        error = text_of(app, "#pay-error")
        assert "needs 20 points" in error and "has 15" in error
        assert app.screen.tenders == []
        assert "Due S$13.95" in text_of(app, "#pay-due")
    assert [t for t, _ in outbox(till_path)] == []


async def test_points_that_are_not_a_whole_number_of_points_are_refused(
    make_app, till_path
) -> None:
    with closing(sqlite3.connect(till_path)) as c, c:
        c.execute("UPDATE store_settings SET loyalty_point_value_cents = 5")  # 20 pts = S$1
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        await scan(pilot, BARCODES["RICE-5KG"])  # 13.95
        await _attach(pilot, "81112222")  # Priya Nair, 300 points = S$15.00
        await pilot.press("f9")
        await settle(pilot)
        assert "F5: points" in text_of(app, ".dialog-hint")
        await pilot.press(*"1.02", "f5")
        await settle(pilot)
        assert "not a whole number of points" in text_of(app, "#pay-error")
        assert app.screen.tenders == []
        await pilot.press("f5")  # all the sale: 13.95 is 279 points, no rounding needed
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal), notices(app)
        receipt = app.screen.receipt
        assert (receipt.points_redeemed, receipt.points_balance) == (279, 21)


async def test_an_age_restricted_item_asks_and_esc_leaves_the_cart_unchanged(
    make_app, till_path
) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, BARCODES["KOPI-001"], BARCODES["BEER-6"])
        assert isinstance(app.screen, AgeCheckModal)
        assert "21 for tobacco and vaping, 18 for alcohol" in text_of(app, "#confirm-question")
        await pilot.press("escape")
        await settle(pilot)
        assert [e.product.sku for e in sale.cart.entries] == ["KOPI-001"]
        assert "3.30" in text_of(app, "#totals")
        assert any("age not confirmed" in n for n in notices(app))

        await scan(pilot, BARCODES["BEER-6"])
        assert isinstance(app.screen, AgeCheckModal)
        await pilot.press(*BARCODES["MILO-400"], "enter")  # a scan is not an answer
        await settle(pilot)
        assert isinstance(app.screen, AgeCheckModal)
        assert "A scan came in" in text_of(app, "#confirm-question")
        await pilot.press("enter")
        await settle(pilot)
        assert [(e.product.sku, e.age_checked) for e in sale.cart.entries] == [
            ("KOPI-001", False),
            ("BEER-6", True),
        ]
        await scan(pilot, BARCODES["CIGAR-PK"])  # the age is confirmed once per sale
        assert not isinstance(app.screen, AgeCheckModal)
        assert sale.cart.entries[-1].age_checked
        assert any(c.endswith(" ID") for c in app.screen.query_one("#cart").get_row_at(1))
        await pilot.press("f9", "f1")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal), notices(app)
        await pilot.press("enter")
        await settle(pilot)
        await scan(pilot, BARCODES["BEER-6"])  # a new sale asks again
        assert isinstance(app.screen, AgeCheckModal)


async def test_new_store_limits_after_a_sync_are_used_at_once(make_app, till_path) -> None:
    """Settings HQ sends arrive by a pull; the next successful sync makes the screen
    read the limits again, so it asks where the checkout would now refuse."""
    from datetime import UTC, datetime

    from tests.ui.test_sync_view import FakeAgent

    agent = FakeAgent()
    app = make_app(agent=agent)
    async with app.run_test() as pilot:
        sale = await login(pilot)
        assert sale.pane.limits.line_discount_bp == 2_000
        set_limits(till_path, line_discount_bp=500)  # what the pull wrote
        agent.publish(last_success_at=datetime(2025, 3, 14, 4, 31, tzinfo=UTC))
        await settle(pilot)
        assert sale.pane.limits.line_discount_bp == 500
        await scan(pilot, BARCODES["RICE-5KG"])
        await pilot.press("f7", *"10%", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
