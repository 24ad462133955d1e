"""Driver-level bulk inserts, on the HQ store of each backend."""

from __future__ import annotations

import uuid

from hq.bulk import SQLITE_MAX_PARAMS, BulkWriter
from hq.db import open_database
from hq.ingest import LINE_COLUMNS, LINES
from tests.hq.conftest import Hq


async def test_rows_beyond_one_statement_are_chunked_and_new_ones_returned(hq: Hq) -> None:
    sale_ids = [uuid.uuid4() for _ in range(SQLITE_MAX_PARAMS // len(LINE_COLUMNS) + 7)]
    db = open_database(hq.database_url)
    try:
        async with db.sessions() as session, session.begin():
            bulk = await BulkWriter.of(session)
            line = (1, None, "SKU", "Item", 2, 330, 0, 660, "SR", None, None, False)
            rows = [(bulk.uuid(s), *line) for s in sale_ids]
            new = await bulk.insert(LINES, LINE_COLUMNS, rows, returning=("sale_id",))
            assert {bulk.uuid_of(r.sale_id) for r in new} == set(sale_ids)
            # Already held: ON CONFLICT DO NOTHING, and nothing comes back.
            again = await bulk.insert(LINES, LINE_COLUMNS, rows[:3], returning=("sale_id",))
            assert again == []
            await bulk.insert(LINES, LINE_COLUMNS, [])
    finally:
        await db.dispose()
    key = sale_ids[-1].hex if hq.backend == "sqlite" else sale_ids[-1]
    assert hq.scalar("SELECT total_cents FROM sale_lines WHERE sale_id = :s", s=key) == 660


async def test_timestamps_are_stored_as_sqlalchemy_reads_them(hq: Hq) -> None:
    """A row written by the bulk path reads back through the ORM as the same aware UTC."""
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy import select

    from hq import models as m
    from hq.ingest import LOYALTY, LOYALTY_COLUMNS

    entry, customer = uuid.uuid4(), uuid.uuid4()
    at = datetime(2025, 3, 4, 13, 5, 6, 789012, tzinfo=timezone(timedelta(hours=8)))
    db = open_database(hq.database_url)
    try:
        async with db.sessions() as session, session.begin():
            bulk = await BulkWriter.of(session)
            row = (bulk.uuid(entry), bulk.uuid(customer), 5, "earn", None, None,
                   bulk.timestamp(at), bulk.timestamp(at))  # fmt: skip
            await bulk.insert(LOYALTY, LOYALTY_COLUMNS, [row])
        async with db.readers() as session, session.begin():
            stored = (
                await session.execute(
                    select(m.LoyaltyEntry.occurred_at).where(m.LoyaltyEntry.entry_id == entry)
                )
            ).scalar_one()
    finally:
        await db.dispose()
    assert stored == at and stored.tzinfo is not None
    assert stored.astimezone(UTC).hour == 5


async def test_write_all_writes_every_table_once_and_returns_the_new_rows(hq: Hq) -> None:
    """Inserts, an additive upsert and a RETURNING insert in one call (one statement on
    PostgreSQL): every row lands, the upsert adds, a resend adds nothing and returns none."""
    from datetime import UTC, datetime

    import pytest

    from hq.bulk import Write
    from hq.ingest import LOYALTY, LOYALTY_COLUMNS, PAYMENT_COLUMNS, PAYMENTS
    from hq.rollups import PRODUCT_HOURLY, PRODUCT_KEY, PRODUCT_SUMS

    sale, payment, entry, customer = (uuid.uuid4() for _ in range(4))
    hour = datetime(2025, 3, 4, 5, tzinfo=UTC)
    db = open_database(hq.database_url)
    try:
        for expected_new in (1, 0):
            async with db.sessions() as session, session.begin():
                bulk = await BulkWriter.of(session)
                u, ts = bulk.uuid, bulk.timestamp
                line = (u(sale), 1, None, "SKU-W", "Item", 2, 330, 0, 660, "SR", None, None, False)
                writes = [
                    Write(LINES, LINE_COLUMNS, [line]),
                    Write(
                        PAYMENTS, PAYMENT_COLUMNS, [(u(payment), u(sale), "cash", 660, 700, None)]
                    ),
                    Write(
                        PRODUCT_HOURLY,
                        PRODUCT_KEY,
                        [(ts(hour), f"W-{sale.hex[:8]}", "SKU-W", "Item", 2, 660, 1)],
                        sums=PRODUCT_SUMS,
                    ),
                    Write(
                        LOYALTY,
                        LOYALTY_COLUMNS,
                        [(u(entry), u(customer), 6, "earn", None, None, ts(hour), ts(hour))],
                        returning=("customer_id", "points"),
                    ),
                    Write(PAYMENTS, PAYMENT_COLUMNS, []),  # nothing to write: left out
                ]
                new = await bulk.write_all(writes)
                assert [(bulk.uuid_of(r.customer_id), r.points) for r in new] == [
                    (customer, 6)
                ] * expected_new
        async with db.sessions() as session, session.begin():
            bulk = await BulkWriter.of(session)
            returning = ("entry_id",)
            with pytest.raises(ValueError, match="at most one"):
                await bulk.write_all(
                    [
                        Write(LOYALTY, LOYALTY_COLUMNS, [row], returning=returning)
                        for row in [()] * 2
                    ]
                )
    finally:
        await db.dispose()
    key = sale.hex if hq.backend == "sqlite" else sale
    assert hq.scalar("SELECT total_cents FROM sale_lines WHERE sale_id = :s", s=key) == 660
    assert hq.scalar("SELECT count(*) FROM payments WHERE sale_id = :s", s=key) == 1
    summed = "SELECT qty FROM product_hourly WHERE terminal_id = :t AND sku = 'SKU-W'"
    assert hq.scalar(summed, t=f"W-{sale.hex[:8]}") == 4  # the upsert adds on the resend
