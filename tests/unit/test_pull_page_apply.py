"""A pulled page is applied with its cursor in one transaction (DESIGN invariant 8): a page
of products alone (every page of a catalog pull) in one trip to the driver's thread, any
other page through a session; either way all of it or none of it. Real till database
(SQLite file) with the demo store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from sync import protocol as p
from terminal.db.engine import Database
from terminal.db.models import Product, ScheduledPrice, Tender
from terminal.services.errors import StorageError
from terminal.services.sync_store import apply_change_page, load_sync_config

AT = datetime(2025, 3, 14, 4, 30, tzinfo=UTC)
SOON = AT + timedelta(days=1)


def _product(seq: int, sku: str, pid: uuid.UUID | None = None, steps: int = 0) -> p.ProductChange:
    return p.ProductChange(
        seq=seq,
        data=p.ProductRecord(
            product_id=pid or uuid.uuid4(),
            sku=sku,
            barcode=None,
            name=f"Pulled {sku}",
            price_cents=100 + seq,
            tax_code="SR",
            cdc_eligible=True,
            active=True,
            prices=[
                p.ScheduledPrice(effective_from=SOON + timedelta(hours=h), price_cents=50 + h)
                for h in range(steps)
            ],
        ),
    )


async def _products(db: Database, prefix: str) -> dict[str, int]:
    async with db.reader() as s:
        rows = await s.execute(
            select(Product.sku, Product.price_cents).where(Product.sku.startswith(prefix))
        )
        return {row.sku: row.price_cents for row in rows}


async def _steps(db: Database, pid: uuid.UUID) -> list[int]:
    async with db.reader() as s:
        found = await s.execute(
            select(ScheduledPrice.price_cents)
            .where(ScheduledPrice.product_id == pid)
            .order_by(ScheduledPrice.effective_at)
        )
        return list(found.scalars())


async def test_a_page_of_products_is_stored_with_its_cursor(till_db: Database) -> None:
    start = (await load_sync_config(till_db)).change_cursor
    stepped = uuid.uuid4()
    first = [_product(start + 1, "PULL-1", stepped, steps=2), _product(start + 2, "PULL-2")]
    await apply_change_page(till_db, p.ChangePage(changes=first, next=start + 2, more=True), at=AT)
    cfg = await load_sync_config(till_db)
    assert cfg.change_cursor == start + 2
    assert cfg.last_pull_ok_at is None  # more follows: the pull is not over
    assert await _products(till_db, "PULL-") == {"PULL-1": 101 + start, "PULL-2": 102 + start}
    assert await _steps(till_db, stepped) == [50, 51]

    # The product again (its schedule replaced, here by none) on the last page.
    again = [_product(start + 3, "PULL-1", stepped)]
    await apply_change_page(till_db, p.ChangePage(changes=again, next=start + 3, more=False), at=AT)
    cfg = await load_sync_config(till_db)
    assert (cfg.change_cursor, cfg.last_pull_ok_at) == (start + 3, AT)
    assert (await _products(till_db, "PULL-1"))["PULL-1"] == 103 + start
    assert await _steps(till_db, stepped) == []


async def test_a_page_refused_half_way_stores_nothing_not_even_its_cursor(
    till_db: Database,
) -> None:
    start = (await load_sync_config(till_db)).change_cursor
    # Two products under one sku: the till's UNIQUE(sku) refuses the third row, after
    # the first two were written in the same transaction.
    changes = [
        _product(start + 1, "HALF-A"),
        _product(start + 2, "HALF-B"),
        _product(start + 3, "HALF-A"),
    ]
    with pytest.raises(StorageError):
        await apply_change_page(
            till_db, p.ChangePage(changes=changes, next=start + 3, more=False), at=AT
        )
    cfg = await load_sync_config(till_db)
    assert (cfg.change_cursor, cfg.last_pull_ok_at) == (start, None)
    assert await _products(till_db, "HALF-") == {}


async def test_a_page_of_several_kinds_is_stored_with_its_cursor(till_db: Database) -> None:
    start = (await load_sync_config(till_db)).change_cursor
    pid = uuid.uuid4()
    changes: list[p.Change] = [
        _product(start + 1, "MIX-1", pid, steps=1),
        p.TenderChange(
            seq=start + 2,
            data=p.TenderRecord(code="MIXV", name="Mixed voucher", kind="voucher", active=True),
        ),
    ]
    await apply_change_page(
        till_db, p.ChangePage(changes=changes, next=start + 2, more=False), at=AT
    )
    cfg = await load_sync_config(till_db)
    assert (cfg.change_cursor, cfg.last_pull_ok_at) == (start + 2, AT)
    assert await _products(till_db, "MIX-") == {"MIX-1": 101 + start}
    assert await _steps(till_db, pid) == [50]
    async with till_db.reader() as s:
        assert await s.scalar(select(Tender.name).where(Tender.code == "MIXV")) == "Mixed voucher"
