"""Backlog drain: a till's 50,000-sale outbox pushed to a real HQ over loopback.

Measured end to end: the :class:`sync.agent.SyncAgent` reads the outbox, builds and
gzips batches, POSTs them to ``kedai-hq serve`` (a child process, one worker) and marks
each batch from HQ's answer, exactly as in production. Beside it, in the same run:

- the transport floor: the very same gzip bodies POSTed by an ``httpx.AsyncClient`` to a
  do-nothing raw asyncio HTTP server (reads the body, answers a fixed 2-byte JSON);
- the storage floor: plain ``sqlite3`` writing the rows HQ writes for those sales
  (events, sales, lines, payments, loyalty entries, stock movements, the two report
  rollups' additive upserts, customer balance updates, the terminal's mark) into HQ's own
  schema (migrated by ``kedai-hq migrate``), one transaction per batch, connected with
  HQ's own pragmas (``hq.db.SQLITE_PRAGMAS``: WAL, synchronous=FULL, foreign keys, the
  page cache), UUID keys.

The backlog till file is made once (``kedai-till simulate``'s service, with loyalty
customers) and cached in the temp dir; each run drains a fresh copy into a fresh HQ.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import httpx

from bench import hqserver, pg
from bench.harness import Figure, Section
from bench.hqserver import SECRET_ENV
from bench.p4_ingest import ROLLUP_SQL, Rollups, rollup_upsert
from hq.db import SQLITE_CACHE_KIB, SQLITE_PRAGMAS
from sync.agent import SyncAgent
from sync.agent.batches import batch_body
from sync.protocol import MAX_PUSH_EVENTS
from terminal.db.engine import open_database
from terminal.services import sync_store
from terminal.services.sync_store import TillSyncStore

BATCH = MAX_PUSH_EVENTS
"""The agent's default batch size (bounded by bytes too, far above these sales)."""
HQ_ENV = SECRET_ENV


KEYS = (
    "p4_drain_sqlite_sales_s",
    "p4_floor_sqlite_sales_s",
    "p4_drain_sqlite_ratio",
    "p4_drain_pg_sales_s",
    "p4_floor_pg_sales_s",
    "p4_drain_pg_ratio",
    "p4_transport_floor_sales_s",
    "p4_read_bodies_sales_s",
    "p4_drain_sqlite_vs_validating_ratio",
    "p4_drain_pg_vs_validating_ratio",
)


def run(quick: bool) -> Section:
    n = 1_000 if quick else 50_000
    runs = 1 if quick else 3
    backlog = _backlog(n)
    section = Section(title="P4 backlog drain (sync agent -> HQ)")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        bodies = asyncio.run(_bodies(backlog, tmp))
        sqlite_rates = [
            _drain_once(backlog, tmp / f"sq{i}", _sqlite_url(tmp / f"sq{i}")) for i in range(runs)
        ]
        raw_rates = [_raw_sqlite_floor(backlog, tmp / f"raw{i}", n) for i in range(runs)]
        pg_rates: list[float] = []
        pg_floor: list[float] = []
        try:
            cluster = pg.cluster()
            for i in range(runs):
                pg_rates.append(_drain_once(backlog, tmp / f"pg{i}", cluster.create_db("drain")))
                pg_floor.append(_raw_pg_floor(backlog, cluster.create_db("drainfloor"), n))
        except pg.NoPostgres as exc:
            section.skip(
                (
                    "p4_drain_pg_sales_s",
                    "p4_floor_pg_sales_s",
                    "p4_drain_pg_ratio",
                    "p4_drain_pg_vs_validating_ratio",
                ),
                str(exc),
            )
        noop_rates = [asyncio.run(_post_to_noop(bodies, n)) for _ in range(runs)]
        read_rates = [_read_bodies(bodies, n) for _ in range(runs)]

    def drain(
        store: str, rates: list[float], floor: str, floor_rates: list[float], target: str = ""
    ) -> Figure:
        """The drain into ``store`` beside one of its floors (all in sales/s)."""
        figure = Figure(
            f"drain {n:,} sales -> {store} HQ",
            "sales/s",
            rates,
            floor_name=floor,
            floor_samples=floor_rates,
            higher_is_better=True,
            target=target,
        )
        section.figures.append(figure)
        return figure

    goal = "within 1.5x of floor"
    sq = drain("SQLite", sqlite_rates, "raw sqlite3, HQ's rows", raw_rates, goal)
    section.put("p4_drain_sqlite_sales_s", sq.median)
    section.put("p4_floor_sqlite_sales_s", sq.floor_median)
    section.put("p4_drain_sqlite_ratio", sq.ratio)
    if pg_rates:
        pgf = drain("PostgreSQL", pg_rates, "psycopg COPY + executemany, HQ's rows", pg_floor, goal)
        section.put("p4_drain_pg_sales_s", pgf.median)
        section.put("p4_floor_pg_sales_s", pgf.floor_median)
        section.put("p4_drain_pg_ratio", pgf.ratio)
    drain("SQLite", sqlite_rates, "same gzip bodies to do-nothing server", noop_rates)
    section.put("p4_transport_floor_sales_s", statistics.median(noop_rates))
    # What HQ cannot skip on top of the writes: reading each body into the protocol's
    # models (DESIGN: everything that arrives is validated). Run by run, the two floors'
    # times added up.
    checked = drain(
        "SQLite",
        sqlite_rates,
        "raw sqlite3 + reading the bodies into the protocol's models",
        _plus_reading(raw_rates, read_rates),
    )
    section.put("p4_read_bodies_sales_s", statistics.median(read_rates))
    section.put("p4_drain_sqlite_vs_validating_ratio", checked.ratio)
    if pg_rates:
        pg_checked = drain(
            "PostgreSQL",
            pg_rates,
            "psycopg COPY + reading the bodies into the protocol's models",
            _plus_reading(pg_floor, read_rates),
        )
        section.put("p4_drain_pg_vs_validating_ratio", pg_checked.ratio)
    size = sum(len(b) for b in bodies)
    section.notes.append(
        f"{n:,} sales (1-8 lines, ~40% with a loyalty customer) in one till's outbox, "
        f"pushed by `SyncAgent.sync_once()` in batches of {BATCH} "
        f"({len(bodies)} POSTs, {size / 1e6:.1f} MB gzipped) to `kedai-hq serve` "
        "(1 worker) on 127.0.0.1; each run drains a fresh copy into a fresh HQ store. "
        f"Samples are whole-drain rates, one per run ({runs} runs). Floors measured in the "
        "same run: raw `sqlite3` writing HQ's rows for those sales into HQ's schema "
        "(events, sales, lines, payments, ledger, stock movements, the hourly sales and "
        "product rollups' additive upserts, balances, the mark; executemany, one "
        "transaction per batch, HQ's pragmas: WAL, synchronous=FULL, foreign keys, "
        f"{SQLITE_CACHE_KIB // 1024} MiB page cache); the same rows into HQ's PostgreSQL "
        "schema with psycopg `COPY` (events, sales, lines, payments, ledger, movements) and "
        "`executemany` (rollup upserts, balance and mark updates), one transaction per "
        "batch, fsync on; and the same gzip bodies POSTed to a do-nothing asyncio server. "
        "The validating floors add, run by run, the time HQ's `hq.wire.read_push` takes to "
        "read the same (gunzipped) bodies into the protocol's pydantic models in this "
        "process to each store's write floor: the parsing HQ may not skip, without HQ's "
        "cross-checks or row building."
    )
    return section


# --------------------------------------------------------------------------- backlog


def _backlog(n: int) -> Path:
    """The till file with ``n`` pending sales, made once and cached (it takes minutes).

    The cache is per till schema (its newest migration): a file made by an older release
    would lack tables the agent reads now.
    """
    versions = Path(__file__).resolve().parent.parent / "terminal/db/migrations/versions"
    head = max(f.name.split("_", 1)[0] for f in versions.glob("[0-9]*.py"))
    path = Path(tempfile.gettempdir()) / f"kedai-bench-drain-{n}-till{head}.db"
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


def _sqlite_url(d: Path) -> str:
    d.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{d / 'hq.db'}"


def _drain_once(backlog: Path, work: Path, database_url: str) -> float:
    """Fresh HQ store + fresh till copy; returns sales/s for the push phase."""
    work.mkdir(parents=True, exist_ok=True)
    hqserver.migrate(database_url)
    [(_, token)] = hqserver.enroll_many(database_url, "DEMO", ["T01"])
    with hqserver.serve(database_url, work) as base:
        return asyncio.run(_drain(_copy(backlog, work / "till.db"), base, token))


async def _drain(till: Path, base: str, token: str) -> float:
    db = open_database(till)
    try:
        from sync.agent import enroll

        await enroll(TillSyncStore(db), server=base, token=token)
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


# ---------------------------------------------------------------------------- floors


def _plus_reading(write_rates: list[float], read_rates: list[float]) -> list[float]:
    """A write floor with the reading of the bodies added, run by run (times add up)."""
    return [1 / (1 / w + 1 / r) for w, r in zip(write_rates, read_rates, strict=True)]


def _read_bodies(bodies: list[bytes], n: int) -> float:
    """Sales/s of reading every body into the protocol's models, as HQ does first."""
    from hq.wire import read_push

    plain = [gzip.decompress(b) for b in bodies]
    read_push(plain[0])  # warm, as in a running HQ
    started = time.perf_counter()
    for body in plain:
        read_push(body)
    return n / (time.perf_counter() - started)


async def _post_to_noop(bodies: list[bytes], n: int) -> float:
    """The same bodies, the same client, to a server that does nothing with them."""

    handlers: list[asyncio.Task[None]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        current = asyncio.current_task()
        assert current is not None
        handlers.append(current)
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


Rows = dict[str, list[tuple[object, ...]]]


def _batch_rows(batch: list[tuple[int, str, str, str]], now: str) -> Rows:
    """HQ's rows for one batch of outbox events (UUIDs as hex, times as ISO text)."""
    ev: list[tuple[object, ...]] = []
    sales: list[tuple[object, ...]] = []
    lines: list[tuple[object, ...]] = []
    pays: list[tuple[object, ...]] = []
    loyalty: list[tuple[object, ...]] = []
    sums = Rollups()
    for seq, event_id, occurred, payload_text in batch:
        p = json.loads(payload_text)
        sums.add(occurred, "DEMO-T01", uuid.UUID(p["cashier_id"]).hex, p)
        eid = uuid.UUID(event_id).hex
        ev.append((eid, "DEMO-T01", seq, "sale.completed", 1, occurred, now, payload_text, 0))
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
    return {
        "events": ev,
        "sales": sales,
        "sale_lines": lines,
        "payments": pays,
        "loyalty_entries": loyalty,
        "stock_movements": [
            ("sale", li[0], li[1], "DEMO", li[2], -cast(int, li[5]), occ, "DEMO-T01")
            for li, occ in zip(lines, sums.line_times, strict=True)
            if li[2] is not None  # an open-price line moves no stock
        ],
        "balances": [(row[2], row[1]) for row in loyalty],
        **dict(zip(("sales_hourly", "product_hourly"), sums.rows(), strict=True)),
    }


COLUMNS = {
    "events": "event_id, terminal_id, terminal_seq, type, schema_version, occurred_at, "
    "received_at, payload, quarantined",
    "sales": "sale_id, kind, event_id, terminal_id, receipt_no, cashier_id, customer_id, "
    "subtotal_cents, discount_cents, total_cents, tax_cents, gst_rate_bp, rounding_cents, "
    "change_cents, occurred_at, received_at",
    "sale_lines": "sale_id, line_no, product_id, sku, name, qty, unit_price_cents, "
    "discount_cents, total_cents, tax_code",
    "payments": "payment_id, sale_id, tender, amount_cents, tendered_cents, reference",
    "loyalty_entries": "entry_id, customer_id, points, reason, event_id, terminal_id, "
    "occurred_at, received_at",
    "stock_movements": "kind, reference, line_no, outlet_code, product_id, qty, occurred_at, actor",
}


def _insert_sql(table: str, mark: str) -> str:
    cols = COLUMNS[table]
    return f"INSERT INTO {table} ({cols}) VALUES ({', '.join([mark] * (cols.count(',') + 1))})"


def _raw_sqlite_floor(backlog: Path, work: Path, n: int) -> float:
    """Plain sqlite3 writing HQ's rows for the same sales into HQ's schema, per batch."""
    url = _sqlite_url(work)
    hqserver.migrate(url)
    events = _events(backlog)
    now = datetime.now(UTC).isoformat()
    conn = sqlite3.connect(work / "hq.db", isolation_level=None)
    for pragma in SQLITE_PRAGMAS:  # connected as HQ connects
        conn.execute(pragma)
    conn.execute("INSERT INTO outlets (code, name) VALUES ('DEMO', 'Demo') ON CONFLICT DO NOTHING")
    conn.execute(
        "INSERT INTO terminals (terminal_id, outlet_code, terminal_code, token_hash, revoked, "
        "enrolled_at, contiguous_seq) VALUES ('DEMO-T01','DEMO','T01','x',0,?,0)",
        (now,),
    )
    started = time.perf_counter()
    for start in range(0, len(events), BATCH):
        batch = events[start : start + BATCH]
        rows = _batch_rows(batch, now)
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(_insert_sql("events", "?") + " ON CONFLICT DO NOTHING", rows["events"])
        for table in ("sales", "sale_lines", "payments", "loyalty_entries", "stock_movements"):
            conn.executemany(_insert_sql(table, "?"), rows[table])
        for table in ROLLUP_SQL:
            conn.executemany(rollup_upsert(table, "?"), rows[table])
        conn.executemany(
            "UPDATE customers SET loyalty_balance = loyalty_balance + ? WHERE customer_id = ?",
            rows["balances"],
        )
        conn.execute(
            "UPDATE terminals SET contiguous_seq = ? WHERE terminal_id = 'DEMO-T01'",
            (batch[-1][0],),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return n / elapsed


def _raw_pg_floor(backlog: Path, url: str, n: int) -> float:
    """psycopg writing the same rows into HQ's PostgreSQL schema: COPY for the inserts,
    executemany for the balance updates, one transaction per batch (fsync on)."""
    import psycopg

    hqserver.migrate(url)
    events = _events(backlog)
    now = datetime.now(UTC).isoformat()
    with psycopg.connect(url) as conn:
        with conn.transaction():
            conn.execute("INSERT INTO outlets (code, name) VALUES ('DEMO', 'Demo')")
            conn.execute(
                "INSERT INTO terminals (terminal_id, outlet_code, terminal_code, token_hash, "
                "revoked, enrolled_at, contiguous_seq) VALUES "
                "('DEMO-T01','DEMO','T01','x',false,%s,0)",
                (now,),
            )
        started = time.perf_counter()
        for start in range(0, len(events), BATCH):
            batch = events[start : start + BATCH]
            rows = _batch_rows(batch, now)
            rows["events"] = [(*r[:-1], False) for r in rows["events"]]
            with conn.transaction(), conn.cursor() as cur:
                for table in (
                    "events", "sales", "sale_lines", "payments", "loyalty_entries",
                    "stock_movements",
                ):  # fmt: skip
                    with cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                        for row in rows[table]:
                            copy.write_row(row)
                for table in ROLLUP_SQL:
                    cur.executemany(rollup_upsert(table, "%s"), rows[table])
                cur.executemany(
                    "UPDATE customers SET loyalty_balance = loyalty_balance + %s "
                    "WHERE customer_id = %s",
                    rows["balances"],
                )
                cur.execute(
                    "UPDATE terminals SET contiguous_seq = %s WHERE terminal_id = 'DEMO-T01'",
                    (batch[-1][0],),
                )
        elapsed = time.perf_counter() - started
    return n / elapsed


def _events(backlog: Path) -> list[tuple[int, str, str, str]]:
    with closing(sqlite3.connect(backlog)) as conn:
        rows = conn.execute(
            "SELECT seq, event_id, occurred_at, payload FROM outbox WHERE type = "
            "'sale.completed' ORDER BY seq"
        ).fetchall()
    return [(seq, str(uuid.UUID(str(eid))), occ, payload) for seq, eid, occ, payload in rows]
