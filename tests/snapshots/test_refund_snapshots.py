"""The refund (Ctrl+R) and past-receipts (Ctrl+F) screens at 80x24, the smallest size.

Deterministic as the other till snapshots: fixed clock, fresh seeded database. Update
with ``pytest --snapshot-update`` and review the SVGs before committing them.
"""

from __future__ import annotations

from textual.pilot import Pilot

from sync.demo_data import demo_products
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import login, settle
from tests.ui.test_refunds import sell

MILO = {p.sku: p.barcode for p in demo_products()}["MILO-400"]


async def _refund_refused(pilot: Pilot[None]) -> None:
    """A sale on screen, one line chosen, and a refusal that must wrap at 80 columns."""
    await login(pilot)
    await sell(pilot, f"3*{DEMO_BARCODE}", MILO)
    await pilot.press("ctrl+r", "1", "enter")
    await settle(pilot)
    await pilot.press("f6", "backspace", "2", "enter", "down", "f6", "backspace", "4", "enter")
    await settle(pilot)
    pilot.app.clear_notifications()  # a toast's life is timing; the message line stays
    await pilot.pause()


async def _past_receipts(pilot: Pilot[None]) -> None:
    await login(pilot)
    await sell(pilot, DEMO_BARCODE)
    await sell(pilot, f"3*{DEMO_BARCODE}", MILO)
    await pilot.press("ctrl+f")
    await settle(pilot)


def test_refund_screen(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_refund_refused)


def test_past_receipts_screen(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_past_receipts)
