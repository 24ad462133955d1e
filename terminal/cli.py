"""`kedai-till`: the till's command line.

Heavy modules (SQLAlchemy, Textual, httpx) are imported inside the commands that need
them, so `kedai-till --help` and the till's start-up stay fast.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from terminal.cli_common import db_group_option, db_option, fail, open_db

if TYPE_CHECKING:
    from terminal.services.schemas import TillStatus


@click.group(invoke_without_command=True)
@db_group_option
@click.pass_context
def main(ctx: click.Context, db_path: Path) -> None:
    """Kedai till. With no command, opens the till UI."""
    ctx.ensure_object(dict)
    ctx.obj["db_path"] = db_path
    if ctx.invoked_subcommand is None:
        from terminal.ui.app import run_till

        run_till(db_path)


@main.command()
@db_option
@click.option("--outlet", default="DEMO", show_default=True, help="Outlet code.")
@click.option("--terminal", default="T01", show_default=True, help="Terminal code.")
@click.option("--store-name", default="Kedai", show_default=True)
def init(db_path: Path, outlet: str, terminal: str, store_name: str) -> None:
    """Create (or upgrade) the till database."""
    from terminal.services.setup import init_till

    async def go() -> bool:
        db = open_db(db_path)
        try:
            return await init_till(
                db, outlet_code=outlet, terminal_code=terminal, store_name=store_name
            )
        finally:
            await db.dispose()

    created = asyncio.run(go())
    click.echo(f"{'Created' if created else 'Upgraded'} {db_path}")


@main.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def status(db_path: Path, as_json: bool) -> None:
    """What this till has sold and how sync stands."""
    from terminal.domain.money import format_cents
    from terminal.services.errors import TillError
    from terminal.services.status import till_status

    if not db_path.exists():
        fail(f"no till database at {db_path}: run `kedai-till init` first")

    async def go() -> TillStatus:
        db = open_db(db_path)
        try:
            return await till_status(db)
        finally:
            await db.dispose()

    try:
        st = asyncio.run(go())
    except TillError as exc:
        fail(exc.message)
    if as_json:
        click.echo(json.dumps(st.model_dump(mode="json")))
        return
    click.echo(f"Till {st.outlet_code}-{st.terminal_code}  ({st.db_path})")
    click.echo(f"  sales:    {st.sales_count}  S${format_cents(st.sales_total_cents)}")
    click.echo(
        f"  outbox:   {st.outbox_pending} pending, {st.outbox_rejected} rejected, "
        f"{st.outbox_sent} sent"
    )
    click.echo(f"  HQ:       {st.hq_url or 'not enrolled'}")
    click.echo(f"  last push OK: {st.last_push_ok_at or 'never'}")
    if st.last_error:
        click.echo(f"  last error:   {st.last_error}")


# Commands defined in other modules register here.
from terminal.cli_ops import register as register_ops  # noqa: E402
from terminal.cli_simulate import simulate  # noqa: E402
from terminal.cli_sync import register as register_sync  # noqa: E402
from terminal.cli_ui import demo  # noqa: E402

register_sync(main)
register_ops(main)
main.add_command(simulate)
main.add_command(demo)
