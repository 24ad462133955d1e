"""Child processes for bench_ui: each prints one JSON line and exits.

``python -m bench.ui_probe rss TILL_DB``  the till, headless, driven by Pilot through a
    login, a scan and an F2 search, then reports its peak RSS.
``python -m bench.ui_probe rss-floor``    a bare Textual app with one Input, same driving.
``python -m bench.ui_probe bare-ready FILE``  a bare Textual app that writes the time it
    became ready to FILE and exits (the cold-start floor).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path


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


def main() -> None:
    kind = sys.argv[1]
    if kind == "rss":
        asyncio.run(_till_rss(Path(sys.argv[2])))
    elif kind == "rss-floor":
        asyncio.run(_floor_rss())
    elif kind == "bare-ready":
        _bare_ready(sys.argv[2])
    else:
        raise SystemExit(f"unknown probe {kind!r}")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
