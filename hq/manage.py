"""Store administration as plain async functions (the CLI and tests call these).

Each opens one unit of work on a :class:`~hq.db.Database`; the ``*_sync``
helpers wrap them with ``asyncio.run`` for callers without an event loop.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from hq import admins, catalog_import, changes, enroll, migrate, reports, seed
from hq.auth import accounts
from hq.db import Database, open_database

T = TypeVar("T")


async def _with_db(database_url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    db = open_database(database_url)
    try:
        await migrate.upgrade(db)
        return await work(db)
    finally:
        await db.dispose()


def run(database_url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    """Migrate the store at ``database_url``, then run ``work(db)`` in a fresh event loop."""
    return asyncio.run(_with_db(database_url, work))


async def do_migrate(db: Database) -> None:
    """Nothing beyond the upgrade :func:`run` always does first."""


async def do_prepare_serve(db: Database) -> None:
    """Before serving: the upgrade :func:`run` does, then the change feed moved past the
    clock (see :func:`hq.changes.advance_feed_past_clock`)."""
    async with db.sessions() as s, s.begin():
        await changes.advance_feed_past_clock(session=s, now=datetime.now(UTC))


def enroll_terminal_sync(
    database_url: str, *, outlet: str, terminal: str, replace: bool = False
) -> enroll.EnrolledTerminal:
    async def work(db: Database) -> enroll.EnrolledTerminal:
        async with db.sessions() as s, s.begin():
            return await enroll.enroll_terminal(
                session=s, outlet_code=outlet, terminal_code=terminal, replace=replace
            )

    return run(database_url, work)


def revoke_terminal_sync(database_url: str, *, terminal_id: str) -> bool:
    async def work(db: Database) -> bool:
        async with db.sessions() as s, s.begin():
            return await enroll.revoke_terminal(session=s, terminal_id=terminal_id)

    return run(database_url, work)


def seed_demo_sync(database_url: str) -> seed.SeedResult:
    async def work(db: Database) -> seed.SeedResult:
        async with db.sessions() as s, s.begin():
            return await seed.seed_demo(session=s)

    return run(database_url, work)


def import_catalog_sync(database_url: str, path: Path) -> catalog_import.CatalogCheck:
    """Check and import a catalog CSV: every row, or (with any bad row) nothing."""

    async def work(db: Database) -> catalog_import.CatalogCheck:
        async with db.sessions() as s, s.begin():
            return await catalog_import.import_file(s, path)

    return run(database_url, work)


def create_admin_sync(
    database_url: str,
    *,
    username: str,
    password: str,
    role: str = "owner",
    outlets: Sequence[str] = (),
) -> None:
    async def work(db: Database) -> None:
        async with db.sessions() as s, s.begin():
            await admins.create_admin(
                session=s, username=username, password=password, role=role, outlets=outlets
            )

    run(database_url, work)


def admins_sync(database_url: str) -> tuple[list[accounts.AdminSummary], list[accounts.AdminToken]]:
    """Every admin and every API token (never a secret)."""

    async def work(db: Database) -> tuple[list[accounts.AdminSummary], list[accounts.AdminToken]]:
        async with db.readers() as s, s.begin():
            return (
                await accounts.list_admins(session=s),
                await accounts.list_all_tokens(session=s),
            )

    return run(database_url, work)


def revoke_admin_token_sync(database_url: str, *, token_id: int) -> accounts.AdminToken:
    """Revoke any admin's live API token (audited); raises :class:`AccountError`."""

    async def work(db: Database) -> accounts.AdminToken:
        async with db.sessions() as s, s.begin():
            return await accounts.revoke_token(
                session=s, token_id=token_id, actor=accounts.CLI_ACTOR
            )

    return run(database_url, work)


def admin_account_sync(database_url: str, *, action: str, username: str) -> None:
    """``deactivate``, ``reactivate`` or ``remove`` an admin (audited); raises
    :class:`AccountError` (the last active owner, no such admin...)."""
    act = {
        "deactivate": accounts.deactivate,
        "reactivate": accounts.reactivate,
        "remove": accounts.remove,
    }[action]

    async def work(db: Database) -> None:
        async with db.sessions() as s, s.begin():
            await act(session=s, username=username, actor=accounts.CLI_ACTOR)

    run(database_url, work)


def summary_sync(database_url: str) -> reports.Summary:
    async def work(db: Database) -> reports.Summary:
        async with db.readers() as s, s.begin():
            return await reports.summary(session=s)

    return run(database_url, work)


def serve_argv(
    *,
    database_url: str,
    host: str = "127.0.0.1",
    port: int = 8400,
    workers: int = 1,
    access_log: bool = False,
) -> list[str]:
    """The command line that starts ``kedai-hq serve`` with this interpreter.

    For a parent process (``kedai-till demo``, tests, benchmarks) that runs HQ as a real
    child process and polls ``GET /healthz`` until it answers.
    """
    argv = [sys.executable, "-m", "hq", "serve", "--host", host, "--port", str(port)]
    argv += ["--workers", str(workers), "--database-url", database_url]
    return argv + ([] if access_log else ["--no-access-log"])
