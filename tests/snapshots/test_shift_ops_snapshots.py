"""The shift operations' screens at 80x24 (the smallest the till must be readable at)
and 120x36: the X report, the Z report after closing with a variance and a parked sale,
and the cash in/out dialog with its error."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from types import SimpleNamespace

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import login, scan, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]

Steps = Callable[[Pilot[None]], Awaitable[None]]


async def _done(pilot: Pilot[None]) -> None:
    await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


async def _one_sale(pilot: Pilot[None]) -> None:
    await login(pilot, float_text="100")
    await scan(pilot, DEMO_BARCODE)
    await pilot.press("f9", *"10", "enter")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def _x_report(pilot: Pilot[None]) -> None:
    await _one_sale(pilot)
    await pilot.press("ctrl+x")
    await _done(pilot)


async def _z_report(pilot: Pilot[None]) -> None:
    await _one_sale(pilot)
    await scan(pilot, DEMO_BARCODE)
    await pilot.press("f4")
    await settle(pilot)
    await pilot.press("ctrl+l", *"103.20", "enter")
    await _done(pilot)


async def _cash_move(pilot: Pilot[None]) -> None:
    await login(pilot)
    await pilot.press("ctrl+e", *"20", "enter", "enter")
    await _done(pilot)


SCREENS: dict[str, Steps] = {
    "x_report": _x_report,
    "z_report": _z_report,
    "cash_move": _cash_move,
}


@pytest.fixture
def _fixed_shift_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """The report prints the shift's id: one fixed id keeps the picture the same."""
    fixed = uuid.UUID("5e1f0000-0000-4000-8000-000000000001")
    monkeypatch.setattr(
        "terminal.services.shifts.uuid", SimpleNamespace(UUID=uuid.UUID, uuid4=lambda: fixed)
    )


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.usefixtures("_fixed_shift_id")
def test_shift_screen(snap_compare, make_app, screen, size) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=SCREENS[screen])
