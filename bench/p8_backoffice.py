"""P8 HQ dashboard and a quarter's GST F5 on 1M sales (PostgreSQL and SQLite).

The store: 1,000,000 sales (and 1.5% refunds) over the last 120 local days, 20 tills in
10 outlets, 1-4 lines each from a 2,000-sku range with a skewed popularity (85% of skus
standard-rated, 10% zero-rated, 5% exempt), an ``events`` row per sale and refund, each
till's mark at its highest seq. Building that through ingest would take most of an hour
on this machine, so the facts are written with bulk inserts (``sqlite3``
``executemany``; PostgreSQL ``COPY``) into HQ's migrated schema, and the rollups filled
by :func:`hq.rollups.backfill`, the function migration 0012 runs (ingest's rollup rows
equal the backfill's: ``tests/hq/test_report_rollups.py``).

Measured on that store, as the back office calls them (the data functions its pages and
``/v1/reports`` routes delegate to, on HQ's own engine and read sessions):

- the dashboard (``hq.reports.dashboard.dashboard``, every outlet): p50 / p95;
- the GST F5 of the last 90 local days (``hq.reports.gst_f5.gst_f5``): median;
- "before": the same functions with ``facts=True``, the fact-table path they took
  before the rollups (fewer runs: each is seconds to a minute);
- floor: one raw driver query summing the quarter's rollup rows (``sqlite3`` /
  ``psycopg``), the least any report of those figures can cost.

PostgreSQL is analysed after the load (autovacuum would do it); SQLite is not (HQ never
runs ``ANALYZE``).
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench import hqserver, pg
from bench.harness import Figure, Section, percentile

KEYS = (
    "p8_dashboard_p95_ms",
    "p8_gst_f5_s",
    "p8_dashboard_pg_p95_ms",
    "p8_gst_f5_pg_s",
    "p8_ingest_rollup_cost_sqlite_pct",
    "p8_ingest_rollup_cost_pg_pct",
)
BATCH = 200
SG = ZoneInfo("Asia/Singapore")
OUTLETS, TILLS_PER_OUTLET, SKUS = 10, 2, 2_000
CHUNK = 20_000


def run(quick: bool) -> Section:
    sales = 10_000 if quick else 1_000_000
    days = 30 if quick else 120
    section = Section(title="P8 back office: dashboard and GST F5")
    section.notes.append(
        f"{sales:,} sales (+1.5% refunds) over {days} local days, {OUTLETS * TILLS_PER_OUTLET}"
        f" tills in {OUTLETS} outlets, 1-4 lines from {SKUS:,} skus; facts bulk-loaded, "
        "rollups filled by the migration's backfill. Dashboard: `dashboard()` for every "
        "outlet; F5: `gst_f5()` of the last 90 local days; before: the same with "
        "`facts=True` (the fact-table path). Floor: one raw driver query summing the "
        "quarter's `sales_hourly` rows."
    )
    section.notes.append(
        "Goal: dashboard p95 <= 300 ms and F5 <= 1 s on 1M sales, PostgreSQL and SQLite."
    )
    section.notes.append(
        f"Ingest cost: `ingest_batch` of {BATCH}-sale batches in process on a fresh store, "
        "batches alternating with and without the rollup upserts (`Rollups.add`/`write` "
        "switched off: the floor); the key is the median increase in percent."
    )
    batches = 6 if quick else 30
    with tempfile.TemporaryDirectory() as tmp_name:
        url = f"sqlite:///{Path(tmp_name) / 'p8.db'}"
        _measure(section, "SQLite", url, sales, days, quick, ("p8_dashboard_p95_ms", "p8_gst_f5_s"))
        cost_url = f"sqlite:///{Path(tmp_name) / 'ingest.db'}"
        _ingest_cost(section, "SQLite", cost_url, batches, "p8_ingest_rollup_cost_sqlite_pct")
        try:
            cluster = pg.cluster()
        except pg.NoPostgres as exc:
            section.skip(
                ("p8_dashboard_pg_p95_ms", "p8_gst_f5_pg_s", "p8_ingest_rollup_cost_pg_pct"),
                str(exc),
            )
        else:
            _measure(
                section, "PostgreSQL", cluster.create_db("p8"), sales, days, quick,
                ("p8_dashboard_pg_p95_ms", "p8_gst_f5_pg_s"),
            )  # fmt: skip
            _ingest_cost(
                section, "PostgreSQL", cluster.create_db("p8i"), batches,
                "p8_ingest_rollup_cost_pg_pct",
            )  # fmt: skip
    return section


def _ingest_cost(section: Section, store: str, url: str, batches: int, key: str) -> None:
    hqserver.migrate(url)
    (tid, _), *_ = hqserver.enroll_many(url, "ING", ["T1"])
    with_rollups, without = asyncio.run(_ingest_samples(url, tid, batches))
    section.figures.append(
        Figure(f"P8 ingest of a {BATCH}-sale batch with rollups, {store}", "ms", with_rollups,
               "same, rollups off", without)
    )  # fmt: skip
    increase = statistics.median(with_rollups) / statistics.median(without) - 1
    section.put(key, 100 * increase)


async def _ingest_samples(url: str, tid: str, batches: int) -> tuple[list[float], list[float]]:
    """Alternating batches with and without the rollups, after one warm-up of each."""
    import json
    from unittest import mock

    from hq.db import open_database
    from hq.ingest import ingest_batch
    from hq.rollups import Rollups
    from hq.wire import read_push
    from tests.events import grocery_sales

    customers = [uuid.uuid4() for _ in range(40)]
    db = open_database(url)
    samples: dict[bool, list[float]] = {True: [], False: []}

    async def nothing(*_: Any, **__: Any) -> None:
        return None

    try:
        for b in range(2 * (batches + 1)):
            on = b % 2 == 0
            body = {
                "terminal_id": tid,
                "events": grocery_sales(tid, 1 + b * BATCH, BATCH, customers),
            }
            push = read_push(json.dumps(body).encode())
            patches = (
                (mock.patch.object(Rollups, "add", lambda *a, **k: None),
                 mock.patch.object(Rollups, "write", nothing))
                if not on else ()
            )  # fmt: skip
            for patch in patches:
                patch.start()
            try:
                t0 = time.perf_counter()
                async with db.sessions() as s, s.begin():
                    await ingest_batch(session=s, terminal_id=tid, events=push.events)
                elapsed = (time.perf_counter() - t0) * 1000
            finally:
                for patch in patches:
                    patch.stop()
            if b >= 2:
                samples[on].append(elapsed)
    finally:
        await db.dispose()
    return samples[True], samples[False]


def _measure(
    section: Section, store: str, url: str, sales: int, days: int, quick: bool,
    keys: tuple[str, str],
) -> None:  # fmt: skip
    started = time.perf_counter()
    _build(url, sales, days)
    built = time.perf_counter() - started
    runs, before_runs = (5, 1) if quick else (30, 3)
    timed = asyncio.run(_timed(url, runs, before_runs))
    floor = _floor(url, runs)
    board, f5 = timed["dashboard"], timed["gst_f5"]
    section.figures += [
        Figure(f"P8 dashboard, {store}", "ms", board, "raw driver, quarter's rollup sums",
               floor, target="p95 <= 300 ms"),
        Figure(f"P8 dashboard, {store}, fact path (before)", "ms", timed["dashboard_facts"]),
        Figure(f"P8 GST F5 (90 days), {store}", "ms", f5, "raw driver, quarter's rollup sums",
               floor, target="<= 1,000 ms"),
        Figure(f"P8 GST F5 (90 days), {store}, fact path (before)", "ms", timed["gst_f5_facts"]),
    ]  # fmt: skip
    section.put(keys[0], percentile(board, 95))
    section.put(keys[1], statistics.median(f5) / 1000)
    section.notes.append(
        f"{store}: store built in {built:.0f} s; dashboard p95 {percentile(board, 95):.0f} ms "
        f"(fact path {max(timed['dashboard_facts']):.0f} ms worst of "
        f"{len(timed['dashboard_facts'])}); F5 median {statistics.median(f5):.0f} ms (fact "
        f"path {statistics.median(timed['gst_f5_facts']):.0f} ms)."
    )


async def _timed(url: str, runs: int, before_runs: int) -> dict[str, list[float]]:
    from hq.db import open_database
    from hq.reports.common import ReportQuery, Scope, today
    from hq.reports.dashboard import dashboard
    from hq.reports.gst_f5 import gst_f5

    db = open_database(url)
    scope = Scope(tz=SG)
    day = today(SG)
    quarter = ReportQuery(date_from=day - timedelta(days=89), date_to=day)
    out: dict[str, list[float]] = {}

    async def board(facts: bool) -> None:
        async with db.readers() as s, s.begin():
            await dashboard(session=s, scope=scope, silent_after_minutes=60, facts=facts)

    async def f5(facts: bool) -> None:
        async with db.readers() as s, s.begin():
            await gst_f5(session=s, query=quarter, scope=scope, facts=facts)

    try:
        await board(False)  # warm the pool and the caches once
        for name, work, n, facts in (
            ("dashboard", board, runs, False),
            ("gst_f5", f5, runs, False),
            ("dashboard_facts", board, before_runs, True),
            ("gst_f5_facts", f5, before_runs, True),
        ):
            samples = []
            for _ in range(n):
                t0 = time.perf_counter()
                await work(facts)
                samples.append((time.perf_counter() - t0) * 1000)
            out[name] = samples
    finally:
        await db.dispose()
    return out


def _floor(url: str, runs: int) -> list[float]:
    day = datetime.now(SG).date()
    lo = datetime.combine(day - timedelta(days=89), dtime(), SG).astimezone(UTC)
    hi = datetime.combine(day + timedelta(days=1), dtime(), SG).astimezone(UTC)
    sql = (
        "SELECT sum(sales), sum(gross_cents), sum(refunded_cents), sum(tax_cents), "
        "sum(sr_cents), sum(zr_cents), sum(es_cents) FROM sales_hourly "
        "WHERE hour >= {p} AND hour < {p}"
    )
    samples = []
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            bounds = tuple(_sqlite_ts(t) for t in (lo, hi))
            for _ in range(runs + 1):
                t0 = time.perf_counter()
                conn.execute(sql.format(p="?"), bounds).fetchall()
                samples.append((time.perf_counter() - t0) * 1000)
    else:
        import psycopg

        with psycopg.connect(url) as conn:
            for _ in range(runs + 1):
                t0 = time.perf_counter()
                conn.execute(sql.format(p="%s"), (lo, hi)).fetchall()
                samples.append((time.perf_counter() - t0) * 1000)
    return samples[1:]


# ------------------------------------------------------------------------------ the store


def _sqlite_ts(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _tax(standard: int) -> int:
    return (2 * standard * 900 + 10_900) // 21_800


def _facts(sales: int, days: int, tills: list[str]) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    """Chunks of rows (ids as ``uuid.UUID``, times as aware UTC), the same for a seed."""
    rnd = random.Random(8)
    now = datetime.now(UTC) - timedelta(minutes=1)
    first = datetime.combine(now.astimezone(SG).date() - timedelta(days=days - 1), dtime(), SG)
    weights = [1 / (k + 10) for k in range(SKUS)]
    cum = [sum(weights[: k + 1]) for k in range(SKUS)]
    codes = ["SR" if k % 20 < 17 else "ZR" if k % 20 < 19 else "ES" for k in range(SKUS)]
    prices = [rnd.randrange(50, 5_000) for _ in range(SKUS)]
    cashiers = {t: [uuid.UUID(int=rnd.getrandbits(128)) for _ in range(2)] for t in tills}
    seqs = dict.fromkeys(tills, 0)

    def uid() -> uuid.UUID:
        return uuid.UUID(int=rnd.getrandbits(128), version=4)

    chunk: dict[str, list[tuple[Any, ...]]] = {"sales": [], "lines": [], "events": []}
    for n in range(sales):
        till = tills[n % len(tills)]
        at = first + timedelta(
            days=rnd.randrange(days), hours=9 + rnd.randrange(13), seconds=rnd.randrange(3600)
        )
        at = at.astimezone(UTC)
        if at > now:
            at -= timedelta(days=1)
        cashier = cashiers[till][rnd.randrange(2)]
        skus = rnd.choices(range(SKUS), cum_weights=cum, k=1 + rnd.randrange(4))
        lines = []
        for no, k in enumerate(skus, 1):
            qty = 1 + rnd.randrange(3)
            lines.append((no, k, qty, prices[k], qty * prices[k]))
        total = sum(ln[4] for ln in lines)
        tax = _tax(sum(ln[4] for ln in lines if codes[ln[1]] == "SR"))
        sale_id, event_id = uid(), uid()
        seqs[till] += 1
        chunk["events"].append((event_id, till, seqs[till], "sale.completed", at))
        chunk["sales"].append(
            (sale_id, "sale", event_id, till, f"{till}-{seqs[till]:06d}", None, cashier,
             total, 0, total, tax, 900, at)
        )  # fmt: skip
        chunk["lines"] += [
            (sale_id, no, f"SKU-{k:05d}", f"Product {k}", qty, price, total_, codes[k])
            for no, k, qty, price, total_ in lines
        ]
        if rnd.random() < 0.015:
            no, k, _, price, _ = lines[0]
            refund_id, event_id = uid(), uid()
            back = min(at + timedelta(hours=1), now)
            seqs[till] += 1
            chunk["events"].append((event_id, till, seqs[till], "sale.refunded", back))
            chunk["sales"].append(
                (refund_id, "refund", event_id, till, f"{till}-{seqs[till]:06d}", sale_id,
                 cashier, -price, 0, -price, -_tax(price if codes[k] == "SR" else 0), None,
                 back)
            )  # fmt: skip
            chunk["lines"].append(
                (refund_id, 1, f"SKU-{k:05d}", f"Product {k}", -1, price, -price, codes[k])
            )
        if len(chunk["sales"]) >= CHUNK:
            yield chunk
            chunk = {"sales": [], "lines": [], "events": []}
    yield chunk
    yield {"marks": [(seq, till) for till, seq in seqs.items()]}


SALE_COLS = (
    "sale_id, kind, event_id, terminal_id, receipt_no, original_sale_id, cashier_id, "
    "subtotal_cents, discount_cents, total_cents, tax_cents, gst_rate_bp, occurred_at, "
    "received_at, rounding_cents, change_cents"
)
LINE_COLS = (
    "sale_id, line_no, sku, name, qty, unit_price_cents, total_cents, tax_code, discount_cents"
)
EVENT_COLS = (
    "event_id, terminal_id, terminal_seq, type, occurred_at, received_at, schema_version, "
    "payload, quarantined, clock_off"
)


def _sale_row(
    r: tuple[Any, ...], u: Callable[[Any], Any], ts: Callable[[Any], Any]
) -> tuple[Any, ...]:
    (sid, kind, eid, till, receipt, orig, cashier, sub, disc, total, tax, rate, at) = r
    return (u(sid), kind, u(eid), till, receipt, u(orig), u(cashier), sub, disc, total, tax, rate,
            ts(at), ts(at), 0, 0)  # fmt: skip


def _build(url: str, sales: int, days: int) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from hq import rollups

    hqserver.migrate(url)
    from hq import manage

    manage.seed_demo_sync(url)
    tills = [
        tid
        for o in range(OUTLETS)
        for tid, _ in hqserver.enroll_many(
            url, f"O{o:02d}", [f"T{t}" for t in range(TILLS_PER_OUTLET)]
        )
    ]
    sqlite = url.startswith("sqlite")
    engine_url = make_url(url).set(drivername="sqlite" if sqlite else "postgresql+psycopg")
    if sqlite:
        _load_sqlite(url.removeprefix("sqlite:///"), sales, days, tills)
    else:
        _load_pg(url, sales, days, tills)
    engine = create_engine(engine_url)
    try:
        with engine.begin() as conn:
            rollups.backfill(conn)
        if not sqlite:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()


def _load_sqlite(path: str, sales: int, days: int, tills: list[str]) -> None:
    def u(v: uuid.UUID | None) -> str | None:
        return None if v is None else v.hex

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for chunk in _facts(sales, days, tills):
            if "marks" in chunk:
                conn.executemany(
                    "UPDATE terminals SET contiguous_seq = ? WHERE terminal_id = ?", chunk["marks"]
                )
                continue
            conn.executemany(
                f"INSERT INTO sales ({SALE_COLS}) VALUES ({', '.join('?' * 16)})",
                [_sale_row(r, u, _sqlite_ts) for r in chunk["sales"]],
            )
            conn.executemany(
                f"INSERT INTO sale_lines ({LINE_COLS}) VALUES ({', '.join('?' * 9)})",
                [(u(r[0]), *r[1:], 0) for r in chunk["lines"]],
            )
            conn.executemany(
                f"INSERT INTO events ({EVENT_COLS}) VALUES ({', '.join('?' * 10)})",
                [(u(e), t, s, ty, _sqlite_ts(at), _sqlite_ts(at), 1, "{}", 0, 0)
                 for e, t, s, ty, at in chunk["events"]],
            )  # fmt: skip
        conn.execute("COMMIT")
    finally:
        conn.close()


def _load_pg(url: str, sales: int, days: int, tills: list[str]) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            for chunk in _facts(sales, days, tills):
                if "marks" in chunk:
                    cur.executemany(
                        "UPDATE terminals SET contiguous_seq = %s WHERE terminal_id = %s",
                        chunk["marks"],
                    )
                    continue
                with cur.copy(f"COPY sales ({SALE_COLS}) FROM STDIN") as copy:
                    for r in chunk["sales"]:
                        copy.write_row(_sale_row(r, lambda v: v, lambda v: v))
                with cur.copy(f"COPY sale_lines ({LINE_COLS}) FROM STDIN") as copy:
                    for r in chunk["lines"]:
                        copy.write_row((*r, 0))
                with cur.copy(f"COPY events ({EVENT_COLS}) FROM STDIN") as copy:
                    for e, t, s, ty, at in chunk["events"]:
                        copy.write_row((e, t, s, ty, at, at, 1, "{}", False, False))
        conn.commit()
