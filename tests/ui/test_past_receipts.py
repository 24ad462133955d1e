"""Past receipts (Ctrl+F): find by number, day or member; view and reprint as a COPY."""

from __future__ import annotations

from datetime import date

from textual.widgets import OptionList

from terminal.printing.printer import FilePrinter
from terminal.ui.screens.customer import CustomerModal
from terminal.ui.screens.document import DocumentModal
from terminal.ui.screens.receipts import ReceiptsScreen, parse_day
from terminal.ui.screens.sale import SaleScreen
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import login, settle, text_of
from tests.ui.test_refunds import sell


def test_days_as_typed() -> None:
    today = date(2025, 3, 14)
    assert parse_day("today", today) == today
    assert parse_day("yesterday", today) == date(2025, 3, 13)
    assert parse_day("1/3", today) == date(2025, 3, 1)
    assert parse_day("01/03/25", today) == date(2025, 3, 1)
    assert parse_day("2025-02-28", today) == date(2025, 2, 28)
    assert parse_day("31/02", today) is None
    assert parse_day("12", today) is None  # a receipt number
    assert parse_day("DEMO-T01-000012", today) is None


def listed(app) -> list[str]:
    screen = app.screen
    assert isinstance(screen, ReceiptsScreen)
    return [r.receipt_no for r in screen.found]


async def test_found_by_number_viewed_and_reprinted_as_a_copy(make_app, tmp_path) -> None:
    roll = tmp_path / "roll.txt"
    app = make_app(printer=FilePrinter(roll))
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        first = await sell(pilot, DEMO_BARCODE)
        second = await sell(pilot, DEMO_BARCODE, DEMO_BARCODE)
        printed_sales = roll.read_text()  # each sale printed its own receipt
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert listed(app) == [second, first]  # newest first
        await pilot.press("1", "enter")  # this till's receipt 1
        await settle(pilot)
        assert listed(app) == [first]
        assert f"Receipt {first}." in text_of(app, "#receipts-what")
        assert first in str(app.screen.query_one(OptionList).get_option_at_index(0).prompt)
        await pilot.press("enter")  # Enter again: view it
        await settle(pilot)
        assert isinstance(app.screen, DocumentModal)
        text = text_of(app, "#doc-text")
        assert "** COPY **" in text and first in text and "TOTAL (incl. GST) S$" in text
        assert roll.read_text() == printed_sales  # viewing prints nothing
        await pilot.press("f12")
        await settle(pilot)
        assert "Printed" in text_of(app, "#doc-printed")
        copy = roll.read_text().removeprefix(printed_sales)
        assert "** COPY **" in copy and first in copy and second not in copy
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptsScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen)


async def test_found_by_day_and_member_and_nothing_found(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await pilot.press("f3", *"9123", "enter")  # a demo member by phone
        await settle(pilot)
        member_sale = await sell(pilot, DEMO_BARCODE)
        other_sale = await sell(pilot, DEMO_BARCODE)
        await pilot.press("ctrl+f")
        await settle(pilot)
        await pilot.press(*"14/03/2025", "enter")  # the test clock's day
        await settle(pilot)
        assert listed(app) == [other_sale, member_sale]
        await pilot.press(*"13/03/2025", "enter")
        await settle(pilot)
        assert listed(app) == []
        assert "no receipt found" in text_of(app, "#message")
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, CustomerModal)
        await pilot.press(*"9123", "enter")
        await settle(pilot)
        assert listed(app) == [member_sale]
        assert text_of(app, "#message") == ""
        await pilot.press(*"DEMO-T01-000404", "enter")
        await settle(pilot)
        assert listed(app) == []
        assert "Receipt DEMO-T01-000404: no receipt found" in text_of(app, "#message")
