"""Engine and session factories for the till's SQLite file.

Every connection gets the PRAGMAs the design requires (WAL, ``synchronous=FULL``,
foreign keys, a busy timeout). pysqlite's own transaction handling is switched off so
that we emit ``BEGIN`` ourselves: write units of work use ``BEGIN IMMEDIATE`` (take the
write lock up front, so two writers queue on ``busy_timeout`` instead of failing with
"database is locked" half way), while read units of work use a deferred ``BEGIN`` and
never block the checkout.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

if TYPE_CHECKING:
    import sqlite3

    import aiosqlite

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5_000
_BEGIN_OPTION = "kedai_begin"

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
)


@dataclass(slots=True)
class WriteLane:
    """One pooled connection held out of the pool for :func:`write_in_one_trip`.

    Taking a connection from SQLAlchemy's async pool and giving it back costs three
    greenlet switches and three turns of the event loop (~0.19 ms measured), as much as
    the hand-off to the driver's thread itself; for the checkout that was an eighth of a
    sale. Units of work queued on one aiosqlite connection run one after another, each
    whole (``BEGIN IMMEDIATE`` .. ``COMMIT`` is one function on its thread), so the lane
    needs no lock of its own; writers on other connections still meet it at SQLite's
    write lock, as before.
    """

    connection: AsyncConnection | None = None
    driver: aiosqlite.Connection | None = None


@dataclass(frozen=True, slots=True)
class Database:
    """The engine plus the two session factories services use."""

    path: Path
    engine: AsyncEngine
    reader: async_sessionmaker[AsyncSession]
    """Deferred ``BEGIN``: for units of work that only read."""
    writer: async_sessionmaker[AsyncSession]
    """``BEGIN IMMEDIATE``: for units of work that write."""
    lane: WriteLane = field(default_factory=WriteLane, compare=False, repr=False)
    """Where :func:`write_in_one_trip` runs; opened on first use, closed by :meth:`dispose`."""

    async def dispose(self) -> None:
        held = self.lane.connection
        self.lane.connection = self.lane.driver = None
        if held is not None:
            await held.close()  # back to the pool, which the engine's dispose then closes
        await self.engine.dispose()


def _pragmas(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in (*PRAGMAS, f"PRAGMA busy_timeout={busy_timeout_ms}"):
                cursor.execute(pragma)
        finally:
            cursor.close()

    return on_connect


def _on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _rollback_if_open(_dbapi: Any, record: Any, reset_state: Any) -> None:
    """The pool's reset on check-in, only when a transaction is open.

    Units of work end their transactions themselves (``session.begin()`` commits or rolls
    back; :func:`write_in_one_trip` likewise), so the default unconditional ``rollback``
    on check-in was one more trip to the driver's thread per unit of work for nothing.
    A connection that comes back inside a transaction is still rolled back.
    """
    if not reset_state.terminate_only and record.driver_connection.in_transaction:
        record.dbapi_connection.rollback()


def open_database(
    path: str | os.PathLike[str], *, busy_timeout_ms: int = BUSY_TIMEOUT_MS, echo: bool = False
) -> Database:
    """Create the engine for ``path`` (nothing touches the file until first use).

    ``busy_timeout_ms`` is how long a writer waits for another's lock before giving up
    with "database is locked" (which services turn into a StorageError).
    """
    db_path = Path(path)
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{db_path}", echo=echo, pool_reset_on_return=None
    )
    event.listen(engine.sync_engine, "connect", _pragmas(busy_timeout_ms))
    event.listen(engine.sync_engine, "reset", _rollback_if_open)
    event.listen(engine.sync_engine, "begin", _on_begin)
    writer_engine = engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
    return Database(
        path=db_path,
        engine=engine,
        reader=async_sessionmaker(engine, expire_on_commit=False),
        writer=async_sessionmaker(writer_engine, expire_on_commit=False),
    )


async def driver_connection(session: AsyncSession) -> aiosqlite.Connection:
    """The aiosqlite connection under ``session``'s transaction (begun if it was not).

    For hot paths only. Through SQLAlchemy's adapter every statement costs three or four
    hand-offs to the aiosqlite thread (cursor, execute, fetch, close; ~0.45 ms); the
    driver's own ``execute_fetchall`` is one (~0.1 ms). The transaction stays the
    session's: it commits or rolls back with ``session.begin()`` as usual.
    """
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    return cast("aiosqlite.Connection", raw.driver_connection)


async def in_driver_thread(conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``fn(sqlite3_connection)`` on the aiosqlite thread: several statements, one hand-off.

    aiosqlite owns its ``sqlite3`` connection on one thread and queues each call to it;
    every public method (``execute``, ``executemany``, ``commit``...) is one such trip
    through ``Connection._execute``. A unit of work that writes several tables queues one
    plain function through that same primitive instead of one trip per statement, and
    stays inside the transaction already open on the connection. ``fn`` runs on the
    driver's thread, so it must only touch the connection it is given.
    """
    queue = cast("Callable[..., Awaitable[T]]", conn._execute)
    return await queue(fn, conn._conn)


async def in_one_trip(db: Database, fn: Callable[[sqlite3.Connection], T]) -> T:
    """``fn`` on a pooled connection's driver thread, in one hand-off, outside any
    explicit transaction: for a hot read that is one statement (a scan's lookup), which
    SQLite runs in its own read transaction and which, in WAL, never waits for a writer.
    Through a session it was five trips (the adapter's ``BEGIN``, cursor, fetch, close,
    commit)."""
    async with db.engine.connect() as conn:  # taken from the pool; SQLAlchemy begins nothing
        pooled = await conn.get_raw_connection()
        driver = cast("aiosqlite.Connection", pooled.driver_connection)
        return await in_driver_thread(driver, fn)


async def write_in_one_trip(db: Database, fn: Callable[[sqlite3.Connection], T]) -> T:
    """A whole write transaction in one hand-off: ``BEGIN IMMEDIATE``, ``fn``, ``COMMIT``.

    For the checkout, whose every read and write fits one plain function. Through a
    session the same unit of work costs eight trips to the aiosqlite thread (three for
    ``BEGIN`` through the adapter, one per read, the write, the commit and the pool's
    reset); each is a thread wake-up, which on a busy till box is most of the cost. Here
    ``fn`` runs between ``BEGIN IMMEDIATE`` and ``COMMIT`` on the driver's thread (through
    the database's :class:`WriteLane`, a pooled connection it keeps); if it raises, the
    transaction is rolled back there and the exception is raised here.
    """

    def unit(raw: sqlite3.Connection) -> T:
        if raw.in_transaction:  # a ROLLBACK that failed last time (the pool did this)
            raw.execute("ROLLBACK")
        raw.execute("BEGIN IMMEDIATE")
        try:
            result = fn(raw)
            raw.execute("COMMIT")
        except BaseException:
            if raw.in_transaction:  # also when COMMIT itself failed (a full disk)
                raw.execute("ROLLBACK")
            raise
        return result

    return await in_driver_thread(db.lane.driver or await _open_lane(db), unit)


async def _open_lane(db: Database) -> aiosqlite.Connection:
    connection = await db.engine.connect()
    pooled = await connection.get_raw_connection()
    if db.lane.driver is not None:  # another unit of work opened it meanwhile
        await connection.close()
        return db.lane.driver
    driver = cast("aiosqlite.Connection", pooled.driver_connection)
    db.lane.connection, db.lane.driver = connection, driver
    return driver
