"""HQ ingest throughput: ``POST /v1/sync/push`` to a real ``kedai-hq serve`` over loopback.

Each sample is one batch of 200 realistic ``sale.completed`` events (3 lines, a payment,
loyalty points on about half), gzip JSON as the sync agent sends it, pushed to a fresh
terminal; the figure is events per second for that batch. The floor writes the same rows
(events, sales, lines, payments, ledger, balance increments) into the same HQ schema with
the raw driver and one transaction per batch: ``sqlite3`` executemany (WAL,
``synchronous=FULL``) and psycopg executemany on a temporary PostgreSQL cluster started
here with ``initdb``/``pg_ctl`` (fsync on). What is left between figure and floor is HTTP,
JSON validation, idempotency checks and the contiguous mark.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Figure, Section
from tests.events import grocery_sales

BATCH = 200
CUSTOMERS = [uuid.uuid4() for _ in range(40)]


def run(quick: bool) -> Section:
    batches = 4 if quick else 25
    section = Section(
        title="HQ ingest (push over loopback vs raw bulk insert)",
        notes=[
            f"{BATCH} `sale.completed` events per push (3 lines, 1 payment, loyalty on ~half), "
            "gzip JSON, sequential pushes from one till to `kedai-hq serve --workers 1`; "
            "samples are events/s per batch (first batch is warm-up, not counted).",
            "Floor: the same rows into the same schema with the raw driver, one transaction "
            "per batch (sqlite3 executemany WAL+FULL; psycopg executemany, fsync on).",
        ],
    )
    with tempfile.TemporaryDirectory(prefix="kedai-bench-ingest-") as tmp:
        sqlite_url = f"sqlite:///{tmp}/hq.db"
        figure = _serve_samples(Path(tmp), sqlite_url, batches)
        floor = _sqlite_floor(Path(tmp) / "floor.db", batches)
        section.figures.append(
            Figure(
                name="ingest, SQLite",
                unit="events/s",
                samples=figure,
                floor_name="sqlite3 executemany",
                floor_samples=floor,
                higher_is_better=True,
                target=">= 1,000 events/s",
            )
        )
        try:
            with _temp_postgres(Path(tmp)) as (admin_url, run_sql):
                run_sql("CREATE DATABASE hq")
                run_sql("CREATE DATABASE floor")
                base = admin_url.rsplit("/", 1)[0]
                figure = _serve_samples(Path(tmp), f"{base}/hq", batches)
                floor = _pg_floor(f"{base}/floor", batches)
                section.figures.append(
                    Figure(
                        name="ingest, PostgreSQL",
                        unit="events/s",
                        samples=figure,
                        floor_name="psycopg executemany",
                        floor_samples=floor,
                        higher_is_better=True,
                        target=">= 1,000 events/s",
                    )
                )
        except _NoPostgres as exc:
            section.notes.append(f"PostgreSQL skipped: {exc}")
    return section


# ------------------------------------------------------------------------- workload


def _events(terminal_id: str, first_seq: int) -> list[dict[str, Any]]:
    return grocery_sales(terminal_id, first_seq, BATCH, CUSTOMERS)


# ---------------------------------------------------------------------------- serve


def _serve_samples(tmp: Path, database_url: str, batches: int) -> list[float]:
    from hq import manage

    enrolled = manage.enroll_terminal_sync(database_url, outlet="BENCH", terminal="T01")
    tid = enrolled.terminal_id
    bodies = [
        gzip.compress(
            json.dumps({"terminal_id": tid, "events": _events(tid, 1 + b * BATCH)}).encode(), 5
        )
        for b in range(batches + 1)
    ]
    port = _free_port()
    env = {**os.environ, "KEDAI_HQ_SECRET_KEY": uuid.uuid4().hex}
    argv = manage.serve_argv(database_url=database_url, port=port, workers=1)
    with (tmp / f"serve-{port}.log").open("wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
    samples = []
    try:
        headers = {
            "Authorization": f"Bearer {enrolled.token}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
        }
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            _wait_healthy(client, proc)
            for i, body in enumerate(bodies):
                started = time.perf_counter()
                r = client.post("/v1/sync/push", content=body, headers=headers)
                elapsed = time.perf_counter() - started
                r.raise_for_status()
                assert r.json()["contiguous_seq"] == (i + 1) * BATCH
                if i:
                    samples.append(BATCH / elapsed)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return samples


def _wait_healthy(client: httpx.Client, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kedai-hq serve exited with {proc.returncode}")
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("kedai-hq serve did not become healthy")


# ---------------------------------------------------------------------------- floor


def _rows(events: list[dict[str, Any]], *, hex_ids: bool) -> dict[str, list[tuple[Any, ...]]]:
    """The rows HQ writes for ``events``, in driver-ready form."""

    def u(value: str | None) -> Any:
        if value is None:
            return None
        return uuid.UUID(value).hex if hex_ids else uuid.UUID(value)

    now = datetime.now(UTC)
    ts: Any = now.replace(tzinfo=None).isoformat(" ") if hex_ids else now
    out: dict[str, list[tuple[Any, ...]]] = {
        k: [] for k in ("events", "sales", "lines", "payments", "loyalty", "balances")
    }
    for e in events:
        p = e["payload"]
        out["events"].append(
            (u(e["event_id"]), e["terminal_id"], e["terminal_seq"], e["type"], 1, ts, ts,
             json.dumps(p), False)
        )  # fmt: skip
        out["sales"].append(
            (u(p["sale_id"]), "sale", u(e["event_id"]), e["terminal_id"], p["receipt_no"],
             u(p["cashier_id"]), u(p["customer_id"]), p["subtotal_cents"], p["discount_cents"],
             p["total_cents"], p["tax_cents"], p["gst_rate_bp"], 0, 0, ts, ts)
        )  # fmt: skip
        out["lines"] += [
            (u(p["sale_id"]), ln["line_no"], u(ln["product_id"]), ln["sku"], ln["name"],
             ln["qty"], ln["unit_price_cents"], 0, ln["total_cents"], ln["tax_code"])
            for ln in p["lines"]
        ]  # fmt: skip
        out["payments"] += [
            (u(pay["payment_id"]), u(p["sale_id"]), pay["tender"], pay["amount_cents"],
             pay["tendered_cents"])
            for pay in p["payments"]
        ]  # fmt: skip
        for d in p["loyalty"]:
            out["loyalty"].append(
                (u(d["entry_id"]), u(d["customer_id"]), d["points"], "earn", u(e["event_id"]),
                 e["terminal_id"], ts, ts)
            )  # fmt: skip
            out["balances"].append((d["points"], u(d["customer_id"])))
    return out


_SQL = {
    "events": "INSERT INTO events (event_id, terminal_id, terminal_seq, type, schema_version, "
    "occurred_at, received_at, payload, quarantined) VALUES ({})",
    "sales": "INSERT INTO sales (sale_id, kind, event_id, terminal_id, receipt_no, cashier_id, "
    "customer_id, subtotal_cents, discount_cents, total_cents, tax_cents, gst_rate_bp, "
    "rounding_cents, change_cents, occurred_at, received_at) VALUES ({})",
    "lines": "INSERT INTO sale_lines (sale_id, line_no, product_id, sku, name, qty, "
    "unit_price_cents, discount_cents, total_cents, tax_code) VALUES ({})",
    "payments": "INSERT INTO payments (payment_id, sale_id, tender, amount_cents, "
    "tendered_cents) VALUES ({})",
    "loyalty": "INSERT INTO loyalty_entries (entry_id, customer_id, points, reason, event_id, "
    "terminal_id, occurred_at, received_at) VALUES ({})",
    "balances": "UPDATE customers SET loyalty_balance = loyalty_balance + {} "
    "WHERE customer_id = {}",
}


def _statements(placeholder: str) -> dict[str, str]:
    out = {}
    for table, sql in _SQL.items():
        if table == "balances":
            out[table] = sql.format(placeholder, placeholder)
        else:
            n = sql.split("(", 2)[1].count(",") + 1
            out[table] = sql.format(", ".join([placeholder] * n))
    return out


def _prepare_schema(database_url: str, *, hex_ids: bool) -> list[tuple[Any, ...]]:
    """Create HQ's schema (same indexes/constraints as the figure) and the customers."""
    from hq import manage

    manage.run(database_url, manage.do_migrate)
    return [(c.hex if hex_ids else c, "Bench customer", 0, False, 0) for c in CUSTOMERS]


_CUSTOMER_SQL = (
    "INSERT INTO customers (customer_id, name, loyalty_balance, placeholder, change_seq) "
    "VALUES ({0}, {0}, {0}, {0}, {0})"
)


def _sqlite_floor(path: Path, batches: int) -> list[float]:
    customers = _prepare_schema(f"sqlite:///{path}", hex_ids=True)
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")
    conn.executemany(_CUSTOMER_SQL.format("?"), customers)
    sql = _statements("?")
    samples = []
    for b in range(batches + 1):
        rows = _rows(_events("FLOOR-T01", 1 + b * BATCH), hex_ids=True)
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for table, stmt in sql.items():
            conn.executemany(stmt, rows[table])
        conn.execute("COMMIT")
        if b:
            samples.append(BATCH / (time.perf_counter() - started))
    conn.close()
    return samples


def _pg_floor(database_url: str, batches: int) -> list[float]:
    import psycopg

    customers = _prepare_schema(database_url, hex_ids=False)
    sql = _statements("%s")
    samples = []
    with psycopg.connect(database_url.replace("postgresql://", "postgresql://", 1)) as conn:
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(_CUSTOMER_SQL.format("%s"), customers)
        for b in range(batches + 1):
            rows = _rows(_events("FLOOR-T01", 1 + b * BATCH), hex_ids=False)
            started = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur:
                for table, stmt in sql.items():
                    cur.executemany(stmt, rows[table])
            if b:
                samples.append(BATCH / (time.perf_counter() - started))
    return samples


# ----------------------------------------------------------------------- postgresql


class _NoPostgres(Exception):
    pass


@contextmanager
def _temp_postgres(tmp: Path) -> Iterator[tuple[str, Any]]:
    """A throwaway cluster; as root, its processes run as the ``postgres`` user."""
    import psycopg

    pg_ctl = shutil.which("pg_ctl") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)), None
    )
    if pg_ctl is None:
        raise _NoPostgres("pg_ctl not found")
    bindir = Path(pg_ctl).resolve().parent
    home = Path(tempfile.mkdtemp(prefix="kedai-bench-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = home / "data", _free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": True}
    subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
        **quiet,  # type: ignore[arg-type]
    )
    options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={home}"
    ctl = [*prefix, str(bindir / "pg_ctl"), "-D", str(data)]
    subprocess.run([*ctl, "-w", "-l", str(home / "log"), "-o", options, "start"], **quiet)  # type: ignore[arg-type]
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def run_sql(statement: str) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    try:
        yield url, run_sql
    finally:
        subprocess.run([*ctl, "-m", "fast", "stop"], stdout=subprocess.DEVNULL, check=False)
        shutil.rmtree(home, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
