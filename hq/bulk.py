"""Driver-level bulk inserts for ingest's hot path.

SQLAlchemy Core's executemany does work per row in Python: a parameter dict, then each
column's type processing (UUID to hex on SQLite, :class:`~hq.models.UtcDateTime`,
JSON). For a push of 200 sales, ~1,100 rows over five tables, that cost about twice what
SQLite itself spent writing them. Here the caller builds each row as a tuple already in
the driver's form for the dialect (:meth:`BulkWriter.uuid`, :meth:`BulkWriter.timestamp`),
and the rows go through ``exec_driver_sql`` untouched, one statement per table: a
multi-row ``INSERT ... VALUES`` on SQLite, ``INSERT ... SELECT FROM unnest(<one array per
column>)`` on PostgreSQL (one prepared statement whatever the row count; asyncpg's
``executemany`` binds row by row and cost ~3x more). ``RETURNING`` tells the caller which
rows were new; every insert is ``ON CONFLICT DO NOTHING``: the unique constraints decide.

Projecting the facts from the stored payloads in SQL instead (``json_each`` /
``json_array_elements``, as the till's trigger does) was measured too: on SQLite 3.40
unpacking the JSON cost ~7.7 ms per 200-sale batch against ~4 ms for tuples built from
the already validated models plus executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from itertools import chain
from typing import Any
from uuid import UUID

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

SQLITE_MAX_PARAMS = 32_766
"""SQLite's limit on bind parameters per statement (SQLITE_MAX_VARIABLE_NUMBER)."""


@dataclass(frozen=True, slots=True)
class Write:
    """One insert (or, with ``sums``, additive upsert) for :meth:`BulkWriter.write_all`.

    ``columns``: the insert's columns, or the upsert's key columns (then ``sums``);
    ``rows``: tuples in that order, as for :meth:`BulkWriter.insert`/:meth:`~BulkWriter.upsert`.
    """

    table: Table
    columns: tuple[str, ...]
    rows: Sequence[tuple[Any, ...]]
    sums: tuple[str, ...] = ()
    returning: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BulkWriter:
    """Inserts driver-ready tuples on the session's connection (inside its transaction)."""

    connection: AsyncConnection
    postgres: bool

    @classmethod
    async def of(cls, session: AsyncSession) -> BulkWriter:
        connection = await session.connection()
        return cls(connection, connection.dialect.name == "postgresql")

    def uuid(self, value: UUID | None) -> UUID | str | None:
        """A UUID as the column stores it: native on PostgreSQL, 32 hex chars on SQLite."""
        if value is None or self.postgres:
            return value
        return value.hex

    def timestamp(self, value: datetime) -> datetime | str:
        """An aware datetime as UTC: ``timestamptz``, or SQLAlchemy's SQLite text format."""
        value = value.astimezone(UTC)
        if self.postgres:
            return value
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")

    def uuid_of(self, stored: Any) -> UUID:
        """Back from :meth:`uuid` (asyncpg's own UUID type is a :class:`uuid.UUID`)."""
        return stored if isinstance(stored, UUID) else UUID(hex=stored)

    async def insert(
        self,
        table: Table,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
        returning: Sequence[str] = (),
    ) -> list[Row[Any]]:
        """Insert ``rows`` (tuples in ``columns`` order); return ``returning`` of the new ones."""
        if not rows:
            return []
        if self.postgres:
            sql = _unnest_insert(table, tuple(columns), tuple(returning))
            params: tuple[Any, ...] = tuple(list(column) for column in zip(*rows, strict=True))
            return await self._run(sql, params, returning)
        out: list[Row[Any]] = []
        width = len(columns)
        per_statement = SQLITE_MAX_PARAMS // width
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            values = ", ".join([f"({', '.join('?' * width)})"] * len(chunk))
            sql = f"{_head(table, columns)} VALUES {values}{_tail(returning)}"
            params = tuple(chain.from_iterable(chunk))
            out += await self._run(sql, params, returning)
        return out

    async def write_all(self, writes: Sequence[Write]) -> list[Row[Any]]:
        """Run ``writes`` (those with rows) and return ``returning`` of the one write
        that asks for it (at most one may).

        SQLite: one after another, as :meth:`insert` and :meth:`upsert`. PostgreSQL: as
        one statement, every write but the returning one (or the last) a data-modifying
        ``WITH`` of the other (all run, against one snapshot): one round trip instead of
        one each. Only for writes to different tables that do not read each other.
        """
        writes = [w for w in writes if w.rows]
        if len([w for w in writes if w.returning]) > 1:
            raise ValueError("at most one write may ask for RETURNING")
        if not self.postgres or len(writes) < 2:
            out: list[Row[Any]] = []
            for w in writes:
                if w.sums:
                    await self.upsert(w.table, w.columns, w.sums, w.rows)
                else:
                    out += await self.insert(w.table, w.columns, w.rows, w.returning)
            return out
        writes.sort(key=lambda w: bool(w.returning))  # the returning one is the main statement
        sql = _combined(tuple((w.table, w.columns, w.sums, w.returning) for w in writes))
        params = tuple(list(column) for w in writes for column in zip(*w.rows, strict=True))
        return await self._run(sql, params, writes[-1].returning)

    async def upsert(
        self,
        table: Table,
        key: Sequence[str],
        sums: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
    ) -> None:
        """Add ``rows`` (``key`` then ``sums`` columns) to the rows already there:
        ``ON CONFLICT (key) DO UPDATE SET s = table.s + excluded.s``.

        Each key may appear once in ``rows`` (PostgreSQL refuses to update a row twice in
        one statement); pass them in a fixed order so that concurrent writers take row
        locks in the same order.
        """
        if not rows:
            return
        columns = (*key, *sums)
        tail = _upsert_tail(table, tuple(key), tuple(sums))
        if self.postgres:
            sql = _unnest_upsert(table, columns, tail)
            params: tuple[Any, ...] = tuple(list(column) for column in zip(*rows, strict=True))
            await self.connection.exec_driver_sql(sql, params)
            return
        width = len(columns)
        per_statement = SQLITE_MAX_PARAMS // width
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            values = ", ".join([f"({', '.join('?' * width)})"] * len(chunk))
            sql = f"{_head(table, columns)} VALUES {values}{tail}"
            await self.connection.exec_driver_sql(sql, tuple(chain.from_iterable(chunk)))

    async def _run(
        self, sql: str, params: tuple[Any, ...], returning: Sequence[str]
    ) -> list[Row[Any]]:
        result = await self.connection.exec_driver_sql(sql, params)
        return list(result.all()) if returning else []


def _upsert_tail(table: Table, key: tuple[str, ...], sums: tuple[str, ...]) -> str:
    return f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET " + ", ".join(
        f"{c} = {table.name}.{c} + excluded.{c}" for c in sums
    )


def _head(table: Table, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table.name} ({', '.join(columns)})"


def _tail(returning: Sequence[str]) -> str:
    tail = " ON CONFLICT DO NOTHING"
    return f"{tail} RETURNING {', '.join(returning)}" if returning else tail


@cache
def _unnest_upsert(table: Table, columns: tuple[str, ...], tail: str, start: int = 1) -> str:
    return f"{_head(table, columns)} SELECT * FROM unnest({_arrays(table, columns, start)}){tail}"


def _arrays(table: Table, columns: tuple[str, ...], start: int = 1) -> str:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return ", ".join(
        f"${i}::{table.c[name].type.compile(dialect=dialect)}[]"
        for i, name in enumerate(columns, start=start)
    )


@cache
def _combined(
    writes: tuple[tuple[Table, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...],
) -> str:
    """PostgreSQL: ``WITH w1 AS (INSERT ...), ... <last INSERT>``, parameters numbered
    across the writes in order (one array per column)."""
    parts, start = [], 1
    for table, columns, sums, returning in writes:
        if sums:
            parts.append(
                _unnest_upsert(table, (*columns, *sums), _upsert_tail(table, columns, sums), start)
            )
        else:
            parts.append(_unnest_insert(table, columns, returning, start))
        start += len(columns) + len(sums)
    withs = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(parts[:-1], start=1))
    return f"WITH {withs} {parts[-1]}"


@cache
def _unnest_insert(
    table: Table, columns: tuple[str, ...], returning: tuple[str, ...], start: int = 1
) -> str:
    """PostgreSQL: one array parameter per column, so the text (and its prepared
    statement) is the same whatever the number of rows."""
    arrays = _arrays(table, columns, start)
    return f"{_head(table, columns)} SELECT * FROM unnest({arrays}){_tail(returning)}"
