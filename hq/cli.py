"""``kedai-hq``: run and administer head office.

This is the only HQ module that writes to stdout; everything else logs.
"""

from __future__ import annotations

import json
import logging
import os
import signal
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from hq import manage
from hq.admins import AdminError
from hq.auth.accounts import AccountError
from hq.config import InsecureSettingsError, Settings, SettingsError, load_settings
from hq.db import DatabaseUrlError
from hq.db import database_url as checked_database_url
from hq.enroll import EnrollmentError

_DB_HELP = "SQLAlchemy URL of the store (env KEDAI_HQ_DATABASE_URL; default ./kedai-hq.db)"


def _settings(explicit_url: str | None) -> Settings:
    """Settings from the environment, with ``--database-url`` if typed; bad ones in one line."""
    try:
        if explicit_url is None:
            return load_settings()
        return load_settings(database_url=checked_database_url(explicit_url))
    except DatabaseUrlError as exc:
        raise click.ClickException(f"--database-url: {exc}") from None
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _database_url(explicit: str | None) -> str:
    return _settings(explicit).database_url


def database_option(fn: Any) -> Any:
    return click.option("--database-url", default=None, help=_DB_HELP)(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Kedai head office: receives every till's events, serves their changes."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8400, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--access-log/--no-access-log", default=True, show_default=True)
@database_option
def serve(host: str, port: int, workers: int, access_log: bool, database_url: str | None) -> None:
    """Migrate the store, then serve the API with uvicorn (SIGTERM stops it cleanly)."""
    import uvicorn

    from hq.app import create_app
    from hq.httpserver import HeaderTimeoutH11Protocol

    settings = _settings(database_url)
    try:
        settings.check_secure()
    except InsecureSettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    manage.run(settings.database_url, manage.do_prepare_serve)
    # Worker processes rebuild their settings from the environment.
    os.environ["KEDAI_HQ_DATABASE_URL"] = settings.database_url
    url = make_url(settings.database_url)
    click.echo(
        f"kedai-hq serving http://{host}:{port} ({url.get_backend_name()} "
        f"{url.render_as_string(hide_password=True)}, {workers} worker(s))",
        err=True,
    )
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it against the handler it
    # found: this one, so a service manager sees exit status 0 rather than "killed".
    signal.signal(signal.SIGTERM, _exit_cleanly)
    common: dict[str, Any] = {
        "http": HeaderTimeoutH11Protocol,
        "host": host,
        "port": port,
        "access_log": access_log,
        "timeout_graceful_shutdown": 10,
        "log_level": "info",
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **common)
    else:
        uvicorn.run("hq.app:app_from_env", factory=True, workers=workers, **common)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


@main.command()
@database_option
def migrate(database_url: str | None) -> None:
    """Create or upgrade the store's schema."""
    manage.run(_database_url(database_url), manage.do_migrate)
    click.echo("schema is up to date")


@main.command()
@click.option("--outlet", required=True, help="outlet code, e.g. DEMO")
@click.option("--terminal", required=True, help="terminal code, e.g. T01")
@click.option("--replace", is_flag=True, help="re-issue the token of an enrolled terminal")
@click.option("--json", "as_json", is_flag=True, help="print {terminal_id, ..., token}")
@database_option
def enroll(
    outlet: str, terminal: str, replace: bool, as_json: bool, database_url: str | None
) -> None:
    """Enroll terminal OUTLET-TERMINAL and print its token (shown only this once)."""
    try:
        enrolled = manage.enroll_terminal_sync(
            _database_url(database_url), outlet=outlet, terminal=terminal, replace=replace
        )
    except EnrollmentError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(
            json.dumps(
                {
                    "terminal_id": enrolled.terminal_id,
                    "outlet_code": enrolled.outlet_code,
                    "terminal_code": enrolled.terminal_code,
                    "token": enrolled.token,
                }
            )
        )
        return
    click.echo(f"terminal {enrolled.terminal_id} enrolled")
    click.echo(f"token {enrolled.token}")
    click.echo(
        "The token is shown only this once. On the till run:\n"
        f"  kedai-till enroll --server http://HQ-HOST:8400 --token {enrolled.token}",
        err=True,
    )


@main.command()
@click.option("--terminal", "terminal_id", required=True, help="terminal id, e.g. DEMO-T01")
@database_option
def revoke(terminal_id: str, database_url: str | None) -> None:
    """Revoke a terminal's token at once (re-enroll with --replace to issue a new one)."""
    if not manage.revoke_terminal_sync(_database_url(database_url), terminal_id=terminal_id):
        raise click.ClickException(f"no terminal {terminal_id}")
    click.echo(f"terminal {terminal_id} revoked")


@main.command("import-catalog")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@database_option
def import_catalog(path: Path, database_url: str | None) -> None:
    """Upsert products from a CSV (sku,barcode,name,price,tax_code,cdc_eligible,active,
    age_restricted,category).

    Every row is checked first; one bad row imports nothing, and every bad row is listed.
    """
    result = manage.import_catalog_sync(_database_url(database_url), path)
    if result.error_count:
        shown = "\n".join(f"  line {e.line}: {e.message}" for e in result.errors[:20])
        more = result.error_count - min(len(result.errors), 20)
        raise click.ClickException(
            f"{path}: nothing imported, {result.error_count} bad row(s):\n{shown}"
            + (f"\n  ... and {more} more" if more else "")
        )
    click.echo(
        f"{len(result.records)} products read: {result.new} new, {result.changed} changed, "
        f"{result.unchanged} unchanged"
    )
    if result.new_categories:
        click.echo(
            f"{len(result.new_categories)} new categories created: "
            + ", ".join(result.new_categories)
        )


@main.command("create-admin")
@click.option("--username", required=True)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="KEDAI_HQ_ADMIN_PASSWORD",
    help="prompted for when not given (or env KEDAI_HQ_ADMIN_PASSWORD)",
)
@click.option(
    "--role",
    type=click.Choice(["owner", "manager", "accountant"]),
    default="owner",
    show_default=True,
    help="owner: everything; manager: their outlets; accountant: reports, read-only",
)
@click.option("--outlet", "outlets", multiple=True, help="an outlet a manager sees (repeatable)")
@database_option
def create_admin(
    username: str, password: str, role: str, outlets: tuple[str, ...], database_url: str | None
) -> None:
    """Create an HQ admin (or set a new password and role)."""
    try:
        manage.create_admin_sync(
            _database_url(database_url),
            username=username,
            password=password,
            role=role,
            outlets=outlets,
        )
    except AdminError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"admin {username} saved ({role})")


@main.group()
def admin() -> None:
    """Back-office admins: list them and their API tokens, revoke a token, deactivate,
    reactivate or remove an admin (audited as "(command line)")."""


@admin.command("list")
@click.option("--json", "as_json", is_flag=True, help="print {admins: [...], tokens: [...]}")
@database_option
def admin_list(as_json: bool, database_url: str | None) -> None:
    """Every admin (role, outlets, status) and every API token (never its secret)."""
    people, tokens = manage.admins_sync(_database_url(database_url))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "admins": [{**a.model_dump(mode="json"), "active": a.active} for a in people],
                    "tokens": [t.model_dump(mode="json") for t in tokens],
                },
                indent=2,
            )
        )
        return
    for a in people:
        status = "active" if a.active else "DEACTIVATED"
        where = ",".join(a.outlets) if a.outlets else "every outlet"
        click.echo(f"{a.username:<24} {a.role:<10} {status:<11} {where}  tokens {a.live_tokens}")
    for t in tokens:
        state = "revoked" if t.revoked_at else "live"
        click.echo(f"  token {t.token_id:>5} {state:<7} {t.username:<24} {t.name}")


@admin.command("revoke-token")
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
@database_option
def admin_revoke_token(token_id: int, database_url: str | None) -> None:
    """Revoke any admin's API token by its number (from `admin list`)."""
    try:
        token = manage.revoke_admin_token_sync(_database_url(database_url), token_id=token_id)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"token {token.token_id} ({token.name}) of {token.username} revoked")


def _account(action: str, username: str, database_url: str | None) -> None:
    try:
        manage.admin_account_sync(_database_url(database_url), action=action, username=username)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc


@admin.command("deactivate")
@click.argument("username")
@database_option
def admin_deactivate(username: str, database_url: str | None) -> None:
    """Deactivate an admin: sessions ended, API tokens revoked, no log-in (not the last
    active owner)."""
    _account("deactivate", username, database_url)
    click.echo(f"admin {username} deactivated")


@admin.command("reactivate")
@click.argument("username")
@database_option
def admin_reactivate(username: str, database_url: str | None) -> None:
    """Let a deactivated admin log in again (their old API tokens stay revoked)."""
    _account("reactivate", username, database_url)
    click.echo(f"admin {username} reactivated")


@admin.command("remove")
@click.argument("username")
@click.confirmation_option(prompt="Remove this admin, their sessions and API tokens?")
@database_option
def admin_remove(username: str, database_url: str | None) -> None:
    """Delete an admin with their sessions and API tokens (not the last active owner)."""
    _account("remove", username, database_url)
    click.echo(f"admin {username} removed")


@main.command("seed-demo")
@database_option
def seed_demo(database_url: str | None) -> None:
    """Fill the store with the demo shop: settings, tenders, cashiers, catalog, customers."""
    result = manage.seed_demo_sync(_database_url(database_url))
    click.echo(
        f"demo store seeded: {result.products} products, {result.customers} customers, "
        f"{result.cashiers} cashiers ({result.changed} records changed)"
    )


@main.group()
def report() -> None:
    """Head-office reports."""


@report.command()
@click.option("--json", "as_json", is_flag=True)
@database_option
def summary(as_json: bool, database_url: str | None) -> None:
    """Sales, loyalty points outstanding and each terminal's sync state."""
    result = manage.summary_sync(_database_url(database_url))
    if as_json:
        click.echo(result.model_dump_json(indent=2))
        return
    click.echo(f"sales              {result.sales_count} = {_money(result.sales_total_cents)}")
    click.echo(f"refunds            {result.refunds_count} = {_money(result.refunds_total_cents)}")
    click.echo(f"net sales          {_money(result.net_sales_cents)}")
    click.echo(f"points outstanding {result.loyalty_points_outstanding}")
    for t in result.terminals:
        seen = t.last_seen_at.isoformat(timespec="seconds") if t.last_seen_at else "never"
        flags = " REVOKED" if t.revoked else ""
        click.echo(
            f"  {t.terminal:<20} seq {t.contiguous_seq:>8}  seen {seen}  "
            f"quarantined {t.quarantined}{flags}"
        )


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}S${abs(cents) // 100:,}.{abs(cents) % 100:02d}"
