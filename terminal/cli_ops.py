"""`kedai-till report x|z` and `kedai-till print-test`: a shift's figures and the printer."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from terminal.cli_common import db_option, fail, open_db

if TYPE_CHECKING:
    from terminal.services.schemas import ShiftReport


@click.command()
@db_option
@click.argument("kind", type=click.Choice(["x", "z"]))
@click.option(
    "--shift",
    "which",
    default="last",
    show_default=True,
    help="A shift id, or `last` (x: the open shift; z: the last closed one).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option("--print", "to_printer", is_flag=True, help="Also print it on the till's printer.")
def report(db_path: Path, kind: str, which: str, as_json: bool, to_printer: bool) -> None:
    """The X report (a shift so far) or the Z report (a closed shift)."""
    from terminal.printing.documents import render_shift_report
    from terminal.services.errors import TillError

    if not db_path.exists():
        fail(f"no till database at {db_path}: run `kedai-till init` first")

    async def go() -> tuple[ShiftReport, str]:
        from terminal.services.catalog import store_profile
        from terminal.services.shifts import pick_shift, x_report, z_report

        db = open_db(db_path)
        try:
            shift_id = await pick_shift(db, which, closed=kind == "z")
            got = await (x_report(db, shift_id) if kind == "x" else z_report(db, shift_id))
            profile = await store_profile(db)
            return got, profile.store.store_name
        finally:
            await db.dispose()

    try:
        got, store_name = asyncio.run(go())
    except TillError as exc:
        fail(exc.message)
    if as_json:
        click.echo(json.dumps(got.model_dump(mode="json")))
    text = render_shift_report(got, store_name=store_name)
    if not as_json:
        click.echo(text)
    if to_printer:
        _print_or_fail(text)


def _print_or_fail(text: str, *, kick_drawer: bool = False) -> None:
    from terminal.printing.escpos_out import open_printer
    from terminal.printing.printer import PrinterError
    from terminal.printing.settings import load_settings

    try:
        printer = open_printer(load_settings())
        if printer is None:
            fail("no printer is set up (KEDAI_TILL_PRINTER_KIND=none)")
        printer.print_document(text, kick_drawer=kick_drawer)
    except (PrinterError, ValueError) as exc:
        fail(str(exc))


@click.command("print-test")
@click.option("--kick", is_flag=True, help="Open the cash drawer too.")
def print_test(kick: bool) -> None:
    """Print a test slip on the printer the till settings name."""
    from terminal.printing.settings import load_settings

    try:
        settings = load_settings()
    except ValueError as exc:
        fail(f"till settings: {exc}")
    width = settings.receipt_width
    lines = [
        "KEDAI PRINTER TEST".center(width).rstrip(),
        "-" * width,
        f"printer  {settings.printer_kind} {settings.printer_address}".rstrip(),
        f"width    {width} characters",
        "0123456789" * (width // 10) + "0123456789"[: width % 10],
        "-" * width,
    ]
    _print_or_fail("\n".join(lines), kick_drawer=kick)
    click.echo(f"Test slip sent to the {settings.printer_kind} printer.")


def register(group: click.Group) -> None:
    group.add_command(report)
    group.add_command(print_test)
