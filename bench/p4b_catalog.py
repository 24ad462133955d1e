"""P4b a new till's first catalog pull of 100,000 products, and HQ's CSV import of them.

HQ (``kedai-hq serve``, SQLite store) holds a catalog imported from a CSV file by HQ's
own import (timed: ``catalog_import.import_file`` in one unit of work, beside raw ``sqlite3``
reading the same CSV and inserting the same rows into HQ's ``products`` table in one
transaction). A fresh till (``kedai-till init``, enrolled) then runs its first
``SyncAgent.sync_once()``: who-am-I, nothing to push, and every page of the change feed
applied one transaction per page with its cursor (timed end to end).

Floor, in the same run: the very bytes of those change pages (recorded from the same
HQ) fetched over loopback by ``httpx`` from a do-nothing server, plus raw ``sqlite3``
inserting the same product rows into a fresh till's schema, one transaction per page
with the cursor update (WAL, synchronous=FULL). JSON parsing is not in the floor.
"""

from __future__ import annotations

import asyncio
import csv
import json
import random
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench import hqserver
from bench.harness import Figure, Section
from bench.net import get_from_noop
from hq.db import SQLITE_PRAGMAS

KEYS = (
    "p4b_catalog_pull_s",
    "p4b_floor_s",
    "p4b_ratio",
    "p4b_transfer_floor_s",
    "p4b_insert_floor_s",
    "p4b_import_s",
    "p4b_import_floor_s",
    "p4b_import_ratio",
)
PULL_LIMIT = 500
"""The agent's default page size."""


def run(quick: bool) -> Section:
    n = 5_000 if quick else 100_000
    runs = 1 if quick else 3
    section = Section(title="P4b first catalog pull by a new till, and HQ's CSV import")
    pulls, floors, transfers, inserts, imports, import_floors = [], [], [], [], [], []
    size = 0
    pages = 0
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        csv_path = tmp / "catalog.csv"
        _write_csv(csv_path, n)
        for i in range(runs):
            work = tmp / f"run{i}"
            work.mkdir()
            url = f"sqlite:///{work / 'hq.db'}"
            hqserver.migrate(url)
            imports.append(asyncio.run(_import(url, csv_path)))
            import_floors.append(_import_floor(work / "floor-hq.db", url, csv_path))
            [(_, token)] = hqserver.enroll_many(url, "BENCH", ["T01"])
            with hqserver.serve(url, work) as base:
                bodies = _record_pages(base, token)
                pulls.append(asyncio.run(_first_pull(work / "till.db", base, token, n)))
            size, pages = sum(len(b) for b in bodies), len(bodies)
            transfers.append(asyncio.run(get_from_noop(bodies)))
            inserts.append(asyncio.run(_insert_floor(work / "floor-till.db", bodies)))
            floors.append(transfers[-1] + inserts[-1])
    pull = Figure(
        f"P4b first pull of {n:,} products (new till, sync_once)",
        "s",
        pulls,
        "same bytes over loopback + raw sqlite3 insert",
        floors,
        target="<= 3x floor",
    )
    imp = Figure(
        f"P4b HQ import-catalog of {n:,} products (CSV)",
        "s",
        imports,
        "raw sqlite3: csv module + executemany into HQ's products",
        import_floors,
        target="<= 3x floor",
    )
    section.figures += [pull, imp]
    section.put("p4b_catalog_pull_s", pull.median)
    section.put("p4b_floor_s", pull.floor_median)
    section.put("p4b_ratio", pull.ratio)
    section.put("p4b_transfer_floor_s", sorted(transfers)[len(transfers) // 2])
    section.put("p4b_insert_floor_s", sorted(inserts)[len(inserts) // 2])
    section.put("p4b_import_s", imp.median)
    section.put("p4b_import_floor_s", imp.floor_median)
    section.put("p4b_import_ratio", imp.ratio)
    section.notes.append(
        f"{n:,} products; the feed is {pages} pages of {PULL_LIMIT} "
        f"({size / 1e6:.1f} MB of JSON, uncompressed as HQ sends it). {runs} run(s), each "
        "on a fresh HQ store and a fresh till. Floor parts (medians): transfer "
        f"{sorted(transfers)[len(transfers) // 2]:.3f} s, insert "
        f"{sorted(inserts)[len(inserts) // 2]:.3f} s."
    )
    return section


def _write_csv(path: Path, n: int) -> None:
    rng = random.Random(11)
    words = ["Rice", "Kopi", "Teh", "Milo", "Noodles", "Sauce", "Soap", "Biscuit", "Tissue"]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sku", "barcode", "name", "price_cents", "tax_code"])
        for i in range(n):
            name = f"{rng.choice(words)} {rng.choice(words)} {i:06d}"
            w.writerow([f"CAT-{i:06d}", f"3{i:012d}", name, rng.randint(50, 5000), "SR"])


async def _import(url: str, csv_path: Path) -> float:
    from hq import catalog_import
    from hq.db import open_database

    db = open_database(url)
    try:
        started = time.perf_counter()
        async with db.sessions() as s, s.begin():
            result = await catalog_import.import_file(s, csv_path)
        elapsed = time.perf_counter() - started
    finally:
        await db.dispose()
    assert result.ok, result.errors[:3]
    return elapsed


def _import_floor(path: Path, url: str, csv_path: Path) -> float:
    """Raw sqlite3 into a copy of HQ's (empty) schema: read, parse, insert, commit."""
    src = sqlite3.connect(url.removeprefix("sqlite:///"))
    dst = sqlite3.connect(path, isolation_level=None)
    for (sql,) in src.execute(  # and the (empty) table its foreign key names
        "SELECT sql FROM sqlite_master WHERE tbl_name IN ('products', 'categories') "
        "AND sql IS NOT NULL"
    ):
        dst.execute(sql)
    src.close()
    for pragma in SQLITE_PRAGMAS:  # connected as HQ connects
        dst.execute(pragma)
    started = time.perf_counter()
    with csv_path.open(newline="") as f:
        reader = csv.reader(f)
        next(reader)
        rows = [
            (uuid.uuid4().hex, sku, barcode, name, int(price), tax, 1, 1, seq)
            for seq, (sku, barcode, name, price, tax) in enumerate(reader, start=1)
        ]
    dst.execute("BEGIN IMMEDIATE")
    dst.executemany(
        "INSERT INTO products (product_id, sku, barcode, name, price_cents, tax_code, "
        "cdc_eligible, active, change_seq) VALUES (?,?,?,?,?,?,?,?,?)",
        rows,
    )
    dst.execute("COMMIT")
    elapsed = time.perf_counter() - started
    dst.close()
    return elapsed


def _record_pages(base: str, token: str) -> list[bytes]:
    """The change feed's pages exactly as HQ sends them to a new till."""
    bodies = []
    since = 0
    with httpx.Client(base_url=base, timeout=120) as client:
        while True:
            r = client.get(
                "/v1/sync/changes",
                params={"since": since, "limit": PULL_LIMIT},
                headers={"Authorization": f"Bearer {token}"},
            )
            r.raise_for_status()
            bodies.append(r.content)
            page = r.json()
            since = page["next"]
            if not page["more"]:
                return bodies


async def _new_till(path: Path) -> None:
    from terminal.db.engine import open_database
    from terminal.services.setup import init_till

    db = open_database(path)
    try:
        await init_till(db)
    finally:
        await db.dispose()


async def _first_pull(path: Path, base: str, token: str, n: int) -> float:
    from sync.agent import SyncAgent, enroll
    from terminal.db.engine import open_database
    from terminal.services.sync_store import TillSyncStore

    await _new_till(path)
    db = open_database(path)
    try:
        store = TillSyncStore(db)
        await enroll(store, server=base, token=token)
        agent = SyncAgent(store, pull_limit=PULL_LIMIT)
        started = time.perf_counter()
        report = await agent.sync_once()
        elapsed = time.perf_counter() - started
        await agent.aclose()
    finally:
        await db.dispose()
    assert report.changes >= n, report
    return elapsed


async def _insert_floor(path: Path, bodies: list[bytes]) -> float:
    await _new_till(path)
    pages = []
    for body in bodies:  # parsed outside the timing: the floor is transfer + insert
        page = json.loads(body)
        pages.append(
            (
                page["next"],
                [
                    (
                        uuid.UUID(d["product_id"]).hex, d["sku"], d["barcode"], d["name"],
                        d["name"].lower(), d["price_cents"], d["tax_code"],
                        int(d["cdc_eligible"]), int(d["active"]),
                    )
                    for c in page["changes"]
                    if c["kind"] == "product"
                    for d in [c["data"]]
                ],
            )
        )  # fmt: skip
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    started = time.perf_counter()
    for cursor, rows in pages:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO products (id, sku, barcode, name, search_name, price_cents, tax_code, "
            "cdc_eligible, active) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET "
            "sku = excluded.sku, barcode = excluded.barcode, name = excluded.name, "
            "search_name = excluded.search_name, price_cents = excluded.price_cents, "
            "tax_code = excluded.tax_code, cdc_eligible = excluded.cdc_eligible, "
            "active = excluded.active",
            rows,
        )
        conn.execute("UPDATE sync_state SET change_cursor = ? WHERE id = 1", (cursor,))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed
