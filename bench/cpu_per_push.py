"""HQ's CPU per push: one 10-sale push (P5's) through the real app in-process.

``python -m bench.cpu_per_push [--pushes N] [--profile] [sqlite|postgresql ...]``

The app is :func:`hq.app.create_app` over ``httpx.ASGITransport`` (no sockets, no
uvicorn), on a fresh SQLite file and on a database in the run's PostgreSQL cluster
(:mod:`bench.pg`). One enrolled terminal pushes P5's bodies (gzip JSON, 10
``sale.completed`` events) one after another; the figure is this process's CPU time per
push (``time.process_time``: HQ's Python, SQLAlchemy and the driver; the database
server's own CPU is not in it, SQLite's is) and the wall time per push. ``--profile``
prints the top of a cProfile of the same pushes by cumulative time
(``CPU_PER_PUSH_SORT=tottime`` for time spent in each function itself).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gzip
import json
import os
import pstats
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench import hqserver, pg
from bench.p4_ingest import events

EVENTS = 10


def bodies(terminal_id: str, pushes: int) -> list[bytes]:
    return [
        gzip.compress(
            json.dumps(
                {"terminal_id": terminal_id, "events": events(terminal_id, 1 + r * EVENTS, EVENTS)}
            ).encode(),
            5,
        )
        for r in range(pushes)
    ]


async def _pushes(
    url: str,
    enrolled: tuple[str, str],
    pushes: int,
    warmup: int,
    profile: cProfile.Profile | None,
) -> tuple[list[float], list[float]]:
    from pydantic import SecretStr

    from hq.app import create_app
    from hq.config import Settings

    tid, token = enrolled
    app = create_app(Settings(database_url=url, secret_key=SecretStr("bench-push-cpu-secret")))
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Encoding": "gzip",
        "Content-Type": "application/json",
    }
    cpu: list[float] = []
    wall: list[float] = []
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hq"
        ) as client:
            for i, body in enumerate(bodies(tid, warmup + pushes)):
                measured = i >= warmup
                if measured and profile is not None:
                    profile.enable()
                c0, w0 = time.process_time(), time.perf_counter()
                r = await client.post("/v1/sync/push", content=body, headers=headers)
                c1, w1 = time.process_time(), time.perf_counter()
                if measured and profile is not None:
                    profile.disable()
                r.raise_for_status()
                answer = r.json()
                assert all(x["status"] == "accepted" for x in answer["results"]), answer
                assert answer["contiguous_seq"] == (i + 1) * EVENTS
                if measured:
                    cpu.append((c1 - c0) * 1000)
                    wall.append((w1 - w0) * 1000)
    finally:
        await app.state.db.dispose()
    return cpu, wall


def measure(
    store: str, pushes: int, warmup: int = 10, *, profile: bool = False
) -> dict[str, float]:
    """Per-push CPU and wall milliseconds (medians, p90) on ``store``."""
    prof = cProfile.Profile() if profile else None
    with tempfile.TemporaryDirectory() as tmp:
        if store == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'hq.db'}"
        else:
            url = pg.cluster().create_db("pushcpu")
        hqserver.migrate(url)
        (enrolled,) = hqserver.enroll_many(url, "CPU", ["T1"])
        cpu, wall = asyncio.run(_pushes(url, enrolled, pushes, warmup, prof))
    if prof is not None:
        order = os.environ.get("CPU_PER_PUSH_SORT", "cumulative")  # or tottime
        pstats.Stats(prof).sort_stats(order).print_stats(45)
    return {
        "cpu_median_ms": statistics.median(cpu),
        "cpu_p90_ms": statistics.quantiles(cpu, n=10)[-1],
        "wall_median_ms": statistics.median(wall),
        "n": float(len(cpu)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stores", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--pushes", type=int, default=100)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    try:
        for store in args.stores:
            out = measure(store, args.pushes, profile=args.profile)
            print(store, json.dumps({k: round(v, 2) for k, v in out.items()}))
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
