"""P7 the till UI's longest event-loop stall while its agent drains a backlog.

The till app (``KedaiTill``, headless via Pilot, 120x36) opens a copy of a till file
holding ``n`` pending sales (the P4 backlog), enrolled at a real ``kedai-hq serve``
(SQLite store, 1 worker); the app runs the till's sync agent (sharing its database, as
``kedai-till`` does). The cashier logs in; on the sale screen the backlog is released to
the agent (its store shows no pending events until then) and the agent is nudged. A
probe task in the app's event loop sleeps 5 ms at a time and records how late it wakes:
the longest lateness is the longest the UI could not react to a key. Floor: the same
probe for the same app idle on the same screen for 3 s just before the drain.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import hqserver
from bench.harness import Figure, Section, percentile
from bench.p4_drain import _backlog

KEYS = (
    "p7_ui_stall_max_ms",
    "p7_ui_stall_p99_ms",
    "p7_idle_stall_max_ms",
    "p7_drain_sales_s",
    "p7_sales",
)
TICK = 0.005


def run(quick: bool) -> Section:
    n = 1_000 if quick else 50_000
    section = Section(title="P7 UI event-loop stall while the agent drains")
    backlog = _backlog(n)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        till = tmp / "till.db"
        shutil.copyfile(backlog, till)
        url = f"sqlite:///{tmp / 'hq.db'}"
        hqserver.migrate(url)
        [(_, token)] = hqserver.enroll_many(url, "DEMO", ["T01"])
        with hqserver.serve(url, tmp) as base:
            lags, idle, seconds, screen = asyncio.run(
                asyncio.wait_for(_measure(till, base, token), timeout=300 if quick else 3600)
            )
    fig = Figure(
        f"P7 event-loop lateness while draining {n:,} sales",
        "ms",
        lags,
        "same probe, app idle on the sale screen just before",
        idle,
        target="max <= 50 ms",
    )
    section.figures.append(fig)
    section.put("p7_ui_stall_max_ms", max(lags))
    section.put("p7_ui_stall_p99_ms", percentile(lags, 99))
    section.put("p7_idle_stall_max_ms", max(idle))
    section.put("p7_drain_sales_s", n / seconds)
    section.put("p7_sales", float(n))
    section.notes.append(
        f"Drain of {n:,} sales took {seconds:.1f} s with the UI up ({n / seconds:,.0f} "
        f"sales/s), on the {screen}. Longest stall {max(lags):.1f} ms while draining, "
        f"{max(idle):.1f} ms idle just before (the machine's own noise). Samples are per 5 ms tick."
    )
    return section


class _Gated:
    """The till's store, showing the agent no pending events until ``gate`` is set, so
    the drain starts on the sale screen, not during the log-in."""

    def __init__(self, inner: Any, gate: asyncio.Event) -> None:
        self._inner = inner
        self._gate = gate

    async def read_pending(self, **kwargs: Any) -> Any:
        if not self._gate.is_set():
            return []
        return await self._inner.read_pending(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def _probe(stop: asyncio.Event, lags: list[float]) -> None:
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(TICK)
        lags.append((time.perf_counter() - t - TICK) * 1000)


async def _until(check: Any, what: str, timeout: float = 60) -> None:
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            raise RuntimeError(what)
        await asyncio.sleep(0.01)


async def _measure(
    till: Path, base: str, token: str
) -> tuple[list[float], list[float], float, str]:
    from sync.agent import SyncAgent, enroll
    from terminal.db.engine import open_database
    from terminal.services.sync_store import TillSyncStore
    from terminal.ui.app import KedaiTill
    from terminal.ui.screens.sale import SaleScreen

    db = open_database(till)
    gate = asyncio.Event()
    store = TillSyncStore(db)
    await enroll(store, server=base, token=token)
    agent = SyncAgent(_Gated(store, gate))
    app = KedaiTill(db, agent=agent)
    lags: list[float] = []
    idle: list[float] = []
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await _until(lambda: agent.state.online is not None, "the agent never ran a cycle")
            await pilot.press(*"1234", "enter")
            await _until(lambda: type(app.screen).__name__ != "LoginScreen", "no login", 60)
            if not isinstance(app.screen, SaleScreen):
                await pilot.press("enter")  # opening float
                await _until(lambda: isinstance(app.screen, SaleScreen), "no sale screen", 60)
            await pilot.pause()
            stop = asyncio.Event()
            probe = asyncio.create_task(_probe(stop, idle))
            await asyncio.sleep(3.0)  # the idle floor's duration, not a wait for anything
            stop.set()
            await probe
            stop = asyncio.Event()
            probe = asyncio.create_task(_probe(stop, lags))
            started = time.perf_counter()
            gate.set()
            agent.nudge()
            await _until(
                lambda: agent.state.pending == 0 and agent.state.sent_total > 0,
                "the drain never finished",
                3600,
            )
            seconds = time.perf_counter() - started
            stop.set()
            await probe
            screen = type(app.screen).__name__
    finally:
        await agent.aclose()
        await db.dispose()
    return lags, idle, seconds, screen
