"""Child processes for bench_ui: each prints one JSON line and exits.

``python -m bench.ui_probe rss TILL_DB``  the till, headless, driven by Pilot through a
    login, a scan and an F2 search, then reports its peak RSS.
``python -m bench.ui_probe rss-floor``    a bare Textual app with one Input, same driving.
``python -m bench.ui_probe bare-ready FILE``  a bare Textual app that writes the time it
    became ready to FILE and exits (the cold-start floor).
``python -m bench.ui_probe scan TILL_DB SCANS BURSTS PRODUCTS``  scan-to-line latencies
    on a 30-line cart, 50-scan bursts, and ``lookup_code`` alone (P2).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any


def _status_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process from /proc; ``ru_maxrss``
    would carry the forking parent's high-water mark across exec on Linux."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss() -> dict[str, float]:
    return {"rss_mb": _status_mb("VmRSS"), "peak_mb": _status_mb("VmHWM")}


async def _till_rss(db: Path) -> None:
    from terminal.ui.app import KedaiTill
    from terminal.ui.screens.sale import SaleScreen

    app = KedaiTill(db)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press(*"1234", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")  # opening float
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, SaleScreen), app.screen
        await pilot.press(*"8880000000019", "enter")
        await app.screen.scans_settled()
        await pilot.press("f2", *"rice")
        await app.workers.wait_for_complete()
        await pilot.pause()
        found = len(app.screen.results)  # type: ignore[attr-defined]
        usage = _rss()  # measured with the app still running, after the work
    print(json.dumps({**usage, "search_results": found}))


async def _floor_rss() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Input

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Input()
            yield Footer()

    app = Bare()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*"1234", "enter", *"8880000000019", "enter")
        await pilot.pause()
        usage = _rss()
    print(json.dumps(usage))


def _bare_ready(marker: str) -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Input, Label

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Label("PIN")
            yield Input(password=True)

        def on_ready(self) -> None:
            Path(marker).write_text(repr(time.time()))
            self.exit()

    Bare().run()


async def _login(app: Any, pilot: Any) -> Any:
    from terminal.ui.screens.sale import SaleScreen

    await app.workers.wait_for_complete()
    await pilot.press(*"1234", "enter")
    await app.workers.wait_for_complete()
    await pilot.pause()
    if not isinstance(app.screen, SaleScreen):
        await pilot.press("enter")  # opening float
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert isinstance(app.screen, SaleScreen), app.screen
    return app.screen


def _send_code(app: Any, driver: Any, code: str) -> None:
    from textual import events

    for key in (*code, "enter"):
        event = events.Key(key, "\r" if key == "enter" else key)
        event.set_sender(app)
        driver.send_message(event)


async def _scan(db: Path, n: int, bursts: int, products: int) -> None:
    from bench.tilldb import GENERATED_BARCODE
    from terminal.db.engine import open_database
    from terminal.services.catalog import lookup_code
    from terminal.ui.app import KedaiTill

    rng = random.Random(7)
    generated = products - 52

    base = [GENERATED_BARCODE.format(i) for i in range(30)]

    def distinct(k: int) -> list[str]:
        """``k`` random codes, none the same as the one before it nor the base cart's
        last (a reset cart ends with it): a repeat of the last line would add to its
        quantity instead of adding a line."""
        out = [base[-1]]
        while len(out) <= k:
            c = GENERATED_BARCODE.format(rng.randrange(generated))
            if c not in (out[-1], base[-1]):
                out.append(c)
        return out[1:]

    codes = distinct(n)
    app = KedaiTill(db)
    line: list[float] = []
    burst: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _login(app, pilot)
        driver = app._driver
        assert driver is not None

        def reset(entries: list[Any]) -> None:
            screen.cart.entries[:] = entries
            screen.pane._changed()  # the table shows the reset cart before the next scan

        sent = 0

        async def scan(batch: list[str], timeout: float) -> None:
            """Queue ``batch`` as a scanner types it; wait (on the screen's own progress,
            not by spinning the loop beside the till) until every code is added."""
            nonlocal sent
            for c in batch:
                _send_code(app, driver, c)
            sent += len(batch)
            await asyncio.wait_for(screen.scans_looked_up(sent), timeout)

        await scan(base, 120)  # the 30-line cart every measured scan lands on
        assert len(screen.cart) == 30, len(screen.cart)
        thirty = list(screen.cart.entries)
        for i, c in enumerate(codes):
            if i % 10 == 0:
                reset(thirty)
                await pilot.pause()
            before = len(screen.cart)
            started = time.perf_counter()
            await scan([c], 30)
            line.append((time.perf_counter() - started) * 1000)
            assert len(screen.cart) == before + 1, f"scan {c} was not added"
        for _ in range(bursts):
            reset([])
            await pilot.pause()
            many = distinct(50)
            started = time.perf_counter()
            await scan(many, 60)
            burst.append(time.perf_counter() - started)
            assert len(screen.cart) == 50, len(screen.cart)
    tdb = open_database(db)
    lookup: list[float] = []
    try:
        for c in codes:
            started = time.perf_counter()
            await lookup_code(tdb, c)
            lookup.append((time.perf_counter() - started) * 1000)
    finally:
        await tdb.dispose()
    print(json.dumps({"line_ms": line, "lookup_ms": lookup, "burst_s": burst}))


def main() -> None:
    kind = sys.argv[1]
    if kind == "rss":
        asyncio.run(_till_rss(Path(sys.argv[2])))
    elif kind == "rss-floor":
        asyncio.run(_floor_rss())
    elif kind == "bare-ready":
        _bare_ready(sys.argv[2])
    elif kind == "scan":
        scans, bursts, products = (int(x) for x in sys.argv[3:6])
        asyncio.run(_scan(Path(sys.argv[2]), scans, bursts, products))
    else:
        raise SystemExit(f"unknown probe {kind!r}")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
