"""`kedai-till demo`: a real HQ on loopback, an enrolled till, and the till UI.

Starts ``kedai-hq serve`` as a child process on a free loopback port with an embedded
SQLite store, seeds the demo shop (``kedai-hq seed-demo``), enrolls terminal DEMO-T01
(``kedai-hq enroll``), enrolls this till with the printed token, pulls the catalog and
cashiers once, then opens the till with its sync agent running. Quitting the till stops
HQ (terminate, then wait). If any step fails the reason goes to stderr and the exit
status is non-zero; nothing is left running.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

HQ_START_TIMEOUT = 30.0


def fail(message: str) -> None:
    """One line on stderr and a non-zero exit (as `kedai-till`'s other commands do)."""
    click.echo(f"kedai-till: {message}", err=True)
    sys.exit(1)


class DemoError(Exception):
    """A demo step failed; the message says which and why."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hq(*args: str, env: dict[str, str], timeout: float = 60) -> str:
    argv = [sys.executable, "-m", "hq", *args]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise DemoError(f"`kedai-hq {args[0]}` took over {timeout:.0f} s") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise DemoError(f"`kedai-hq {args[0]}` failed: {detail[-1] if detail else done.returncode}")
    return done.stdout


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + HQ_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise DemoError("kedai-hq serve exited at start: " + " | ".join(tail))
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise DemoError(f"kedai-hq serve did not answer on {url} within {HQ_START_TIMEOUT:.0f} s")


def stop_hq(proc: subprocess.Popen[bytes]) -> None:
    """Terminate HQ (SIGTERM: uvicorn shuts down gracefully) and wait for it."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


async def _prepare_till(db_path: Path, url: str, token: str) -> None:
    """Create the till, enroll it, and pull HQ's demo store (cashiers, catalog) once."""
    from sync.agent import SyncAgent, enroll
    from sync.agent.errors import SyncError
    from terminal.db.engine import open_database
    from terminal.services.errors import TillError
    from terminal.services.setup import init_till
    from terminal.services.sync_store import TillSyncStore

    db = open_database(db_path)
    try:
        await init_till(db, outlet_code="DEMO", terminal_code="T01")
        store = TillSyncStore(db)
        await enroll(store, server=url, token=token)
        agent = SyncAgent(store)
        try:
            await agent.sync_once()
        finally:
            await agent.aclose()
    except SyncError as exc:
        raise DemoError(f"enrolling the till failed: {exc.message}") from exc
    except TillError as exc:
        raise DemoError(exc.message) from exc
    finally:
        await db.dispose()


@click.command()
@click.option(
    "--dir",
    "demo_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where HQ's and the till's files go (default: a new temporary directory).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="HQ port (0: any free).")
@click.option("--keep", is_flag=True, help="Keep the demo directory afterwards.")
def demo(demo_dir: Path | None, port: int, keep: bool) -> None:
    """Run a demo shop: a real HQ on loopback, an enrolled till, the till UI."""
    from terminal.ui.app import run_till

    made = demo_dir is None
    root = Path(tempfile.mkdtemp(prefix="kedai-demo-")) if demo_dir is None else demo_dir
    root.mkdir(parents=True, exist_ok=True)
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "KEDAI_HQ_DEMO": "1",
        "KEDAI_HQ_DATABASE_URL": f"sqlite:///{root / 'hq.db'}",
    }
    env.setdefault("KEDAI_TILL_LOG", str(root / "till.log"))
    os.environ.setdefault("KEDAI_TILL_LOG", str(root / "till.log"))
    hq_log = root / "hq.log"
    till_db = root / "till.db"
    proc: subprocess.Popen[bytes] | None = None
    try:
        argv = [sys.executable, "-m", "hq", "serve", "--host", "127.0.0.1"]
        argv += ["--port", str(port), "--no-access-log"]
        click.echo(f"Starting HQ on {url} (files in {root}) ...", err=True)
        with hq_log.open("ab") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        _wait_healthy(proc, url, hq_log)
        _hq("seed-demo", env=env)
        token = json.loads(
            _hq("enroll", "--outlet", "DEMO", "--terminal", "T01", "--json", env=env)
        )["token"]
        if till_db.exists():  # a re-used --dir: start the till afresh, as HQ was
            for suffix in ("", "-wal", "-shm"):
                Path(f"{till_db}{suffix}").unlink(missing_ok=True)
        asyncio.run(_prepare_till(till_db, url, token))
        click.echo("HQ ready; opening the till (cashier PIN 1234, manager 9999) ...", err=True)
        run_till(till_db)
    except DemoError as exc:
        fail(f"demo: {exc}")
    finally:
        if proc is not None:
            stop_hq(proc)
        if made and not keep:
            shutil.rmtree(root, ignore_errors=True)
