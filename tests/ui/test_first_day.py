"""What a cashier and a manager tripped over on the till's first day (one test per item).

Each test drives the real till (Pilot, a real SQLite file) the way they did.
"""

from __future__ import annotations

import httpx
import pytest
import stamina
from rich.color import Color
from sqlalchemy import select

from sync.agent import AgentState, SyncAgent
from sync.demo_data import demo_products
from sync.protocol import WhoAmI
from terminal.db.engine import open_database
from terminal.db.models import Shift
from terminal.services import sync_store
from terminal.services.sync_store import TillSyncStore
from terminal.ui.screens.approve import ApproveModal
from terminal.ui.screens.confirm import ConfirmModal
from terminal.ui.screens.login import LoginScreen
from terminal.ui.screens.new_customer import NewCustomerModal
from terminal.ui.screens.payment import PaymentScreen
from terminal.ui.screens.recall import RecallModal
from terminal.ui.screens.receipt import ReceiptModal
from terminal.ui.screens.shift import CloseShiftModal, OpenShiftModal
from terminal.ui.widgets.cart.cart_table import CartTable
from terminal.ui.widgets.header.till_header import TillHeader
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import login, scan, settle, text_of

BARCODES = {p.sku: p.barcode for p in demo_products()}


def _screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """Every character on screen, line by line (what the cashier can read)."""
    from textual.strip import Strip

    lines: list[Strip] = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in lines)


# 1 ----------------------------------------------------------------------------------


async def test_1_escape_at_the_opening_float_goes_back_to_login(make_app, till_path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press(*"1234", "enter")
        await settle(pilot)
        assert isinstance(app.screen, OpenShiftModal)
        assert "Esc: back to log-in" in _screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.cashier is None and app.shift is None
    db = open_database(till_path)
    async with db.reader() as s:
        assert (await s.execute(select(Shift.id))).all() == []  # no S$0.00 shift opened
    await db.dispose()


# 2 ----------------------------------------------------------------------------------


async def test_2_escape_never_drops_a_nets_tender_silently(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("f9", *"1", "f6")  # NETS S$1.00 taken
        await settle(pilot)
        payment = app.screen
        assert isinstance(payment, PaymentScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "NETS S$1.00 was already paid" in _screen_text(app)
        await pilot.press("escape")  # keep it
        await settle(pilot)
        assert app.screen is payment and [t.kind for t in payment.tenders] == ["nets"]
        assert "NETS" in text_of(app, "#pay-tenders")
        await pilot.press("escape", "enter")  # given back: now it may go
        await settle(pilot)
        assert not isinstance(app.screen, PaymentScreen)
        await pilot.press("f9", *"1", "enter")  # S$1.00 cash handed over: Esc asks too
        await settle(pilot)
        payment = app.screen
        assert isinstance(payment, PaymentScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "S$1.00 cash was handed over. Give it back first" in _screen_text(app)
        await pilot.press("escape")  # keep it
        await settle(pilot)
        assert app.screen is payment and [t.kind for t in payment.tenders] == ["cash"]


# 3 ----------------------------------------------------------------------------------


async def test_3_new_member_without_a_name_puts_the_cursor_in_the_name(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        await pilot.press("f3", "ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, NewCustomerModal)
        await pilot.press("enter", *"91110000", "enter")  # no name typed
        await settle(pilot)
        assert text_of(app, "#new-error") == "Type the customer's name."
        assert app.screen.focused is app.screen.query_one("#new-name")
        await pilot.press(*"Siti Nur")  # types the name; the phone is kept
        assert app.screen.query_one("#new-phone").value == "91110000"
        assert app.screen.query_one("#new-name").value == "Siti Nur"


# 4 ----------------------------------------------------------------------------------


class _DownHq(SyncAgent):
    """The real agent against an HQ that refuses connections; its loop is not run (the
    test drives cycles itself, so no worker runs for ever)."""

    async def run(self) -> None:
        await self.refresh()


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


async def test_4_pending_moves_with_each_sale_and_offline_shows_on_failure(
    make_app, till_path
) -> None:
    db = open_database(till_path)
    who = WhoAmI(terminal_id="DEMO-T01", outlet_code="DEMO", terminal_code="T01", contiguous_seq=0)
    await sync_store.enroll_till(db, hq_url="http://hq.test", token="t" * 43, who=who)
    agent = _DownHq(TillSyncStore(db), transport=httpx.MockTransport(_refuse))
    app = make_app(agent=agent)
    try:
        with stamina.set_testing(True, attempts=1):
            async with app.run_test() as pilot:
                await login(pilot)
                assert text_of(app, "#hdr-sync") == "sync: connecting 0 pending"
                for n in (1, 2):  # each sale shows at once: a local fact
                    await scan(pilot, DEMO_BARCODE)
                    await pilot.press("f9", "f1")
                    await settle(pilot)
                    assert isinstance(app.screen, ReceiptModal)
                    await pilot.press("enter")
                    await settle(pilot)
                    assert text_of(app, "#hdr-sync").endswith(f" {n} pending")
                with pytest.raises(Exception, match="connect|refused|reach"):
                    await agent.sync_once()  # the push the nudge asked for fails
                await pilot.pause()
                assert text_of(app, "#hdr-sync") == "OFFLINE 2 pending"
                assert app.screen.query_one("#hdr-sync").has_class("offline")
    finally:
        await agent.aclose()
        await db.dispose()


# 7 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_7_dialog_text_wraps_instead_of_being_cut(make_app, size) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await login(pilot)
        await scan(pilot, BARCODES["RICE-5KG"])
        await pilot.press("f7")
        await settle(pilot)
        text = " ".join(_screen_text(app).split())
        assert "or a percent of the line (e.g. 10%)" in text, text
        await pilot.press(*"50%", "enter")  # over the limit: a manager's PIN
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
        await pilot.press(*"1111", "enter")
        await settle(pilot)
        text = " ".join(_screen_text(app).split())
        assert "(4 tries left before lockout)" in text, text


# 8, 9 -------------------------------------------------------------------------------


async def test_8_9_approval_in_dollars_and_one_try_said_properly(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        await scan(pilot, "2*" + BARCODES["RICE-5KG"])
        await pilot.press("f7", *"6.98", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
        what = text_of(app, "#approve-what")
        assert "S$6.98" in what and "698c" not in what
        for _ in range(4):
            await pilot.press(*"1111", "enter")
            await settle(pilot)
        assert "(1 try left before lockout)" in text_of(app, "#approve-error")
        await pilot.press(*"1111", "enter")
        await settle(pilot)
        assert "minutes" in text_of(app, "#approve-error")
        assert "(s)" not in text_of(app, "#approve-error")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        footer = " ".join(_screen_text(app).split()[-30:])
        assert "S$10" in footer and "S$50" in footer and "S$100" in footer


# 10 ---------------------------------------------------------------------------------


async def test_10_what_is_still_due_is_said_per_tender(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        await scan(pilot, BARCODES["MILO-400"])  # S$7.89: cash due S$7.90
        await pilot.press("f9", "f9")
        await settle(pilot)
        said = text_of(app, "#pay-error")
        assert "S$7.90 in cash" in said and "S$7.89 by NETS" in said
        assert "short by S$7.89" not in said


# 11 ---------------------------------------------------------------------------------


async def test_11_receipt_rounding_is_signed_with_the_cash_total(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        await scan(pilot, DEMO_BARCODE, BARCODES["MILO-400"])  # 11.19
        await pilot.press("f9", *"11.20", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal)
        lines = [" ".join(ln.split()) for ln in text_of(app, "#receipt-text").splitlines()]
        assert "Rounding +0.01" in lines
        assert "Total (cash) S$ 11.20" in lines
        assert not any(ln.startswith("Cash rounding") for ln in lines)


# 12 ---------------------------------------------------------------------------------


async def test_12_member_off_the_sale_in_recall_and_on_payment(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        sale = await login(pilot)
        await scan(pilot, BARCODES["RICE-5KG"])
        await pilot.press("f3", *"9123")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert sale.cart.customer is not None
        await pilot.press("f9")
        await settle(pilot)
        assert "Member: Tan Mei Ling" in text_of(app, "#pay-member")
        assert "Thai Hom Mali Rice 5kg" in text_of(app, "#pay-items-text")
        await pilot.press("escape", "f4")
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, RecallModal)
        assert "Tan Mei Ling" in _screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert sale.cart.customer is not None
        await pilot.press("f11")  # take the member off
        await settle(pilot)
        assert sale.cart.customer is None
        assert "No member" in text_of(app, "#badge")


# 13 ---------------------------------------------------------------------------------


async def test_13_names_keep_their_size_at_80x24_and_last_scanned_is_current(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await scan(pilot, BARCODES["MILO-400"], BARCODES["NOOD-5P"])
        text = _screen_text(app)
        assert "Milo 3-in-1 Sachets 18x33g" in text
        assert "Instant Curry Noodles 5-pack" in text
        await pilot.press("f7", *"10%", "enter")  # a discount column appears
        await settle(pilot)
        assert "Instant Curry Noodles 5-pack" in _screen_text(app)
        await pilot.press("f2", *"oyster")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "Oyster" in text_of(app, "#last-scan")
        await pilot.press("f4")
        await settle(pilot)
        assert text_of(app, "#last-scan") == ""


# 14 ---------------------------------------------------------------------------------


def _luminance(color: Color) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = color.get_truecolor()
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(fg: Color, bg: Color) -> float:
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


async def test_14_the_selected_row_and_every_state_read_at_wcag_aa(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await scan(pilot, DEMO_BARCODE, BARCODES["MILO-400"])
        table = app.screen.query_one(CartTable)
        cursor = table.get_component_rich_style("datatable--cursor")
        assert cursor.color and cursor.bgcolor
        assert _contrast(cursor.color, cursor.bgcolor) >= 4.5, "selected row"
        checked = ["#hdr-store", "#hdr-clock", "#totals", "#last-scan", "#more-keys", "#badge"]
        for selector in checked:
            style = app.screen.query_one(selector).rich_style
            assert style.color and style.bgcolor, selector
            assert _contrast(style.color, style.bgcolor) >= 4.5, selector
        header = app.screen.query_one(TillHeader)
        states = {
            "online": AgentState(enrolled=True, online=True),
            "offline": AgentState(enrolled=True, online=False),
            "warning": AgentState(enrolled=True, online=True, rejected=1),
            "unknown": AgentState(enrolled=True, online=None),
        }
        for css, state in states.items():
            header.sync_state = state
            await pilot.pause()
            label = app.screen.query_one("#hdr-sync")
            assert label.has_class(css)
            style = label.rich_style
            assert _contrast(style.color, style.bgcolor) >= 4.5, css


# 15 ---------------------------------------------------------------------------------


async def test_15_f1_exact_cash_is_shown_and_the_sale_completes_itself(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("f9")
        await settle(pilot)
        assert "F1 or Enter alone: exact cash" in _screen_text(app)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal)  # no F9 "complete" needed


# 16 ---------------------------------------------------------------------------------


async def test_16_a_managers_void_is_confirmed_once(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot, "9999")
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("escape")  # changed their mind: the line stays
        await settle(pilot)
        assert len(sale.cart.entries) == 1
        await pilot.press("f8")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert sale.cart.entries == []


# 17 ---------------------------------------------------------------------------------


async def test_17_closing_a_shift_names_the_parked_sales(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        for code in (DEMO_BARCODE, BARCODES["MILO-400"]):
            await scan(pilot, code)
            await pilot.press("f4")
            await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, CloseShiftModal)
        assert "2 parked sales left on this till" in text_of(app, "#count-warning")
