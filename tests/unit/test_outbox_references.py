"""Every column naming an outbox event is indexed, so pruning never scans a table.

Pruning sent events asks, for each candidate, whether a sale, ledger entry, refund or
activity row still names it, and SQLite checks the same for every deleted outbox row
(foreign keys are on). Without an index each question read the whole table: a prune of
a till holding 50,000 sent sales took minutes with the write lock held. These tests read
the schema the migrations build and SQLite's own plan for the prune's statement.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.dialects import sqlite

from terminal.db import migrate
from terminal.db.engine import open_database
from terminal.services.sync_store import _referencing_columns, prune_statement


async def test_every_column_naming_an_outbox_event_leads_an_index(tmp_path: Path) -> None:
    referencing = _referencing_columns()
    assert {t.name for t, _ in referencing} >= {"sales", "loyalty_ledger", "refunds"}
    db = open_database(tmp_path / "till.db")
    try:
        await migrate.upgrade(db)
        async with db.engine.connect() as conn:
            for table, column in referencing:
                indexes = await conn.exec_driver_sql(f"PRAGMA index_list({table.name})")
                leading = set()
                for index in [row[1] for row in indexes]:
                    info = await conn.exec_driver_sql(f"PRAGMA index_info({index})")
                    leading.add(info.all()[0][2])
                assert column in leading, f"{table.name}.{column} has no index"
    finally:
        await db.dispose()


async def test_the_prune_searches_each_referencing_table_by_index(tmp_path: Path) -> None:
    db = open_database(tmp_path / "till.db")
    try:
        await migrate.upgrade(db)
        compiled = prune_statement(acked=10, older_than=datetime.now(UTC)).compile(
            dialect=sqlite.dialect()
        )
        async with db.engine.connect() as conn:
            # The plan does not depend on the values bound: NULL for each.
            values = (None,) * len(compiled.positiontup or ())
            plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)
            details = [row[3] for row in plan]
    finally:
        await db.dispose()
    for table, column in _referencing_columns():
        assert not any(d.startswith(f"SCAN {table.name}") for d in details), details
        assert any(
            d.startswith(f"SEARCH {table.name} USING") and f"({column}=?)" in d for d in details
        ), details
