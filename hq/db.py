"""Engine and session factory for HQ's store (SQLite file or PostgreSQL).

SQLite: every connection gets WAL, ``synchronous=FULL``, foreign keys and a busy timeout,
and write units of work start with ``BEGIN IMMEDIATE`` so that concurrent writers (several
uvicorn workers) queue on the busy timeout instead of failing half way with "database is
locked" when a read lock cannot be upgraded. PostgreSQL: asyncpg, and correctness from
row locks and unique constraints taken inside each transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "kedai_begin"

SQLITE_CACHE_KIB = 64 * 1024
"""The page cache of each HQ connection to SQLite (SQLite's default is 2 MiB).

A push of 500 sales inserts into a dozen indexes on random keys (UUIDs), so it touches
thousands of pages spread over each index; with 2 MiB they were evicted (dirty ones
written to the WAL early) and read back within the same push. 64 MiB holds them: over
a 50,000-sale drain a push's writes took 72-101 ms with 2 MiB, 50-68 ms with 64 MiB.
A connection takes the memory only as it reads pages, so a small store's HQ never
grows to it."""

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}",
)
"""Every HQ connection to SQLite runs these (the benchmarks' raw floors on HQ's schema
too, so that they measure the same configuration)."""


class DatabaseUrlError(ValueError):
    """A database URL (or path) HQ cannot use; the message is one line for the user."""


def database_url(value: str) -> str:
    """Accept a SQLAlchemy URL or a plain path to a SQLite file; refuse anything else.

    The default store is a file, so ``KEDAI_HQ_DATABASE_URL=/srv/hq.db`` means that file
    (``sqlite:////srv/hq.db``) rather than a parser's traceback. Raises
    :class:`DatabaseUrlError` with a one-line reason for what cannot be used.
    """
    value = value.strip()
    if not value:
        raise DatabaseUrlError("database URL is empty; give a sqlite:/// or postgresql:// URL")
    if "://" not in value:
        return f"sqlite:///{value}"
    try:
        parsed = make_url(value)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseUrlError(f"cannot parse database URL: {exc}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUrlError(
            f"unsupported database {parsed.get_backend_name()!r}; use sqlite or postgresql"
        )
    return value


def async_url(url: str) -> str:
    """Fill in the async driver: ``sqlite://`` -> aiosqlite, ``postgresql://`` -> asyncpg."""
    parsed = make_url(database_url(url))
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend == "postgresql" and parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


@dataclass(frozen=True, slots=True)
class Database:
    """The engine and the session factory every unit of work opens exactly once."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    """Write units of work (``BEGIN IMMEDIATE`` on SQLite)."""
    readers: async_sessionmaker[AsyncSession]
    """Read-only units of work (deferred ``BEGIN`` on SQLite: never blocks writers)."""

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's implicit transactions are switched off; _sqlite_on_begin emits BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def open_database(url: str, *, pool_size: int = 5, echo: bool = False) -> Database:
    """Create the engine for ``url``; nothing connects until first use."""
    full_url = async_url(url)
    if make_url(full_url).get_backend_name() == "sqlite":
        engine = create_async_engine(full_url, echo=echo)
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
        writer = engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        return Database(
            engine=engine,
            sessions=async_sessionmaker(writer, expire_on_commit=False),
            readers=async_sessionmaker(engine, expire_on_commit=False),
        )
    engine = create_async_engine(
        full_url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )
    factory = async_sessionmaker(engine, expire_on_commit=False)
    return Database(engine=engine, sessions=factory, readers=factory)
