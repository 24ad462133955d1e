"""Log-in by PIN (local hash, offline), lockout, and the shift prompt."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from terminal.db.engine import open_database
from terminal.db.models import OutboxEvent, Shift
from terminal.ui.screens.approve import ApproveModal
from terminal.ui.screens.login import LoginScreen
from terminal.ui.screens.reports import ZReportScreen
from terminal.ui.screens.sale import SaleScreen
from terminal.ui.screens.shift import CloseShiftModal, OpenShiftModal
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import login, scan, settle, text_of


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
        assert isinstance(app.screen, OpenShiftModal)  # no shift open: asks for the float
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


async def lock_with_wrong_pins(pilot: Any) -> None:
    await settle(pilot)
    for _ in range(5):
        await pilot.press(*"0000", "enter")
        await settle(pilot)


async def test_five_wrong_pins_lock_the_till_even_for_the_right_pin(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await lock_with_wrong_pins(pilot)
        assert "locked for 5 minutes" in text_of(app, "#login-error")
        await pilot.press(*"1234", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "locked for 5 more minute" in text_of(app, "#login-error")


async def test_second_login_reuses_the_open_shift(make_app) -> None:
    """Quitting without closing the shift (Ctrl+Q, a power cut): the next login reuses it."""
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot)
        first_shift = app.shift
    again = make_app()
    async with again.run_test() as pilot:
        await settle(pilot)
        await pilot.press(*"1234", "enter")
        await settle(pilot)
        assert isinstance(again.screen, SaleScreen)  # no float asked
        assert again.shift == first_shift


async def test_logout_counts_the_drawer_closes_the_shift_and_shows_the_variance(
    make_app, till_path
) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot, float_text="100")
        await scan(pilot, DEMO_BARCODE)
        await pilot.press("f9", *"10", "enter")  # 3.30 cash, 6.70 change
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, CloseShiftModal)
        await pilot.press("escape")  # Esc: stay logged in, shift open
        await settle(pilot)
        assert app.screen is sale and app.shift is not None
        await pilot.press("ctrl+l")
        await settle(pilot)
        await pilot.press(*"abc", "enter")  # not an amount: asked again
        await settle(pilot)
        assert isinstance(app.screen, CloseShiftModal)
        assert "'abc'" in text_of(app, "#count-error") or "amount" in text_of(app, "#count-error")
        await pilot.press(*"103.20", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ZReportScreen)  # the shift is closed: its Z report
        assert app.shift is None
        summary = text_of(app, "#report-cash")
        assert "Expected cash S$103.30" in summary
        assert "Counted S$103.20" in summary
        assert "Variance -0.10" in summary
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.cashier is None and app.shift is None
        await pilot.press(*"1234", "enter")  # next login opens a new shift
        await settle(pilot)
        assert isinstance(app.screen, OpenShiftModal)
    db = open_database(till_path)
    async with db.reader() as s:
        shifts = (await s.execute(select(Shift.closed_at, Shift.counted_cash_cents))).all()
        events = (
            (await s.execute(select(OutboxEvent.type).order_by(OutboxEvent.seq))).scalars().all()
        )
    await db.dispose()
    assert [(c is not None, n) for c, n in shifts] == [(True, 103_20)]
    assert events == ["sale.completed", "shift.closed", "shift.z_report"]


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


async def test_a_managers_pin_unlocks_a_locked_till(make_app, till_path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await lock_with_wrong_pins(pilot)
        await pilot.press(*"9999", "enter")  # a manager's PIN typed at the lock: not checked
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "A manager can unlock it: F2." in text_of(app, "#login-error")
        await pilot.press("f2", *"1111", "enter")  # not a manager's PIN: counted as one
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
        assert "not a manager's PIN" in text_of(app, "#approve-error")
        await pilot.press(*"9999", "enter")  # the demo manager's
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert "Unlocked by" in text_of(app, "#login-error")
        await pilot.press(*"1234", "enter")
        await settle(pilot)
        assert isinstance(app.screen, OpenShiftModal)
    db = open_database(till_path)
    async with db.reader() as s:
        types = (await s.execute(select(OutboxEvent.type))).scalars().all()
    await db.dispose()
    # the unlock and the one wrong manager PIN are audited; PINs typed at the lock are not
    assert sorted(t for t in types if t.startswith("approval.")) == [
        "approval.granted",
        "approval.refused",
    ]
