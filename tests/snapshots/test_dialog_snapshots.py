"""Every dialog at 80x24 (the smallest the till must be readable at) and 120x36.

Each is shown as a cashier meets it, with its longest text (an error, a warning) on
screen: a message cut at the dialog's edge shows in the SVG. Toasts are cleared before
the picture (they expire on a timer; what must be read is also on the dialog itself).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from sync.demo_data import demo_products
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import login, scan, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
BARCODES = {p.sku: p.barcode for p in demo_products()}

Steps = Callable[[Pilot[None]], Awaitable[None]]


async def _done(pilot: Pilot[None]) -> None:
    await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


async def _open_shift(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press(*"1234", "enter")
    await _done(pilot)


async def _two_lines(pilot: Pilot[None], pin: str = "1234") -> None:
    await login(pilot, pin)
    await scan(pilot, BARCODES["MILO-400"], "2*" + BARCODES["RICE-5KG"])


async def _quantity(pilot: Pilot[None]) -> None:
    await _two_lines(pilot)
    await pilot.press("f6")
    await _done(pilot)


async def _discount(pilot: Pilot[None]) -> None:
    await _two_lines(pilot)
    await pilot.press("f7")
    await _done(pilot)


async def _approve_wrong_pin(pilot: Pilot[None]) -> None:
    await _two_lines(pilot)
    await pilot.press("f8")
    await settle(pilot)
    await pilot.press(*"1111", "enter")
    await _done(pilot)


async def _manager_void(pilot: Pilot[None]) -> None:
    await _two_lines(pilot, "9999")
    await pilot.press("f8")
    await _done(pilot)


async def _search(pilot: Pilot[None]) -> None:
    await login(pilot)
    await pilot.press("f2", *"sauce")
    await _done(pilot)


async def _customer(pilot: Pilot[None]) -> None:
    await login(pilot)
    await pilot.press("f3", *"tan")
    await _done(pilot)


async def _new_member_taken_phone(pilot: Pilot[None]) -> None:
    await login(pilot)
    await pilot.press("f3", "ctrl+n")
    await settle(pilot)
    await pilot.press(*"Siti Nurhaliza binte Abdullah", "enter", *"91234567", "enter")
    await _done(pilot)


async def _recall(pilot: Pilot[None]) -> None:
    await login(pilot)
    await scan(pilot, BARCODES["RICE-5KG"])
    await pilot.press("f3", *"9123")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("f4")
    await settle(pilot)
    await scan(pilot, DEMO_BARCODE)
    await pilot.press("f4")
    await settle(pilot)
    await pilot.press("f5")
    await _done(pilot)


async def _payment_refused(pilot: Pilot[None]) -> None:
    await login(pilot)
    await scan(pilot, BARCODES["BEER-6"])
    await pilot.press("enter")  # the customer is of age
    await scan(pilot, DEMO_BARCODE)
    await pilot.press("f9", *"1", "f6", *"10", "f10")  # NETS S$1, then CDC over its limit
    await _done(pilot)


async def _money_taken(pilot: Pilot[None]) -> None:
    await login(pilot)
    await scan(pilot, DEMO_BARCODE)
    await pilot.press("f9", *"1", "f6", "escape")
    await _done(pilot)


async def _sync(pilot: Pilot[None]) -> None:
    await login(pilot)
    await pilot.press("f10")
    await _done(pilot)


async def _close_shift(pilot: Pilot[None]) -> None:
    await login(pilot)
    await scan(pilot, DEMO_BARCODE)
    await pilot.press("f4")
    await settle(pilot)
    await pilot.press("ctrl+l")
    await settle(pilot)
    await pilot.press(*"abc", "enter")
    await _done(pilot)


DIALOGS: dict[str, Steps] = {
    "open_shift": _open_shift,
    "quantity": _quantity,
    "discount": _discount,
    "approve_wrong_pin": _approve_wrong_pin,
    "manager_void": _manager_void,
    "search": _search,
    "customer": _customer,
    "new_member_taken_phone": _new_member_taken_phone,
    "recall": _recall,
    "payment_refused": _payment_refused,
    "money_taken": _money_taken,
    "sync": _sync,
    "close_shift": _close_shift,
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dialog", list(DIALOGS))
def test_dialog(snap_compare, make_app, dialog, size) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=DIALOGS[dialog])
