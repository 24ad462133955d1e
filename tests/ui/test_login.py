"""Log-in by PIN (local hash, offline), lockout, and the shift prompt."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from terminal.db.engine import open_database
from terminal.db.models import Shift
from terminal.ui.screens.login import LoginScreen
from terminal.ui.screens.prompt import PromptModal
from terminal.ui.screens.sale import SaleScreen
from tests.ui.helpers import login, settle, text_of


async def test_wrong_pin_then_right_pin_opens_a_shift(make_app, till_path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        assert "Kedai Demo Mart" in text_of(app, "#login-store")
        await pilot.press(*"1111", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "Wrong PIN (4 tries left" in text_of(app, "#login-error")
        await pilot.press(*"1234", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PromptModal)  # no shift open: asks for the float
        await pilot.press(*"150", "enter")
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen)
        assert app.cashier is not None and app.cashier.name == "Aisha"
        assert "Aisha" in text_of(app, "#hdr-cashier")
        assert "DEMO-T01" in text_of(app, "#hdr-till")
        assert "14 Mar 12:30" in text_of(app, "#hdr-clock")
    db = open_database(till_path)
    async with db.reader() as s:
        shifts = (await s.execute(select(Shift.opening_float_cents))).scalars().all()
    await db.dispose()
    assert shifts == [15000]


async def test_five_wrong_pins_lock_the_till_even_for_the_right_pin(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        for _ in range(5):
            await pilot.press(*"0000", "enter")
            await settle(pilot)
        assert "locked for 5 minutes" in text_of(app, "#login-error")
        await pilot.press(*"1234", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "locked for 5 more minute" in text_of(app, "#login-error")


async def test_second_login_reuses_the_open_shift(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        first_shift = app.shift
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        await pilot.press(*"1234", "enter")
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen) and app.screen is not sale
        assert app.shift == first_shift


async def test_missing_database_is_said_on_the_login_screen(tmp_path) -> None:
    from terminal.ui.app import KedaiTill

    app = KedaiTill(tmp_path / "nope.db")
    async with app.run_test() as pilot:
        await settle(pilot)
        assert "No till database" in text_of(app, "#login-error")
        await pilot.press(*"1234", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)


async def test_a_corrupt_database_file_is_said_on_the_login_screen(
    make_app, till_path, caplog
) -> None:
    """Garbage instead of SQLite: the login must say so, not hang on "Checking..."."""
    till_path.write_bytes(b"this is not a database \x00\xff" * 512)
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        assert app.ready.is_set()
        assert app.startup_error is not None
        assert "Till not ready" in text_of(app, "#login-store")
        assert "call support" in text_of(app, "#login-error")
        await pilot.press(*"1234", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        error = text_of(app, "#login-error")
        assert "Checking" not in error and "call support" in error


@pytest.mark.timeout(60)  # before the fix the login hung on "Checking..." for ever
async def test_any_start_up_failure_still_lets_the_login_answer(
    make_app, monkeypatch, caplog
) -> None:
    """Not only TillErrors: whatever start-up raises, ``ready`` is set and it is said."""

    async def broken(*args, **kwargs):
        raise RuntimeError("malformed schema")

    monkeypatch.setattr("terminal.services.catalog.store_profile", broken)
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press(*"1234", "enter")
        await settle(pilot)
        assert app.ready.is_set()
        error = text_of(app, "#login-error")
        assert "Checking" not in error
        assert "database cannot be opened (malformed schema): call support" in error
    assert any(r.exc_info is not None for r in caplog.records)
