"""P6 sale -> visible at HQ while online.

A till (``kedai-till init`` + the demo store) enrolled at a real ``kedai-hq serve``
(SQLite store, demo data, 1 worker) runs its sync agent's loop in the same event loop
as the checkout, as the till UI does. Each sample: ``finalize_sale`` returns (the sale
is committed locally), the agent is nudged as the UI nudges it after ``SaleCommitted``,
and a thread polls HQ's database (raw ``sqlite3``, every 1 ms) until the sale's row is
there. Sales are paced like a quick cashier (a random 0-200 ms between them), so some
arrive while the agent is still finishing the previous cycle.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

from bench import hqserver
from bench.harness import Figure, Section, percentile

KEYS = ("p6_visible_p50_ms", "p6_visible_p90_ms", "p6_visible_p99_ms", "p6_floor_push_ms")


def run(quick: bool) -> Section:
    n = 10 if quick else 200
    section = Section(title="P6 sale -> visible at HQ while online")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        hq_db = tmp / "hq.db"
        url = f"sqlite:///{hq_db}"
        hqserver.migrate(url)
        from hq import manage

        manage.seed_demo_sync(url)
        [(_, token)] = hqserver.enroll_many(url, "DEMO", ["T01"])
        with hqserver.serve(url, tmp) as base:
            visible, push = asyncio.run(_measure(tmp / "till.db", hq_db, base, token, n))
    fig = Figure(
        "P6 sale committed -> row at HQ",
        "ms",
        visible,
        "one push round trip alone (agent's POST, same run)",
        push,
        target="p50 <= 300 ms, p99 <= 1 s",
    )
    section.figures.append(fig)
    section.put("p6_visible_p50_ms", fig.median)
    section.put("p6_visible_p90_ms", percentile(visible, 90))
    section.put("p6_visible_p99_ms", percentile(visible, 99))
    section.put("p6_floor_push_ms", fig.floor_median)
    section.notes.append(f"{n} sales, one at a time. " + (__doc__ or "").split("\n\n")[1])
    return section


async def _prepare(path: Path) -> None:
    from terminal.db.engine import open_database
    from terminal.services.setup import init_till, seed_demo

    db = open_database(path)
    try:
        await init_till(db)
        await seed_demo(db)
    finally:
        await db.dispose()


def _wait_visible(hq_db: Path, sale_id: uuid.UUID, timeout: float = 30) -> float:
    conn = sqlite3.connect(hq_db, timeout=30)
    try:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            row = conn.execute("SELECT 1 FROM sales WHERE sale_id = ?", (sale_id.hex,)).fetchone()
            if row is not None:
                return time.perf_counter()
            time.sleep(0.001)
    finally:
        conn.close()
    raise RuntimeError(f"sale {sale_id} not at HQ after {timeout} s")


async def _measure(
    till: Path, hq_db: Path, base: str, token: str, n: int
) -> tuple[list[float], list[float]]:
    from sync import demo_data
    from sync.agent import SyncAgent, enroll
    from sync.protocol import PushResponse
    from terminal.db.engine import open_database
    from terminal.services.catalog import list_products
    from terminal.services.checkout import finalize_sale
    from terminal.services.simulate import random_request
    from terminal.services.sync_store import TillSyncStore

    await _prepare(till)
    db = open_database(till)
    rng = random.Random(3)
    pushes: list[float] = []
    try:
        store = TillSyncStore(db)
        await enroll(store, server=base, token=token)
        agent = SyncAgent(store)
        http = agent._http  # time the agent's own POSTs: the transport+ingest floor
        real_push = http.push

        async def timed_push(
            base: str, token: str, body: bytes, *, pending_after: int | None = None
        ) -> PushResponse:
            t = time.perf_counter()
            try:
                return await real_push(base, token, body, pending_after=pending_after)
            finally:
                pushes.append((time.perf_counter() - t) * 1000)

        http.push = timed_push  # type: ignore[method-assign]
        await agent.sync_once()  # first cycle: whoami and the demo feed
        pushes.clear()
        loop_task = asyncio.create_task(agent.run())
        products = await list_products(db)
        cashier = demo_data.demo_cashiers()[0].cashier_id
        customers = [c.customer_id for c in demo_data.demo_customers()]
        samples = []
        for _ in range(n):
            request = random_request(rng, products, cashier_id=cashier, customer_ids=customers)
            receipt = await finalize_sale(db, request)
            committed = time.perf_counter()
            agent.nudge()
            seen = await asyncio.to_thread(_wait_visible, hq_db, receipt.sale_id)
            samples.append((seen - committed) * 1000)
            await asyncio.sleep(rng.uniform(0, 0.2))  # cashier pacing, not synchronisation
        loop_task.cancel()
        try:
            await loop_task
        except asyncio.CancelledError:
            pass
        await agent.aclose()
    finally:
        await db.dispose()
    return samples, pushes
