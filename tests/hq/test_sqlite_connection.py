"""Every connection HQ opens to SQLite is set up alike: WAL, synchronous FULL, foreign
keys on, a busy timeout, and a page cache that holds the pages a large push touches."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from hq.db import BUSY_TIMEOUT_MS, open_database


async def test_hq_connections_to_sqlite_run_its_pragmas(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'hq.db'}")
    try:
        for sessions in (db.sessions, db.readers):
            async with sessions() as session, session.begin():
                got = [
                    (await session.execute(text(f"PRAGMA {pragma}"))).scalar()
                    for pragma in (
                        "journal_mode", "synchronous", "foreign_keys", "busy_timeout",
                        "cache_size",
                    )
                ]  # fmt: skip
            assert got == ["wal", 2, 1, BUSY_TIMEOUT_MS, -64 * 1024]  # KiB: 64 MiB
    finally:
        await db.dispose()
