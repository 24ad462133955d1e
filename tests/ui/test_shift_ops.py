"""Shift operations through the UI: X report (Ctrl+X), Z report at close (Ctrl+L), cash
in/out (Ctrl+E), no-sale drawer open (Ctrl+D), cancel the sale (Ctrl+K), quit with a
cart (Ctrl+Q). Real till database, real services; the printer is python-escpos's Dummy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from sync.demo_data import demo_products
from terminal.db.engine import open_database
from terminal.db.models import OutboxEvent, ParkedSale, Shift, TillActivity
from terminal.printing.documents import render_shift_report
from terminal.printing.escpos_out import EscposDocuments
from terminal.services.cashiers import MAX_FAILURES
from terminal.ui.screens.approve import ApproveModal
from terminal.ui.screens.cash import CashMoveModal
from terminal.ui.screens.confirm import ConfirmModal
from terminal.ui.screens.login import LoginScreen
from terminal.ui.screens.recall import RecallModal
from terminal.ui.screens.receipt import ReceiptModal
from terminal.ui.screens.reports import XReportScreen, ZReportScreen
from terminal.ui.screens.sale import SaleScreen
from terminal.ui.screens.shift import OpenShiftModal
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import login, notices, scan, settle, text_of

escpos = pytest.importorskip("escpos")
from escpos.constants import CD_KICK_2  # noqa: E402
from escpos.printer import Dummy  # noqa: E402

BARCODES = {p.sku: p.barcode for p in demo_products()}
MANAGER_PIN = "9999"


def dummy_printer() -> tuple[EscposDocuments, Dummy]:
    device = Dummy()
    return EscposDocuments(device), device


async def rows(path: Path, *columns):  # type: ignore[no-untyped-def]
    db = open_database(path)
    try:
        async with db.reader() as s:
            return (await s.execute(select(*columns))).all()
    finally:
        await db.dispose()


async def events(path: Path) -> list[tuple[str, dict[str, object]]]:
    db = open_database(path)
    try:
        async with db.reader() as s:
            got = (
                await s.execute(
                    select(OutboxEvent.type, OutboxEvent.payload).order_by(OutboxEvent.seq)
                )
            ).all()
    finally:
        await db.dispose()
    return [(t, json.loads(p)) for t, p in got]


async def sell_for_cash(pilot, *codes: str, tendered: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Scan, pay cash, close the receipt; return the sale's total and the cash it took
    (the total rounded to 5 cents)."""
    await scan(pilot, *codes)
    await pilot.press("f9", *tendered, "enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReceiptModal), type(screen)
    receipt = screen.receipt
    await pilot.press("enter")
    await settle(pilot)
    return receipt.total_cents, sum(p.amount_cents for p in receipt.payments)


async def test_ctrl_x_shows_the_x_report_of_the_sales_made_and_f12_prints_it(make_app) -> None:
    printer, device = dummy_printer()
    app = make_app(printer=printer)
    async with app.run_test(size=(80, 24)) as pilot:
        sale = await login(pilot, float_text="100")
        first, cash1 = await sell_for_cash(pilot, DEMO_BARCODE, BARCODES["MILO-400"], tendered="50")
        second, cash2 = await sell_for_cash(pilot, BARCODES["RICE-5KG"], tendered="20")
        device._output_list.clear()  # the receipts printed so far
        await pilot.press("ctrl+x")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, XReportScreen)
        r = screen.report
        assert r.kind == "x"
        assert r.sales_count == 2
        assert r.sales_total_cents == r.net_sales_cents == first + second
        assert [(t.tender, t.sales_cents) for t in r.tenders] == [("cash", cash1 + cash2)]
        assert r.rounding_cents == cash1 + cash2 - first - second
        assert r.expected_cash_cents == 100_00 + cash1 + cash2
        assert r.opening_float_cents == 100_00
        assert r.counted_cash_cents is None and r.variance_cents is None
        assert r.first_receipt_no is not None and r.last_receipt_no is not None
        shown = text_of(app, "#report-text")
        assert "X REPORT" in shown
        assert "Sales (2)" in shown and "Expected cash" in shown
        assert f"S${(100_00 + cash1 + cash2) / 100:.2f}" in text_of(app, "#report-cash")
        assert device.output == b""  # an X report prints only on F12
        await pilot.press("f12")
        await settle(pilot)
        assert screen.text.encode("ascii") in device.output
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is sale and app.shift is not None  # nothing was closed


async def test_close_shift_shows_and_prints_the_z_report_then_log_in(make_app, till_path) -> None:
    printer, device = dummy_printer()
    app = make_app(printer=printer)
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot, float_text="100")
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("f4")  # one parked sale is left behind
        await settle(pilot)
        assert await sell_for_cash(pilot, DEMO_BARCODE, tendered="10") == (3_30, 3_30)
        device._output_list.clear()
        await pilot.press("ctrl+l", *"103.20", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ZReportScreen)
        r = screen.report
        assert (r.kind, r.expected_cash_cents, r.counted_cash_cents) == ("z", 103_30, 103_20)
        assert r.variance_cents == -10
        assert r.parked_count == 1
        cash = text_of(app, "#report-cash")
        assert "Expected cash S$103.30" in cash and "Counted S$103.20" in cash
        assert "Variance -0.10" in cash
        assert "1 parked sale left on this till" in text_of(app, "#report-parked")
        printed = device.output  # printed by itself: a printer is set up
        assert screen.text.encode("ascii") in printed
        text = screen.text.splitlines()
        assert any(ln.startswith("Variance") and ln.endswith("-0.10") for ln in text)
        assert any(ln.startswith("PARKED SALES OPEN") for ln in text)
        assert app.shift is None
        assert not any(isinstance(s, SaleScreen) for s in app.screen_stack)
        await pilot.press("f12")  # another copy
        await settle(pilot)
        assert device.output.count(screen.text.encode("ascii")) == 2
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.cashier is None
    [(closed, counted)] = await rows(till_path, Shift.closed_at, Shift.counted_cash_cents)
    assert closed is not None and counted == 103_20
    sent = await events(till_path)
    [z] = [p for t, p in sent if t == "shift.z_report"]
    assert z["variance_cents"] == -10 and z["parked_count"] == 1
    assert app.profile is not None
    assert render_shift_report(r, store_name=app.profile.store.store_name) == screen.text


async def test_z_report_without_a_printer_says_so_on_f12(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await pilot.press("ctrl+l", *"0", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ZReportScreen)
        await pilot.press("f12")
        await settle(pilot)
        assert any("No printer is set up" in n for n in notices(app))
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)


async def test_cash_out_with_a_reason_is_recorded_and_moves_expected_cash(
    make_app, till_path
) -> None:
    printer, device = dummy_printer()
    app = make_app(printer=printer)
    async with app.run_test(size=(80, 24)) as pilot:
        sale = await login(pilot, float_text="100")
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert isinstance(app.screen, CashMoveModal)
        await pilot.press(*"20.00", "enter", "enter")  # no reason: refused, nothing saved
        await settle(pilot)
        assert isinstance(app.screen, CashMoveModal)
        assert "Say what the cash is for" in text_of(app, "#cash-error")
        await pilot.press(*"delivery COD", "enter")
        await settle(pilot)
        assert app.screen is sale
        assert any("Cash out S$20.00 recorded: delivery COD" in n for n in notices(app))
        assert device.output == CD_KICK_2  # the drawer opened for the cash
        await pilot.press("ctrl+e", "f2", *"5", "enter", *"float top-up", "enter")
        await settle(pilot)
        await pilot.press("ctrl+x")
        await settle(pilot)
        r = app.screen.report
        assert (r.cash_out_cents, r.cash_in_cents) == (20_00, 5_00)
        assert r.expected_cash_cents == 100_00 - 20_00 + 5_00
    moved = await rows(till_path, TillActivity.kind, TillActivity.amount_cents, TillActivity.reason)
    assert sorted(moved) == [("cash_in", 5_00, "float top-up"), ("cash_out", 20_00, "delivery COD")]
    sent = [(t, p["kind"], p["amount_cents"]) for t, p in await events(till_path)]
    assert sent == [("cash.movement", "out", 20_00), ("cash.movement", "in", 5_00)]


async def test_no_sale_needs_a_manager_and_kicks_the_drawer(make_app, till_path) -> None:
    printer, device = dummy_printer()
    app = make_app(printer=printer)
    async with app.run_test(size=(80, 24)) as pilot:
        sale = await login(pilot)
        await pilot.press("ctrl+d")  # the service refuses without an approval
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is sale
        assert device.output == b""  # refused: the drawer stays shut
        assert await rows(till_path, TillActivity.kind) == []
        await pilot.press("ctrl+d")
        await settle(pilot)
        await pilot.press(*MANAGER_PIN, "enter")
        await settle(pilot)
        assert app.screen is sale
        assert device.output == CD_KICK_2
        assert any("Drawer opened, no sale" in n for n in notices(app))
    [(kind, approved_by)] = await rows(till_path, TillActivity.kind, TillActivity.approved_by)
    assert kind == "no_sale" and approved_by is not None
    sent = await events(till_path)
    assert [t for t, _ in sent] == ["approval.granted", "cash.movement"]
    assert sent[0][1]["action"] == "no_sale"
    assert sent[1][1]["kind"] == "no_sale"
    assert sent[1][1]["approved_by"] == sent[0][1]["manager_id"]


async def test_a_managers_own_no_sale_is_confirmed_and_audited(make_app, till_path) -> None:
    printer, device = dummy_printer()
    app = make_app(printer=printer)
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot, MANAGER_PIN)
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)  # no PIN for their own, but asked
        await pilot.press("enter")
        await settle(pilot)
        assert device.output == CD_KICK_2
    assert [t for t, _ in await events(till_path)] == ["approval.granted", "cash.movement"]


async def test_cancel_takes_one_approval_records_the_cancel_and_clears_the_cart(
    make_app, till_path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        sale = await login(pilot)
        await scan(pilot, DEMO_BARCODE, BARCODES["MILO-400"], BARCODES["RICE-5KG"])
        totals = sale.pane.totals()
        assert totals is not None
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)  # one PIN for the three lines
        await pilot.press(*MANAGER_PIN, "enter")
        await settle(pilot)
        assert app.screen is sale
        assert sale.cart.entries == []
        assert any("Sale cancelled" in n for n in notices(app))
        await pilot.press("ctrl+x")
        await settle(pilot)
        r = app.screen.report
        assert (r.cancels_count, r.cancels_cents, r.sales_count) == (1, totals.total_cents, 0)
    sent = await events(till_path)
    assert [t for t, _ in sent] == ["approval.granted", "sale.cancelled"]
    cancel = sent[1][1]
    assert cancel["line_count"] == 3 and cancel["total_cents"] == totals.total_cents
    assert cancel["approval_id"] == sent[0][1]["approval_id"]
    [(kind, qty)] = await rows(till_path, TillActivity.kind, TillActivity.qty)
    assert (kind, qty) == ("cancel", 3)


async def test_cancel_on_an_empty_cart_or_backed_out_changes_nothing(make_app, till_path) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        sale = await login(pilot)
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert app.screen is sale
        assert any("nothing to cancel" in n for n in notices(app))
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("ctrl+k")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert [e.product.sku for e in sale.cart.entries] == ["KOPI-001"]
        await scan(pilot, DEMO_BARCODE)  # the till still sells after backing out
        assert sale.cart.entries[0].qty == 2
    assert await events(till_path) == []


async def test_wrong_manager_pins_lock_approvals_not_the_cashiers_log_in(
    make_app, till_path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await pilot.press("ctrl+d")
        await settle(pilot)
        for _ in range(MAX_FAILURES):
            await pilot.press(*"1111", "enter")
            await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
        assert "locked" in text_of(app, "#approve-error").lower()
        await pilot.press(*MANAGER_PIN, "enter")  # locked: even the right PIN waits
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
        await pilot.press("escape", "ctrl+l", *"0", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ZReportScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        await pilot.press(*"1234", "enter")  # the cashier's own log-in still works
        await settle(pilot)
        assert isinstance(app.screen, OpenShiftModal)
        assert app.cashier is not None and app.cashier.name
    assert await rows(till_path, TillActivity.kind) == []
    refused = [p for t, p in await events(till_path) if t == "approval.refused"]
    assert len(refused) == MAX_FAILURES + 1 and refused[-1]["locked"] is True


async def test_quit_with_a_cart_asks_then_parks_it_for_the_next_session(
    make_app, till_path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        sale = await login(pilot)
        await scan(pilot, DEMO_BARCODE, BARCODES["MILO-400"])
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("escape")  # stay
        await settle(pilot)
        assert app.screen is sale and len(sale.cart) == 2
        await pilot.press("ctrl+q")
        await settle(pilot)
        await pilot.press("enter")  # park it and quit
        await settle(pilot)
        assert app._exit  # the app is on its way out
    assert len(await rows(till_path, ParkedSale.id)) == 1

    again = make_app()
    async with again.run_test(size=(80, 24)) as pilot:
        sale = await login(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(again.screen, RecallModal)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(again.screen, SaleScreen)
        assert [(e.product.sku, e.qty) for e in sale.cart.entries] == [
            ("KOPI-001", 1),
            ("MILO-400", 1),
        ]


async def test_quit_with_an_empty_cart_quits_at_once(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert app._exit
    assert not any(isinstance(s, ConfirmModal) for s in app.screen_stack)


class _PaperOut:
    """An ESC/POS device that fails on every write (python-escpos raises many types)."""

    def text(self, _: str) -> None:
        raise OSError("paper out")

    def cashdraw(self, _: int) -> None:
        raise OSError("drawer jammed")


async def test_a_failing_printer_never_blocks_closing_the_shift(make_app, till_path) -> None:
    app = make_app(printer=EscposDocuments(_PaperOut()))
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await pilot.press("ctrl+l", *"0", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ZReportScreen)  # closed and shown all the same
        assert any("Not printed" in n and "paper out" in n for n in notices(app))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
    [(closed,)] = await rows(till_path, Shift.closed_at)
    assert closed is not None


async def test_cancel_without_an_approval_policy_is_confirmed_once(make_app, till_path) -> None:
    """HQ's limits say a cashier may cancel alone: a plain confirm, no PIN, no approval."""
    from sqlalchemy import update

    from terminal.db.models import StoreSettings

    db = open_database(till_path)
    async with db.writer() as s, s.begin():
        await s.execute(update(StoreSettings).values(approval_limits=json.dumps({"cancel": False})))
    await db.dispose()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        sale = await login(pilot)
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is sale and sale.cart.entries == []
    sent = await events(till_path)
    assert [t for t, _ in sent] == ["sale.cancelled"]
    assert sent[0][1]["approved_by"] is None
