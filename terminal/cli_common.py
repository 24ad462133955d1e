"""What every `kedai-till` command shares: the ``--db`` option, opening it, failing.

Kept apart from :mod:`terminal.cli` so command modules (``cli_sync``, ``cli_ui``) can
import it without an import cycle.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from terminal.db.engine import Database

DB_ENV = "KEDAI_TILL_DB"


def default_db_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "kedai" / "till.db"


def _inherit_db(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path:
    """A command's ``--db`` if typed there, else the group's (typed, env or default).

    The group resolves the environment and the default, so ``kedai-till --db X status``
    and ``kedai-till status --db X`` open the same file.
    """
    if value is not None:
        return value
    parent = ctx.parent
    while parent is not None:
        inherited = parent.params.get("db_path")
        if isinstance(inherited, Path):
            return inherited
        parent = parent.parent
    env = os.environ.get(DB_ENV)
    return Path(env) if env else default_db_path()


_DB_HELP = f"The till's SQLite database file (env {DB_ENV})."

db_group_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=DB_ENV,
    default=default_db_path,
    show_default="$XDG_DATA_HOME/kedai/till.db",
    help=_DB_HELP,
)
"""``--db`` on the ``kedai-till`` group: applies to every command typed after it."""

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    callback=_inherit_db,
    help=_DB_HELP + " Defaults to the group's --db.",
)
"""``--db`` on a command: overrides the group's, else inherits it."""


def open_db(path: Path) -> Database:
    from terminal.db.engine import open_database

    path.parent.mkdir(parents=True, exist_ok=True)
    return open_database(path)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a one-line reason on stderr and exit non-zero."""
    click.echo(f"kedai-till: {message}", err=True)
    sys.exit(code)
