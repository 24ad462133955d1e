"""A head office of the previous release (schema 0009, sales already held) upgrades in
place to 0010: its sales stay, and the stock ledger is backfilled with exactly the
movements ingest writes for those sales today. On SQLite and on PostgreSQL.

The old store is made by ingesting through today's app and migrating down to 0009 (the
downgrade drops only the new tables), so its sale rows are written as in the field.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from hq import manage, migrate
from hq.app import create_app
from hq.config import Settings
from hq.db import open_database
from sync.alembic_runner import alembic_config
from tests.hq.test_inventory import line, push, refund, sale
from tests.hq.test_schema_drift import drift_pg_url  # noqa: F401 (a fixture)

MOVEMENTS = (
    "SELECT kind, reference, line_no, outlet_code, product_id, qty, occurred_at, actor "
    "FROM stock_movements ORDER BY kind, reference, line_no"
)


async def _rows(url: str, sql: str) -> list[Any]:
    db = open_database(url)
    try:
        async with db.engine.connect() as conn:
            return [tuple(r) for r in await conn.execute(text(sql))]
    finally:
        await db.dispose()


async def _to(url: str, revision: str) -> None:
    db = open_database(url)
    try:

        def run(connection: Connection) -> None:
            command.downgrade(alembic_config(migrate.MIGRATIONS, connection), revision)

        async with db.engine.begin() as conn:
            await conn.run_sync(run)
    finally:
        await db.dispose()


async def _upgrade(url: str) -> None:
    db = open_database(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()


async def _upgrade_keeps_sales_and_backfills(url: str) -> None:
    await asyncio.to_thread(manage.seed_demo_sync, url)
    till = await asyncio.to_thread(manage.enroll_terminal_sync, url, outlet="DEMO", terminal="T01")
    tid = till.terminal_id
    s1 = sale(tid, 1, [line(1, "KOPI-001", 3), line(2, "MILO-400", 2)])
    s2 = sale(tid, 2, [line(1, "RICE-5KG", 1), {**line(2, "KOPI-001", 1), "product_id": None}])
    r1 = refund(tid, 3, s1, [line(1, "KOPI-001", 2)])
    app = create_app(Settings(database_url=url, secret_key="t" * 32))
    async with app.router.lifespan_context(app):
        assert await push(app, till.token, tid, [s1, s2, r1]) == ["accepted"] * 3
    written = await _rows(url, MOVEMENTS)
    assert sorted((r[0], r[5]) for r in written) == [
        ("refund", 2), ("sale", -3), ("sale", -2), ("sale", -1),
    ]  # fmt: skip
    sales_before = await _rows(url, "SELECT sale_id, kind, total_cents FROM sales ORDER BY 1")

    await _to(url, "0009")
    tables = await _rows(url, "SELECT COUNT(*) FROM sales")
    assert tables == [(3,)]
    with pytest.raises(Exception, match="stock_movements"):
        await _rows(url, "SELECT COUNT(*) FROM stock_movements")

    await _upgrade(url)
    assert (
        await _rows(url, "SELECT sale_id, kind, total_cents FROM sales ORDER BY 1") == sales_before
    )
    assert await _rows(url, MOVEMENTS) == written


async def test_upgrade_from_0009_backfills_movements_on_sqlite(tmp_path: Path) -> None:
    await _upgrade_keeps_sales_and_backfills(f"sqlite:///{tmp_path / 'hq.db'}")


@pytest.mark.postgres
async def test_upgrade_from_0009_backfills_movements_on_postgres(drift_pg_url: str) -> None:  # noqa: F811
    await _upgrade_keeps_sales_and_backfills(drift_pg_url)
