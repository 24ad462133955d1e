"""A scan's lookup: one statement in one trip to the driver's thread, same answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from sync import demo_data
from terminal.services.catalog import lookup_code
from terminal.services.errors import NotFoundError

PRODUCTS = {p.sku: p for p in demo_data.demo_products()}
KOPI = PRODUCTS["KOPI-001"]


async def test_a_barcode_and_a_typed_sku_find_the_product(till_db):
    by_barcode = await lookup_code(till_db, f"  {KOPI.barcode} ")
    by_sku = await lookup_code(till_db, KOPI.sku.lower())
    assert by_barcode == by_sku
    assert (by_barcode.id, by_barcode.name, by_barcode.price_cents) == (
        KOPI.product_id,
        KOPI.name,
        KOPI.price_cents,
    )
    assert by_barcode.tax_code == KOPI.tax_code and by_barcode.cdc_eligible is KOPI.cdc_eligible


async def test_unknown_empty_and_withdrawn_codes_are_not_found(till_db):
    with pytest.raises(NotFoundError, match="Unknown barcode or SKU '4006381333931'"):
        await lookup_code(till_db, "4006381333931")
    with pytest.raises(NotFoundError, match="Nothing was scanned"):
        await lookup_code(till_db, "   ")
    async with till_db.writer() as s, s.begin():
        await s.execute(text("UPDATE products SET active = 0 WHERE sku = 'KOPI-001'"))
    with pytest.raises(NotFoundError):
        await lookup_code(till_db, KOPI.barcode)


async def test_the_price_is_the_step_in_effect_at_the_moment(till_db):
    moment = datetime(2027, 1, 1, tzinfo=UTC)
    step = int(moment.timestamp())
    async with till_db.writer() as s, s.begin():
        await s.execute(
            text(
                "INSERT INTO price_schedule (product_id, effective_at, price_cents) "
                "VALUES (:p, :t, 999), (:p, :t2, 1111)"
            ),
            {"p": KOPI.product_id.hex, "t": step, "t2": step + 3600},
        )
    before = await lookup_code(till_db, KOPI.barcode, at=datetime(2026, 12, 31, tzinfo=UTC))
    at = await lookup_code(till_db, KOPI.barcode, at=moment)
    later = await lookup_code(till_db, KOPI.barcode, at=datetime(2027, 1, 2, tzinfo=UTC))
    assert (before.price_cents, at.price_cents, later.price_cents) == (KOPI.price_cents, 999, 1111)


async def test_a_code_that_is_a_barcode_and_another_sku_finds_the_barcode(till_db):
    other = PRODUCTS["BEER-6"]
    async with till_db.writer() as s, s.begin():
        await s.execute(
            text("UPDATE products SET sku = :code WHERE sku = 'BEER-6'"), {"code": KOPI.barcode}
        )
    found = await lookup_code(till_db, KOPI.barcode)
    assert found.id == KOPI.product_id
    assert (await lookup_code(till_db, other.barcode)).id == other.product_id


async def test_a_lookup_is_one_hand_off(till_db, monkeypatch):
    import aiosqlite.core

    calls = []
    original = aiosqlite.core.Connection._execute

    async def counted(self, fn, *args, **kwargs):
        calls.append(fn)
        return await original(self, fn, *args, **kwargs)

    await lookup_code(till_db, KOPI.barcode)  # warm the pool
    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counted)
    await lookup_code(till_db, KOPI.barcode)
    assert len(calls) == 1
