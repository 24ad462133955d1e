"""Small SQL helpers shared by HQ's data functions.

Upserts and ``ON CONFLICT DO NOTHING`` are dialect-specific in SQLAlchemy (both SQLite and
PostgreSQL have them, with the same shape), so callers ask for the insert construct of the
dialect their session is bound to.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import Table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hq.models import Counter

CHANGE_SEQ = "change_seq"


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert(session: AsyncSession, table: Table | Any) -> Any:
    """``INSERT`` with ``on_conflict_do_nothing``/``on_conflict_do_update`` for this dialect.

    Typed ``Any`` because the two dialect classes share the API but not a base class.
    """
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def allocate_change_seqs(session: AsyncSession, count: int) -> list[int]:
    """Take ``count`` consecutive change sequence numbers inside the caller's transaction.

    The counter row stays locked until the caller commits, so change_seq values become
    visible in the order they were handed out; call this as late in the transaction as
    possible to keep the lock short.
    """
    if count <= 0:
        return []
    top = (
        await session.execute(
            update(Counter)
            .where(Counter.name == CHANGE_SEQ)
            .values(value=Counter.value + count)
            .returning(Counter.value)
        )
    ).scalar_one()
    return list(range(top - count + 1, top + 1))


async def executemany(session: AsyncSession, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Run ``sql`` once per row, at the driver's level, in the session's transaction.

    ``sql`` is written with ``?`` placeholders (made ``$1, $2...`` for asyncpg) and the
    values must be as the driver takes them (UUIDs through :func:`uuid_param`). This skips
    SQLAlchemy's per-row parameter processing, most of a Core executemany's own cost when
    there are 100,000 rows.
    """
    if dialect_name(session) == "postgresql":
        parts = sql.split("?")
        sql = "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], start=1)) + parts[-1]
    connection = await session.connection()
    await connection.exec_driver_sql(sql, list(rows))


def uuid_param(session: AsyncSession) -> Callable[[uuid.UUID], Any]:
    """A UUID as :func:`executemany` passes it: as it is to asyncpg (a native ``uuid``),
    and on SQLite as the 32 hex digits SQLAlchemy's ``Uuid`` type stores there."""
    if dialect_name(session) == "postgresql":
        return _same
    return attrgetter("hex")


def _same(value: uuid.UUID) -> uuid.UUID:
    return value
