"""`kedai-till enroll` and `kedai-till sync`: the sync agent without the UI.

``sync --once`` is for scripts and service managers: it drains the outbox and pulls HQ's
changes, exits 0 only if both completed, and otherwise prints one line and exits with a
sysexits-style code a supervisor can act on:

=====  =========================================================
0      everything pending was pushed (HQ answered for each) and all changes pulled
75     HQ unreachable / timed out / connection dropped (EX_TEMPFAIL: try later)
76     HQ answered something unexpected (EX_PROTOCOL)
77     HQ refused the till: token wrong or revoked (EX_NOPERM: re-enroll)
78     the till is not enrolled (EX_CONFIG)
1      a local problem (no database, database locked, ...)
=====  =========================================================
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

import click

from terminal.cli_common import db_option, fail, open_db

EXIT_CODES = {
    "hq_unreachable": 75,
    "hq_protocol": 76,
    "hq_refused": 77,
    "not_enrolled": 78,
}


@click.command()
@db_option
@click.option("--server", required=True, help="HQ base URL, e.g. https://hq.example.sg")
@click.option("--token", required=True, help="The token `kedai-hq enroll` printed.")
def enroll(db_path: Path, server: str, token: str) -> None:
    """Enroll this till with HQ (stores URL, identity and token; file mode 0600)."""
    from sync.agent import enroll as enroll_till
    from sync.agent.errors import SyncError
    from terminal.services.errors import TillError
    from terminal.services.setup import init_till
    from terminal.services.sync_store import TillSyncStore

    async def go() -> str:
        db = open_db(db_path)
        try:
            await init_till(db)
            who = await enroll_till(TillSyncStore(db), server=server, token=token)
            return who.terminal_id
        finally:
            await db.dispose()

    try:
        terminal_id = asyncio.run(go())
    except SyncError as exc:
        fail(f"enrollment failed: {exc.message}", EXIT_CODES.get(exc.code, 1))
    except TillError as exc:
        fail(exc.message)
    click.echo(f"Enrolled {db_path} as terminal {terminal_id} with {server.rstrip('/')}")


@click.command()
@db_option
@click.option("--once", is_flag=True, help="Drain and pull once, then exit (0 = all done).")
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Log here instead of stderr.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log each cycle (INFO).")
def sync(db_path: Path, once: bool, log_file: Path | None, verbose: bool) -> None:
    """Run the sync agent without the UI (forever, or --once)."""
    from sync.agent import StoreError, SyncError
    from terminal.services.errors import TillError

    if not db_path.exists():
        fail(f"no till database at {db_path}: run `kedai-till enroll` first")
    logging.basicConfig(
        filename=log_file,
        level=logging.INFO if verbose or not once else logging.ERROR,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if once:
            line = asyncio.run(_once(db_path))
            click.echo(line)
        else:
            asyncio.run(_forever(db_path))
    except SyncError as exc:
        fail(exc.message, EXIT_CODES.get(exc.code, 1))
    except (TillError, StoreError) as exc:
        fail(exc.message)


async def _once(db_path: Path) -> str:
    from sync.agent import SyncAgent
    from terminal.services.sync_store import TillSyncStore

    db = open_db(db_path)
    agent = SyncAgent(TillSyncStore(db))
    try:
        report = await agent.sync_once()
    finally:
        await agent.aclose()
        await db.dispose()
    return (
        f"pushed {report.pushed} events ({report.rejected} rejected) in {report.batches} "
        f"batches; pulled {report.changes} changes; HQ holds up to seq {report.contiguous_seq}"
    )


async def _forever(db_path: Path) -> None:
    """Run until SIGTERM/SIGINT, then cancel the agent between units of work and exit 0.

    Cancelling is safe at any await: a write unit of work that is cancelled rolls back,
    and an event whose answer was lost is simply sent again next time.
    """
    from sync.agent import SyncAgent
    from terminal.services.sync_store import TillSyncStore

    db = open_db(db_path)
    agent = SyncAgent(TillSyncStore(db))
    task = asyncio.create_task(agent.run())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await agent.aclose()
        await db.dispose()
        logging.getLogger(__name__).info("sync agent stopped")


def register(group: click.Group) -> None:
    """Add ``enroll`` and ``sync`` to the ``kedai-till`` group."""
    group.add_command(enroll)
    group.add_command(sync)
