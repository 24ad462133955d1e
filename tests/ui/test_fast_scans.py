"""A barcode scanner's burst: codes typed as fast keystrokes, none lost or reordered.

``pilot.press`` waits for the app to go idle after every key (~60 ms a key on these
machines), far slower than a scanner. So the 200-scan test sends the key events straight
to the driver back to back, with no waits at all between keys or scans: a harsher burst
than any scanner makes. A short ``pilot.press`` run checks the same through Pilot.
"""

from __future__ import annotations

import asyncio

from sync.demo_data import demo_products
from terminal.ui.app import KedaiTill
from tests.ui.helpers import burst, login, settle


def _codes(n: int) -> list[str]:
    # Age-restricted items stop for the cashier's answer (tests/ui/test_line_ops.py).
    products = [p for p in demo_products() if not p.age_restricted]
    # Cycle through the catalog so no code repeats its neighbour (a repeat bumps qty).
    return [products[(i * 7) % len(products)].barcode for i in range(n)]  # type: ignore[misc]


def _burst(app: KedaiTill, codes: list[str]) -> None:
    """Queue every keystroke at once, as a scanner's USB HID stream arrives."""
    for code in codes:
        burst(app, *code, "enter")


async def test_200_scans_as_one_keystroke_burst_arrive_in_order(make_app) -> None:
    codes = _codes(200)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        sale = await login(pilot)
        _burst(app, codes)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while len(sale.cart) < len(codes) and loop.time() < deadline:
            await pilot.pause(0.1)
        await settle(pilot)
        assert [e.product.barcode for e in sale.cart.entries] == codes
        assert all(e.qty == 1 for e in sale.cart.entries)
        assert sale.query_one("#scan").value == ""


async def test_scans_through_pilot_press_without_pauses(make_app) -> None:
    codes = _codes(12)
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await pilot.press(*[k for code in codes for k in (*code, "enter")])
        await settle(pilot)
        assert [e.product.barcode for e in sale.cart.entries] == codes
