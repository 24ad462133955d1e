"""P5 fan-in: many tills pushing at once to one HQ on PostgreSQL with 2 workers.

``kedai-hq serve --workers 2`` on a PostgreSQL store (the run's cluster, default
settings, fsync on). Every till is enrolled at HQ and has its own ``httpx.AsyncClient``
(its own connection); all start together and each pushes ``ROUNDS`` batches of
``EVENTS`` realistic ``sale.completed`` events in order (gzip JSON, as the agent sends
them), the next as soon as the previous is answered. Samples are push latencies (POST
to answer); errors are anything but a 200 whose results accept every event; throughput
is all sales over the wall time from the first push to the last answer. The load
generator runs in this process on the same 2-core machine as HQ and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import tempfile
import time
from pathlib import Path

import httpx

from bench import hqserver, pg
from bench.harness import Figure, Section, percentile
from bench.p4_ingest import events

KEYS = (
    "p5_fanin_p50_ms",
    "p5_fanin_p99_ms",
    "p5_fanin_errors",
    "p5_fanin_sales_s",
    "p5_tills",
)
EVENTS = 10
ROUNDS = 5


def run(quick: bool) -> Section:
    tills = 30 if quick else 200
    rounds = 2 if quick else ROUNDS
    section = Section(title="P5 fan-in: tills pushing at once (PostgreSQL, 2 workers)")
    try:
        url = pg.cluster().create_db("fanin")
    except pg.NoPostgres as exc:
        section.skip(KEYS, str(exc))
        return section
    with tempfile.TemporaryDirectory() as tmp:
        hqserver.migrate(url)
        enrolled = hqserver.enroll_many(url, "FAN", [f"T{i}" for i in range(1, tills + 1)])
        bodies = {
            tid: [
                gzip.compress(
                    json.dumps(
                        {"terminal_id": tid, "events": events(tid, 1 + r * EVENTS, EVENTS)}
                    ).encode(),
                    5,
                )
                for r in range(rounds)
            ]
            for tid, _ in enrolled
        }
        with hqserver.serve(url, Path(tmp), workers=2) as base:
            latencies, errors, wall = asyncio.run(_fan_in(base, enrolled, bodies))
    total = tills * rounds * EVENTS
    fig = Figure(
        f"P5 push latency, {tills} tills at once",
        "ms",
        latencies,
        target="p99 <= 100 ms, 0 errors",
    )
    section.figures.append(fig)
    section.put("p5_fanin_p50_ms", fig.median)
    section.put("p5_fanin_p99_ms", percentile(latencies, 99))
    section.put("p5_fanin_errors", float(len(errors)))
    section.put("p5_fanin_sales_s", total / wall)
    section.put("p5_tills", float(tills))
    section.notes.append(
        f"{tills} tills x {rounds} pushes x {EVENTS} sales = {total:,} sales in {wall:.2f} s "
        f"({total / wall:,.0f} sales/s; compare P4's single-till PostgreSQL drain). "
        f"Errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else "") + "."
    )
    return section


async def _fan_in(
    base: str, enrolled: list[tuple[str, str]], bodies: dict[str, list[bytes]]
) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    go = asyncio.Event()
    all_connected = asyncio.Event()
    connected = 0

    async def till(tid: str, token: str) -> None:
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
        }
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            nonlocal connected
            await client.get("/healthz")  # connect before the start line
            connected += 1
            if connected == len(enrolled):
                all_connected.set()
            await go.wait()
            for body in bodies[tid]:
                started = time.perf_counter()
                try:
                    r = await client.post("/v1/sync/push", content=body, headers=headers)
                except httpx.HTTPError as exc:
                    errors.append(f"{tid}: {type(exc).__name__}")
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                if r.status_code != 200:
                    errors.append(f"{tid}: HTTP {r.status_code} {r.text[:120]}")
                elif any(x["status"] != "accepted" for x in r.json()["results"]):
                    errors.append(f"{tid}: not all accepted")

    tasks = [asyncio.create_task(till(tid, token)) for tid, token in enrolled]
    await all_connected.wait()
    started = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    return latencies, errors, time.perf_counter() - started
