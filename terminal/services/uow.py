"""The one place a service opens a unit of work, and where SQLite failures get words.

``async with writing(db) as s:`` is ``async with db.writer() as s, s.begin():`` plus the
translation of every database failure ("database is locked", "disk is full", read-only,
a refused constraint, a damaged file) into a :class:`StorageError` a cashier can be
shown. The transaction has rolled back by then.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from terminal.db.engine import Database, in_one_trip, write_in_one_trip
from terminal.services.errors import StorageError

T = TypeVar("T")

_HINTS = (
    ("locked", "The till's database is busy (locked by another program). Try again."),
    ("busy", "The till's database is busy (locked by another program). Try again."),
    ("full", "The till's disk is full. Nothing was saved; free space and try again."),
    ("readonly", "The till's database is read-only. Nothing was saved; call support."),
    ("read-only", "The till's database is read-only. Nothing was saved; call support."),
    ("unable to open", "The till's database file cannot be opened; call support."),
    ("disk i/o", "The till's disk reported an error. Nothing was saved; call support."),
)


def storage_error(exc: DBAPIError | sqlite3.DatabaseError) -> StorageError:
    """Words for a failure SQLite reports (through SQLAlchemy or straight from the driver).

    Operational failures (locked, full, read-only) say what to do; anything else (a
    constraint the database itself refused, a damaged file) means nothing was saved and
    support should look, so the cashier is told that rather than shown a traceback.
    """
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    text = str(cause).lower()
    if isinstance(cause, sqlite3.OperationalError):
        for needle, message in _HINTS:
            if needle in text:
                return StorageError(message)
    return StorageError(f"The till's database refused this ({cause}). Nothing was saved.")


@asynccontextmanager
async def writing(db: Database) -> AsyncIterator[AsyncSession]:
    """A write unit of work: ``BEGIN IMMEDIATE`` ... ``COMMIT`` (or rollback on error)."""
    try:
        async with db.writer() as session, session.begin():
            yield session
    except (DBAPIError, sqlite3.DatabaseError) as exc:
        raise storage_error(exc) from exc


async def writing_in_one_trip(db: Database, fn: Callable[[sqlite3.Connection], T]) -> T:
    """:func:`writing` for a unit of work that is one plain function on the driver's
    thread (:func:`terminal.db.engine.write_in_one_trip`): the same ``BEGIN IMMEDIATE``,
    rollback on error and :class:`StorageError` words, in one hand-off."""
    try:
        return await write_in_one_trip(db, fn)
    except (DBAPIError, sqlite3.DatabaseError) as exc:
        raise storage_error(exc) from exc


async def reading_in_one_trip(db: Database, fn: Callable[[sqlite3.Connection], T]) -> T:
    """:func:`terminal.db.engine.in_one_trip` with :class:`StorageError` words."""
    try:
        return await in_one_trip(db, fn)
    except (DBAPIError, sqlite3.DatabaseError) as exc:
        raise storage_error(exc) from exc


@asynccontextmanager
async def reading(db: Database) -> AsyncIterator[AsyncSession]:
    """A read unit of work (deferred ``BEGIN``; never blocks a writer in WAL)."""
    try:
        async with db.reader() as session, session.begin():
            yield session
    except (DBAPIError, sqlite3.DatabaseError) as exc:
        raise storage_error(exc) from exc
