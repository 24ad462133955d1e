"""The till opens the printer its settings name (``kedai-till`` does), and a printer
that cannot be opened is said on screen while the till goes on selling."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.ui.screens.receipt import ReceiptModal
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import login, notices, scan, settle


async def _cash_sale(pilot) -> ReceiptModal:  # type: ignore[no-untyped-def]
    await scan(pilot, DEMO_BARCODE)
    await pilot.press("f9", "5", "enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReceiptModal), type(screen)
    return screen


async def test_the_file_printer_from_settings_prints_the_receipt(
    make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roll = tmp_path / "roll.txt"
    monkeypatch.setenv("KEDAI_TILL_PRINTER_KIND", "file")
    monkeypatch.setenv("KEDAI_TILL_PRINTER_ADDRESS", str(roll))
    app = make_app(printer_from_settings=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        modal = await _cash_sale(pilot)
        await settle(pilot)
        assert app.printer is not None
    printed = roll.read_text()
    assert modal.receipt.receipt_no in printed
    assert "TAX INVOICE" in printed.upper()
    # A cash sale opens the drawer after its receipt.
    assert printed.rstrip("=\n ").endswith("[drawer opened]")


async def test_a_card_sale_does_not_open_the_drawer_nor_does_a_setting_off(
    make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roll = tmp_path / "roll.txt"
    monkeypatch.setenv("KEDAI_TILL_PRINTER_KIND", "file")
    monkeypatch.setenv("KEDAI_TILL_PRINTER_ADDRESS", str(roll))
    monkeypatch.setenv("KEDAI_TILL_DRAWER_KICK_ON_CASH", "false")
    app = make_app(printer_from_settings=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        await _cash_sale(pilot)  # cash, but the setting is off
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        app.drawer_kick_on_cash = True
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("f9", "f6")  # NETS for the whole amount
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal), type(app.screen)
        await settle(pilot)
    printed = roll.read_text()
    assert printed.count("TAX INVOICE") == 2, printed
    assert "[drawer opened]" not in printed


async def test_bad_printer_settings_are_said_and_the_sale_goes_on(
    make_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEDAI_TILL_PRINTER_KIND", "file")  # no address: refused
    monkeypatch.delenv("KEDAI_TILL_PRINTER_ADDRESS", raising=False)
    app = make_app(printer_from_settings=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await login(pilot)
        assert app.printer is None
        assert any("printer could not be opened" in n for n in notices(app))
        modal = await _cash_sale(pilot)
        assert modal.receipt.total_cents == 330
