"""P7 the till UI's longest event-loop stall while its agent drains a backlog.

The till app (``KedaiTill``, headless via Pilot, 120x36) opens a copy of a till file
holding ``n`` pending sales (the P4 backlog), enrolled at a real ``kedai-hq serve``
(SQLite store, 1 worker); the app makes and runs its own sync agent at start-up, as
``kedai-till`` does, and the cashier logs in while it drains. A probe task in the app's
event loop sleeps 5 ms at a time and records how late it wakes: the longest lateness is
the longest the UI could not react to a key. Floor: the same probe for the same app,
idle on the same screen after the drain, for as long as the drain took (at most 10 s).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path

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
            lags, idle, seconds, screen = asyncio.run(_measure(till, base, token))
    fig = Figure(
        f"P7 event-loop lateness while draining {n:,} sales",
        "ms",
        lags,
        "same probe, app idle after the drain",
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
        f"{max(idle):.1f} ms idle (the machine's own noise). Samples are per 5 ms tick."
    )
    return section


async def _enroll(till: Path, base: str, token: str) -> None:
    from sync.agent import enroll
    from terminal.db.engine import open_database
    from terminal.services.sync_store import TillSyncStore

    db = open_database(till)
    try:
        await enroll(TillSyncStore(db), server=base, token=token)
    finally:
        await db.dispose()


async def _probe(stop: asyncio.Event, lags: list[float]) -> None:
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(TICK)
        lags.append((time.perf_counter() - t - TICK) * 1000)


async def _until(check: object, what: str, timeout: float = 60) -> None:
    deadline = time.perf_counter() + timeout
    while not check():  # type: ignore[operator]
        if time.perf_counter() > deadline:
            raise RuntimeError(what)
        await asyncio.sleep(0.01)


async def _measure(
    till: Path, base: str, token: str
) -> tuple[list[float], list[float], float, str]:
    from terminal.ui.app import KedaiTill
    from terminal.ui.screens.sale import SaleScreen

    await _enroll(till, base, token)
    app = KedaiTill(till, auto_agent=True)
    lags: list[float] = []
    idle: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        stop = asyncio.Event()
        probe = asyncio.create_task(_probe(stop, lags))
        started = time.perf_counter()
        await _until(lambda: app.agent is not None, "the app never started its agent")
        agent = app.agent
        assert agent is not None
        await pilot.press(*"1234", "enter")
        screen = "login screen"
        try:
            await _until(lambda: type(app.screen).__name__ != "LoginScreen", "no login", 30)
            if not isinstance(app.screen, SaleScreen):
                await pilot.press("enter")  # opening float
                await _until(lambda: isinstance(app.screen, SaleScreen), "no sale screen", 30)
            screen = "sale screen (logged in during the drain)"
        except RuntimeError:
            screen = f"{type(app.screen).__name__} (the log-in did not reach the sale screen)"
        await _until(
            lambda: agent.state.pending == 0 and agent.state.sent_total > 0,
            "the drain never finished",
            3600,
        )
        seconds = time.perf_counter() - started
        stop.set()
        await probe
        stop = asyncio.Event()
        probe = asyncio.create_task(_probe(stop, idle))
        await asyncio.sleep(min(seconds, 10.0))  # the idle floor's duration, not a wait
        stop.set()
        await probe
    return lags, idle, seconds, screen
