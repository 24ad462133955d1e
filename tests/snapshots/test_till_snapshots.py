"""How the till looks at 80x24 (the smallest it must be readable at) and 120x36.

Deterministic: a fixed clock (header and receipt time), a fresh seeded database (receipt
DEMO-T01-000001), no sync agent. Update with ``pytest --snapshot-update`` and review the
SVGs under ``__snapshots__`` before committing them.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from sync.demo_data import demo_products
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import login, scan, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
BARCODES = {p.sku: p.barcode for p in demo_products()}


async def _sale(pilot: Pilot[None]) -> None:
    await login(pilot)
    await scan(pilot, DEMO_BARCODE, BARCODES["MILO-400"], "2*" + BARCODES["RICE-5KG"])
    await pilot.press("f7", *"10%", "enter")
    await settle(pilot)


async def _payment(pilot: Pilot[None]) -> None:
    await _sale(pilot)
    await pilot.press("f9", *"10", "f6")
    await settle(pilot)


async def _receipt(pilot: Pilot[None]) -> None:
    await _payment(pilot)
    await pilot.press(*"40", "enter")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_login(snap_compare, make_app, size) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_sale_with_items(snap_compare, make_app, size) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=_sale)


@pytest.mark.parametrize("size", SIZES)
def test_payment(snap_compare, make_app, size) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=_payment)


@pytest.mark.parametrize("size", SIZES)
def test_receipt(snap_compare, make_app, size) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=_receipt)
