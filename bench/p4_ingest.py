"""HQ ingest throughput: ``POST /v1/sync/push`` to a real ``kedai-hq serve`` over loopback.

Each sample is one batch of 200 realistic ``sale.completed`` events (3 lines, a payment,
loyalty points on about half), gzip JSON as the sync agent sends it, pushed to a fresh
terminal; the figure is events per second for that batch. The floor writes the same rows
(events, sales, lines, payments, ledger, stock movements, the hourly sales and product
rollups' additive upserts, balance increments) into the same HQ schema with
the raw driver and one transaction per batch: ``sqlite3`` executemany (WAL,
``synchronous=FULL``) and psycopg executemany on a temporary PostgreSQL cluster started
here with ``initdb``/``pg_ctl`` (fsync on). What is left between figure and floor is HTTP,
JSON validation, idempotency checks and the contiguous mark.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import hqserver, pg
from bench.harness import Figure, Section
from hq import rollups
from hq.db import SQLITE_PRAGMAS
from tests.events import grocery_sales

BATCH = 200
CUSTOMERS = [uuid.uuid4() for _ in range(40)]


KEYS = (
    "p4_ingest_sqlite_events_s",
    "p4_ingest_sqlite_ratio",
    "p4_ingest_pg_events_s",
    "p4_ingest_pg_ratio",
)


def run(quick: bool) -> Section:
    batches = 4 if quick else 25
    section = Section(
        title="P4 HQ ingest (push over loopback vs raw bulk insert)",
        notes=[
            f"{BATCH} `sale.completed` events per push (3 lines, 1 payment, loyalty on ~half), "
            "gzip JSON, sequential pushes from one till to `kedai-hq serve --workers 1`; "
            "samples are events/s per batch (first batch is warm-up, not counted).",
            "Floor: the same rows into the same schema with the raw driver, one transaction "
            "per batch (sqlite3 executemany with HQ's pragmas; psycopg executemany, fsync on).",
        ],
    )
    with tempfile.TemporaryDirectory(prefix="kedai-bench-ingest-") as tmp:
        sqlite_url = f"sqlite:///{tmp}/hq.db"
        figure = _serve_samples(Path(tmp), sqlite_url, batches)
        floor = _sqlite_floor(Path(tmp) / "floor.db", batches)
        sq = Figure(
            name="ingest, SQLite",
            unit="events/s",
            samples=figure,
            floor_name="sqlite3 executemany",
            floor_samples=floor,
            higher_is_better=True,
        )
        section.figures.append(sq)
        section.put("p4_ingest_sqlite_events_s", sq.median)
        section.put("p4_ingest_sqlite_ratio", sq.ratio)
        try:
            cluster = pg.cluster()
        except pg.NoPostgres as exc:
            section.skip(("p4_ingest_pg_events_s", "p4_ingest_pg_ratio"), str(exc))
            return section
        figure = _serve_samples(Path(tmp), cluster.create_db("ingest"), batches)
        floor = _pg_floor(cluster.create_db("ingestfloor"), batches)
        pgf = Figure(
            name="ingest, PostgreSQL",
            unit="events/s",
            samples=figure,
            floor_name="psycopg executemany",
            floor_samples=floor,
            higher_is_better=True,
        )
        section.figures.append(pgf)
        section.put("p4_ingest_pg_events_s", pgf.median)
        section.put("p4_ingest_pg_ratio", pgf.ratio)
    return section


# ------------------------------------------------------------------------- workload


def events(terminal_id: str, first_seq: int, count: int = BATCH) -> list[dict[str, Any]]:
    return grocery_sales(terminal_id, first_seq, count, CUSTOMERS)


# ---------------------------------------------------------------------------- serve


def _serve_samples(tmp: Path, database_url: str, batches: int) -> list[float]:
    from hq import manage

    enrolled = manage.enroll_terminal_sync(database_url, outlet="BENCH", terminal="T01")
    tid = enrolled.terminal_id
    bodies = [
        gzip.compress(
            json.dumps({"terminal_id": tid, "events": events(tid, 1 + b * BATCH)}).encode(), 5
        )
        for b in range(batches + 1)
    ]
    samples = []
    headers = {
        "Authorization": f"Bearer {enrolled.token}",
        "Content-Encoding": "gzip",
        "Content-Type": "application/json",
    }
    with (
        hqserver.serve(database_url, tmp) as base,
        httpx.Client(base_url=base, timeout=60) as client,
    ):
        for i, body in enumerate(bodies):
            started = time.perf_counter()
            r = client.post("/v1/sync/push", content=body, headers=headers)
            elapsed = time.perf_counter() - started
            r.raise_for_status()
            assert r.json()["contiguous_seq"] == (i + 1) * BATCH
            if i:
                samples.append(BATCH / elapsed)
    return samples


# ---------------------------------------------------------------------------- floor


def hq_rows(events: list[dict[str, Any]], *, hex_ids: bool) -> dict[str, list[tuple[Any, ...]]]:
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
    sums = Rollups()
    for e in events:
        p = e["payload"]
        sums.add(e["occurred_at"], e["terminal_id"], u(p["cashier_id"]), p)
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
    out["movements"] = [
        ("sale", ln[0], ln[1], "FLOOR", ln[2], -ln[5], ts, e_tid)
        for ln, e_tid in zip(out["lines"], sums.line_terminals, strict=True)
        if ln[2] is not None
    ]
    out["sales_hourly"], out["product_hourly"] = sums.rows()
    return out


class Rollups:
    """The report rollups HQ keeps at ingest (:mod:`hq.rollups`), summed for the floors:
    sales per (hour, terminal, cashier, rate) and products per (hour, terminal, sku, name)."""

    def __init__(self) -> None:
        self.sales: dict[tuple[Any, ...], list[int]] = {}
        self.products: dict[tuple[Any, ...], list[int]] = {}
        self.line_terminals: list[str] = []
        self.line_times: list[str] = []

    def add(self, occurred_at: str, terminal_id: str, cashier: Any, p: dict[str, Any]) -> None:
        hour = occurred_at[:13] + ":00:00+00:00"
        by_code = {"SR": 0, "ZR": 0, "ES": 0}
        for ln in p["lines"]:
            by_code[ln["tax_code"]] = by_code.get(ln["tax_code"], 0) + ln["total_cents"]
            _add(self.products, (hour, terminal_id, ln["sku"], ln["name"]),
                 (ln["qty"], ln["total_cents"], 1))  # fmt: skip
            self.line_terminals.append(terminal_id)
            self.line_times.append(occurred_at)
        _add(
            self.sales,
            (hour, terminal_id, cashier, p["gst_rate_bp"]),
            (1, p["total_cents"], 0, 0, p["discount_cents"], p["tax_cents"], by_code["SR"],
             by_code["ZR"], by_code["ES"], 0),
        )  # fmt: skip

    def rows(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        return (
            [(*k, *v) for k, v in sorted(self.sales.items(), key=lambda kv: str(kv[0]))],
            [(*k, *v) for k, v in sorted(self.products.items())],
        )


def _add(
    sums: dict[tuple[Any, ...], list[int]], key: tuple[Any, ...], values: tuple[int, ...]
) -> None:
    have = sums.setdefault(key, [0] * len(values))
    for i, value in enumerate(values):
        have[i] += value


ROLLUP_SQL = {
    "sales_hourly": (rollups.SALES_KEY, rollups.SALES_SUMS),
    "product_hourly": (rollups.PRODUCT_KEY, rollups.PRODUCT_SUMS),
}
"""Each rollup's key and summed columns, as HQ keeps them (:mod:`hq.rollups`)."""


def rollup_upsert(table: str, placeholder: str) -> str:
    """The rollup's additive upsert, as HQ writes it."""
    key, sums = ROLLUP_SQL[table]
    cols = (*key, *sums)
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([placeholder] * len(cols))})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums)
    )


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
    "movements": "INSERT INTO stock_movements (kind, reference, line_no, outlet_code, "
    "product_id, qty, occurred_at, actor) VALUES ({})",
    "balances": "UPDATE customers SET loyalty_balance = loyalty_balance + {} "
    "WHERE customer_id = {}",
}


def statements(placeholder: str) -> dict[str, str]:
    out = {}
    for table, sql in _SQL.items():
        if table == "balances":
            out[table] = sql.format(placeholder, placeholder)
        else:
            n = sql.split("(", 2)[1].count(",") + 1
            out[table] = sql.format(", ".join([placeholder] * n))
    for table in ROLLUP_SQL:
        out[table] = rollup_upsert(table, placeholder)
    return out


def prepare_schema(database_url: str, *, hex_ids: bool) -> list[tuple[Any, ...]]:
    """Create HQ's schema (same indexes/constraints as the figure) and the customers."""
    from hq import manage

    manage.run(database_url, manage.do_migrate)
    return [(c.hex if hex_ids else c, "Bench customer", 0, False, 0) for c in CUSTOMERS]


OUTLET_SQL = "INSERT INTO outlets (code, name) VALUES ('FLOOR', 'Floor outlet')"
"""The outlet the floors' stock movements name (a foreign key)."""

CUSTOMER_SQL = (
    "INSERT INTO customers (customer_id, name, loyalty_balance, placeholder, change_seq) "
    "VALUES ({0}, {0}, {0}, {0}, {0})"
)


def _sqlite_floor(path: Path, batches: int) -> list[float]:
    customers = prepare_schema(f"sqlite:///{path}", hex_ids=True)
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:  # connected as HQ connects
        conn.execute(pragma)
    conn.executemany(CUSTOMER_SQL.format("?"), customers)
    conn.execute(OUTLET_SQL)
    sql = statements("?")
    samples = []
    for b in range(batches + 1):
        rows = hq_rows(events("FLOOR-T01", 1 + b * BATCH), hex_ids=True)
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

    customers = prepare_schema(database_url, hex_ids=False)
    sql = statements("%s")
    samples = []
    with psycopg.connect(database_url.replace("postgresql://", "postgresql://", 1)) as conn:
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(CUSTOMER_SQL.format("%s"), customers)
            cur.execute(OUTLET_SQL)
        for b in range(batches + 1):
            rows = hq_rows(events("FLOOR-T01", 1 + b * BATCH), hex_ids=False)
            started = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur:
                for table, stmt in sql.items():
                    cur.executemany(stmt, rows[table])
            if b:
                samples.append(BATCH / (time.perf_counter() - started))
    return samples
