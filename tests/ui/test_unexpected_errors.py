"""A bug below the services (not a TillError) never leaves the till stuck.

Each worker a cashier waits on catches it at the UI boundary, logs the traceback and
puts its screen back in a usable state with words on screen.
"""

from __future__ import annotations

import asyncio

from sync.demo_data import demo_products
from terminal.ui.screens.login import LoginScreen
from terminal.ui.screens.sale import SaleScreen
from terminal.ui.screens.shift import OpenShiftModal
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import burst, login, notices, settle, text_of

BARCODES = {p.sku: p.barcode for p in demo_products()}


def _logged(caplog, needle: str) -> bool:
    return any(r.exc_info is not None and needle in str(r.exc_info[1]) for r in caplog.records)


async def test_login_failure_is_shown_not_checking_forever(make_app, monkeypatch, caplog) -> None:
    async def broken(*args, **kwargs):
        raise RuntimeError("hash library missing")

    monkeypatch.setattr("terminal.services.cashiers.login", broken)
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press(*"1234", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        error = text_of(app, "#login-error")
        assert "Checking" not in error and "Something went wrong" in error
    assert _logged(caplog, "hash library missing")


async def test_open_shift_failure_asks_for_the_float_again(make_app, monkeypatch, caplog) -> None:
    calls = []

    async def flaky(*args, **kwargs):
        calls.append(kwargs)
        raise RuntimeError("shift table gone")

    monkeypatch.setattr("terminal.ui.screens.shift.open_shift", flaky)
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press(*"1234", "enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert len(calls) == 1
        assert isinstance(app.screen, OpenShiftModal)  # asked again, not a blank login
        assert "opening the shift" in text_of(app, "#count-error")
        assert any("opening the shift" in n for n in notices(app))
    assert _logged(caplog, "shift table gone")


async def test_a_failing_lookup_does_not_strand_the_scans_after_it(
    make_app, monkeypatch, caplog
) -> None:
    from terminal.services import catalog

    real = catalog.lookup_code

    async def lookup(db, code):
        if code == BARCODES["MILO-400"]:
            raise RuntimeError("index corrupt")
        return await real(db, code)

    monkeypatch.setattr(catalog, "lookup_code", lookup)
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        burst(app, *BARCODES["MILO-400"], "enter", *DEMO_BARCODE, "enter")
        for _ in range(20):
            await pilot.pause(0.05)
        await asyncio.wait_for(sale.scans_settled(), timeout=5)
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen)
        assert [e.product.barcode for e in sale.cart.entries] == [DEMO_BARCODE]
        assert any("Something went wrong while adding" in n for n in notices(app))
    assert _logged(caplog, "index corrupt")
