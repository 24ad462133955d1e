"""Backlog drain: a till's 50,000-sale outbox pushed to a real HQ over loopback.

Measured end to end: the :class:`sync.agent.SyncAgent` reads the outbox, builds and
gzips batches, POSTs them to ``kedai-hq serve`` (a child process, one worker) and marks
each batch from HQ's answer, exactly as in production. Beside it, in the same run:

- the transport floor: the very same gzip bodies POSTed by an ``httpx.AsyncClient`` to a
  do-nothing raw asyncio HTTP server (reads the body, answers a fixed 2-byte JSON);
- the storage floor: plain ``sqlite3`` writing the rows HQ writes for those sales
  (events, sales, lines, payments, loyalty entries, customer balance updates, the
  terminal's mark) into HQ's own schema (migrated by ``kedai-hq migrate``), one
  transaction per batch, WAL + synchronous=FULL, UUID keys.

The backlog till file is made once (``kedai-till simulate``'s service, with loyalty
customers) and cached in the temp dir; each run drains a fresh copy into a fresh HQ.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.harness import Figure, Section
from hq import manage
from sync.agent import SyncAgent
from sync.agent.batches import batch_body
from sync.protocol import MAX_PUSH_EVENTS
from terminal.db.engine import open_database
from terminal.services import sync_store
from terminal.services.sync_store import TillSyncStore

PG_BIN = Path("/usr/lib/postgresql/15/bin")
BATCH = MAX_PUSH_EVENTS
"""The agent's default batch size (bounded by bytes too, far above these sales)."""
HQ_ENV = {"KEDAI_HQ_SECRET_KEY": "bench-secret-not-default"}


def run(quick: bool) -> Section:
    n = 1_000 if quick else 50_000
    runs = 1 if quick else 3
    backlog = _backlog(n)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bodies = asyncio.run(_bodies(backlog, tmp))
        sqlite_rates = [
            _drain_once(backlog, tmp / f"sq{i}", _sqlite_url(tmp / f"sq{i}")) for i in range(runs)
        ]
        pg_rates: list[float] = []
        pg_note = ""
        if (PG_BIN / "initdb").exists():
            with _postgres() as base_url:
                for i in range(runs):
                    url = _create_db(base_url, f"hq{i}")
                    pg_rates.append(_drain_once(backlog, tmp / f"pg{i}", url))
        else:
            pg_note = " PostgreSQL binaries not found: PostgreSQL figure skipped."
        noop_rates = [asyncio.run(_post_to_noop(bodies, n)) for _ in range(runs)]
        raw_rates = [_raw_sqlite_floor(backlog, tmp / f"raw{i}", n) for i in range(runs)]
    figures = [
        Figure(
            f"drain {n:,} sales -> SQLite HQ",
            "sales/s",
            sqlite_rates,
            floor_name="raw sqlite3, HQ's rows",
            floor_samples=raw_rates,
            higher_is_better=True,
            target=">= 3,500 sales/s (within 2x of floor)",
        ),
        Figure(
            f"drain {n:,} sales -> SQLite HQ",
            "sales/s",
            sqlite_rates,
            floor_name="same gzip bodies to do-nothing server",
            floor_samples=noop_rates,
            higher_is_better=True,
        ),
    ]
    if pg_rates:
        figures.append(
            Figure(
                f"drain {n:,} sales -> PostgreSQL HQ",
                "sales/s",
                pg_rates,
                floor_name="same gzip bodies to do-nothing server",
                floor_samples=noop_rates,
                higher_is_better=True,
            )
        )
    size = sum(len(b) for b in bodies)
    return Section(
        title="Backlog drain (sync agent -> HQ)",
        notes=[
            f"{n:,} sales (1-8 lines, ~40% with a loyalty customer) in one till's outbox, "
            f"pushed by `SyncAgent.sync_once()` in batches of {BATCH} "
            f"({len(bodies)} POSTs, {size / 1e6:.1f} MB gzipped) to `kedai-hq serve` "
            "(1 worker) on 127.0.0.1; each run drains a fresh copy into a fresh HQ store. "
            "Samples are whole-drain rates, one per run. Floors measured in the same run: "
            "the same gzip bodies POSTed to a do-nothing asyncio server, and raw `sqlite3` "
            "writing HQ's rows for those sales into HQ's schema, one transaction per batch "
            "(WAL, synchronous=FULL, UUID keys)." + pg_note,
        ],
        figures=figures,
    )


# --------------------------------------------------------------------------- backlog


def _backlog(n: int) -> Path:
    """The till file with ``n`` pending sales, made once and cached (it takes minutes)."""
    path = Path(tempfile.gettempdir()) / f"kedai-bench-drain-{n}-v1.db"
    if not path.exists():
        part = path.with_suffix(".part")
        part.unlink(missing_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from terminal.cli import main; main()",
                "simulate",
                "--db",
                str(part),
                "--sales",
                str(n),
                "--customers",
                "--seed",
                "7",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with closing(sqlite3.connect(part)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        part.rename(path)
    return path


def _copy(backlog: Path, to: Path) -> Path:
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(backlog, to)
    return to


async def _bodies(backlog: Path, tmp: Path) -> list[bytes]:
    """The gzip bodies the agent would send, built by the agent's own function."""
    db = open_database(_copy(backlog, tmp / "bodies.db"))
    bodies: list[bytes] = []
    after = 0
    try:
        while rows := await sync_store.read_pending(db, after_seq=after, limit=BATCH):
            batch, body = batch_body(rows, "DEMO-T01", 1024 * 1024)
            bodies.append(gzip.compress(body, compresslevel=5))
            after = batch[-1].seq
    finally:
        await db.dispose()
    return bodies


# ------------------------------------------------------------------------ real HQ


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sqlite_url(d: Path) -> str:
    d.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{d / 'hq.db'}"


def _hq_cli(*args: str, url: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hq", *args, "--database-url", url],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **HQ_ENV},
    )
    return done.stdout


def _drain_once(backlog: Path, work: Path, database_url: str) -> float:
    """Fresh HQ store + fresh till copy; returns sales/s for the push phase."""
    work.mkdir(parents=True, exist_ok=True)
    _hq_cli("migrate", url=database_url)
    token = json.loads(
        _hq_cli("enroll", "--outlet", "DEMO", "--terminal", "T01", "--json", url=database_url)
    )["token"]
    port = _free_port()
    argv = manage.serve_argv(database_url=database_url, port=port, workers=1)
    with (work / "hq.log").open("wb") as log:
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **HQ_ENV}
        )
    try:
        _wait_healthy(port, proc)
        return asyncio.run(_drain(_copy(backlog, work / "till.db"), port, token))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _wait_healthy(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("kedai-hq serve exited early")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("kedai-hq serve did not come up")


async def _drain(till: Path, port: int, token: str) -> float:
    db = open_database(till)
    try:
        from sync.agent import enroll

        await enroll(TillSyncStore(db), server=f"http://127.0.0.1:{port}", token=token)
        pending = (await sync_store.outbox_counts(db)).pending
        agent = SyncAgent(TillSyncStore(db), batch_events=BATCH)
        started = time.perf_counter()
        report = await agent.sync_once()
        elapsed = time.perf_counter() - started
        await agent.aclose()
        assert report.pushed == pending, report
        return pending / elapsed
    finally:
        await db.dispose()


# ------------------------------------------------------------------------ PostgreSQL


class _postgres:  # noqa: N801 - used as a context manager
    """A throwaway cluster from the installed server binaries (initdb + pg_ctl).

    PostgreSQL refuses to run as root; then the cluster runs as the ``postgres`` system
    user (``runuser``) in a directory of its own outside the root-only temp dir.
    """

    def __init__(self) -> None:
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="kedai-bench-pg-"))
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            import pwd

            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def _pg(self, *argv: object) -> None:
        subprocess.run(
            [*self.prefix, *map(str, argv)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def __enter__(self) -> str:
        data = self.root / "data"
        self._pg(PG_BIN / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._pg(
            PG_BIN / "pg_ctl", "-D", data, "-o", opts, "-l", self.root / "pg.log", "-w", "start"
        )
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        try:
            self._pg(PG_BIN / "pg_ctl", "-D", self.root / "data", "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _create_db(base_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url}/{name}"


# ---------------------------------------------------------------------------- floors


async def _post_to_noop(bodies: list[bytes], n: int) -> float:
    """The same bodies, the same client, to a server that does nothing with them."""

    handlers: list[asyncio.Task[None]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        current = asyncio.current_task()
        assert current is not None
        handlers.append(current)  # type: ignore[arg-type]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 2\r\n\r\n{}"
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    async with server, httpx.AsyncClient() as client:
        started = time.perf_counter()
        for body in bodies:
            response = await client.post(
                f"http://127.0.0.1:{port}/v1/sync/push", content=body, headers=headers
            )
            response.raise_for_status()
        elapsed = time.perf_counter() - started
    await asyncio.gather(*handlers)  # each sees EOF once the client has closed
    return n / elapsed


def _raw_sqlite_floor(backlog: Path, work: Path, n: int) -> float:
    """Plain sqlite3 writing HQ's rows for the same sales into HQ's schema, per batch."""
    url = _sqlite_url(work)
    _hq_cli("migrate", url=url)
    events = _events(backlog)
    hq = work / "hq.db"
    now = datetime.now(UTC).isoformat()
    conn = sqlite3.connect(hq, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("INSERT INTO outlets (code, name) VALUES ('DEMO', 'Demo') ON CONFLICT DO NOTHING")
    conn.execute(
        "INSERT INTO terminals (terminal_id, outlet_code, terminal_code, token_hash, revoked, "
        "enrolled_at, contiguous_seq) VALUES ('DEMO-T01','DEMO','T01','x',0,?,0)",
        (now,),
    )
    started = time.perf_counter()
    for start in range(0, len(events), BATCH):
        batch = events[start : start + BATCH]
        ev, sales, lines, pays, loyalty = [], [], [], [], []
        for seq, event_id, occurred, payload_text in batch:
            p = json.loads(payload_text)
            eid = uuid.UUID(event_id).hex
            ev.append((eid, "DEMO-T01", seq, "sale.completed", 1, occurred, now, payload_text))
            sid = uuid.UUID(p["sale_id"]).hex
            sales.append(
                (
                    sid, "sale", eid, "DEMO-T01", p["receipt_no"], uuid.UUID(p["cashier_id"]).hex,
                    uuid.UUID(p["customer_id"]).hex if p["customer_id"] else None,
                    p["subtotal_cents"], p["discount_cents"], p["total_cents"],
                    p["tax_cents"], p["gst_rate_bp"], p["rounding_cents"], p["change_cents"],
                    occurred, now,
                )
            )  # fmt: skip
            for li in p["lines"]:
                lines.append(
                    (
                        sid, li["line_no"], uuid.UUID(li["product_id"]).hex, li["sku"],
                        li["name"], li["qty"], li["unit_price_cents"], li["discount_cents"],
                        li["total_cents"], li["tax_code"],
                    )
                )  # fmt: skip
            for pay in p["payments"]:
                pays.append(
                    (
                        uuid.UUID(pay["payment_id"]).hex, sid, pay["tender"],
                        pay["amount_cents"], pay["tendered_cents"], pay.get("reference"),
                    )
                )  # fmt: skip
            for d in p["loyalty"]:
                loyalty.append(
                    (
                        uuid.UUID(d["entry_id"]).hex, uuid.UUID(d["customer_id"]).hex,
                        d["points"], d["reason"], eid, "DEMO-T01", occurred, now,
                    )
                )  # fmt: skip
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO events (event_id, terminal_id, terminal_seq, type, schema_version, "
            "occurred_at, received_at, payload, quarantined) VALUES (?,?,?,?,?,?,?,?,0) "
            "ON CONFLICT DO NOTHING",
            ev,
        )
        conn.executemany(
            "INSERT INTO sales (sale_id, kind, event_id, terminal_id, receipt_no, cashier_id, "
            "customer_id, subtotal_cents, discount_cents, total_cents, tax_cents, gst_rate_bp, "
            "rounding_cents, change_cents, occurred_at, received_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            sales,
        )
        conn.executemany(
            "INSERT INTO sale_lines (sale_id, line_no, product_id, sku, name, qty, "
            "unit_price_cents, discount_cents, total_cents, tax_code) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            lines,
        )
        conn.executemany(
            "INSERT INTO payments (payment_id, sale_id, tender, amount_cents, tendered_cents, "
            "reference) VALUES (?,?,?,?,?,?)",
            pays,
        )
        conn.executemany(
            "INSERT INTO loyalty_entries (entry_id, customer_id, points, reason, event_id, "
            "terminal_id, occurred_at, received_at) VALUES (?,?,?,?,?,?,?,?)",
            loyalty,
        )
        conn.executemany(
            "UPDATE customers SET loyalty_balance = loyalty_balance + ? WHERE customer_id = ?",
            [(row[2], row[1]) for row in loyalty],
        )
        conn.execute(
            "UPDATE terminals SET contiguous_seq = ? WHERE terminal_id = 'DEMO-T01'",
            (batch[-1][0],),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return n / elapsed


def _events(backlog: Path) -> list[tuple[int, str, str, str]]:
    with closing(sqlite3.connect(backlog)) as conn:
        rows = conn.execute(
            "SELECT seq, event_id, occurred_at, payload FROM outbox WHERE type = "
            "'sale.completed' ORDER BY seq"
        ).fetchall()
    return [(seq, str(uuid.UUID(str(eid))), occ, payload) for seq, eid, occ, payload in rows]
