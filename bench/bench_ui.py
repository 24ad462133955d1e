"""The till UI: cold start to a painted login screen, memory with 100,000 products,
and scan-to-line latency.

* Cold start: ``kedai-till``'s own entry (``run_till``) in a child process on a real
  pseudo-terminal (80x24), from spawn to the app's ready hook (first paint of the login
  screen; the app writes the time when ``KEDAI_UI_READY_FILE`` is set). Floors in the
  same run: ``python -c "import textual"`` (spawn to exit) and a bare Textual app with
  a label and an input (spawn to ready).
* RSS: a child process runs the till headless with a 100,000-product catalog, logs in,
  scans, and searches by name (F2); its peak RSS beside a bare Textual app's driven the
  same way. The catalog is never loaded: scans and searches are indexed SQL with LIMIT.
* Scan-to-line: in-process through Pilot's driver, from the first keystroke of a
  13-digit barcode (digits + Enter queued at once, as a scanner sends them) until the
  line is in the cart and the table redrawn; floor: the bare ``lookup_code`` call.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import random
import sqlite3
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import uuid
from contextlib import closing
from pathlib import Path

from bench.harness import Figure, Section

CATALOG = 100_000
ROOT = Path(__file__).resolve().parent.parent


def run(quick: bool) -> Section:
    starts = 3 if quick else 11
    scans = 30 if quick else 300
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "till.db"
        asyncio.run(_prepare(db, 5_000 if quick else CATALOG))
        cold = [_cold_start(db, Path(tmp)) for _ in range(starts)]
        import_floor = [_import_textual() for _ in range(starts)]
        bare_floor = [_bare_ready(Path(tmp)) for _ in range(starts)]
        till = [_rss("rss", str(db)) for _ in range(3 if not quick else 1)]
        bare = [_rss("rss-floor") for _ in range(3 if not quick else 1)]
        line, lookup = asyncio.run(_scan_latency(db, scans, 5_000 if quick else CATALOG))
    size = f"{5_000 if quick else CATALOG:,}"
    return Section(
        title="Till UI",
        notes=[
            "Cold start runs `run_till` on a real pty (80x24) to the ready hook (login painted); "
            "the floor beside it is a bare Textual app (label + input) to its ready hook; "
            f"`python -c 'import textual'` took a median {_median(import_floor):.3f} s "
            "in the same run.",
            f"RSS: the till with a {size}-product catalog after login, a scan and an F2 search "
            "(VmRSS while running, and the peak VmHWM: the login's scrypt PIN check "
            "(n=2^12, r=8, p=4) briefly allocates 4 MB) beside a bare Textual app driven the "
            "same way.",
            "Scan-to-line: keystrokes of one barcode queued at once through the driver, until "
            f"the line is in the cart (catalog {size} products, cart cleared every 20 lines); "
            "floor: `lookup_code` alone on the same database.",
        ],
        figures=[
            Figure(
                "cold start to login painted",
                "s",
                cold,
                "bare Textual app ready",
                bare_floor,
                target="<= 0.6 s",
            ),
            Figure(
                f"till RSS, {size} products",
                "MB",
                [t["rss_mb"] for t in till],
                "bare Textual app RSS",
                [b["rss_mb"] for b in bare],
                target="<= 80 MB",
            ),
            Figure(
                f"till peak RSS (incl. scrypt PIN check), {size} products",
                "MB",
                [t["peak_mb"] for t in till],
                "bare Textual app peak",
                [b["peak_mb"] for b in bare],
            ),
            Figure("scan-to-line latency", "ms", line, "lookup_code", lookup),
        ],
    )


def _median(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2]


async def _prepare(path: Path, products: int) -> None:
    from terminal.db.engine import open_database
    from terminal.services.setup import init_till, seed_demo

    db = open_database(path)
    try:
        await init_till(db)
        await seed_demo(db)
    finally:
        await db.dispose()
    rng = random.Random(5)
    words = ["Rice", "Kopi", "Teh", "Milo", "Noodles", "Sauce", "Soap", "Biscuit", "Tissue"]
    rows = []
    for i in range(products - 52):
        name = f"{rng.choice(words)} {rng.choice(words)} {i:06d}"
        rows.append(
            (
                uuid.uuid4().hex,
                f"GEN-{i:06d}",
                f"2{i:012d}",
                name,
                name.lower(),
                rng.randint(50, 5000),
                "SR",
                1,
                1,
            )
        )
    with closing(sqlite3.connect(path)) as con, con:
        con.executemany(
            "INSERT INTO products (id, sku, barcode, name, search_name, price_cents, tax_code,"
            " cdc_eligible, active) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )


def _pty_run(argv: list[str], env: dict[str, str], timeout: float = 30) -> None:
    """Run ``argv`` on a fresh 80x24 pseudo-terminal, draining its output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))

    def drain() -> None:
        try:
            while os.read(master, 65536):
                pass
        except OSError:
            pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True
    )
    os.close(slave)
    try:
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "TERM": "xterm-256color", "HOME": str(tmp / "home"), **extra}
    env["XDG_STATE_HOME"] = str(tmp / "home" / "state")
    return env


def _cold_start(db: Path, tmp: Path) -> float:
    marker = tmp / "ready"
    marker.unlink(missing_ok=True)
    env = _env(tmp, KEDAI_UI_READY_FILE=str(marker), KEDAI_UI_EXIT_ON_READY="1")
    code = (
        "from pathlib import Path; from terminal.ui.app import run_till; "
        f"run_till(Path({str(db)!r}))"
    )
    started = time.time()
    _pty_run([sys.executable, "-c", code], env)
    return float(marker.read_text()) - started


def _bare_ready(tmp: Path) -> float:
    marker = tmp / "bare-ready"
    marker.unlink(missing_ok=True)
    started = time.time()
    _pty_run([sys.executable, "-m", "bench.ui_probe", "bare-ready", str(marker)], _env(tmp))
    return float(marker.read_text()) - started


def _import_textual() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import textual.app"], check=True, cwd=ROOT)
    return time.perf_counter() - started


def _rss(*args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.ui_probe", *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return {"rss_mb": float(out["rss_mb"]), "peak_mb": float(out["peak_mb"])}


async def _scan_latency(db_path: Path, n: int, products: int) -> tuple[list[float], list[float]]:
    from textual import events

    from terminal.db.engine import open_database
    from terminal.services.catalog import lookup_code
    from terminal.ui.app import KedaiTill
    from terminal.ui.screens.sale import SaleScreen

    rng = random.Random(7)
    codes = [f"2{rng.randrange(products - 52):012d}" for _ in range(n)]
    app = KedaiTill(db_path)
    line: list[float] = []
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press(*"1234", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SaleScreen)
        driver = app._driver
        assert driver is not None
        for i, code in enumerate(codes):
            if i % 20 == 0 and screen.cart.entries:
                screen.cart.clear()
                await pilot.pause()
            before = len(screen.cart)
            started = time.perf_counter()
            for key in (*code, "enter"):
                event = events.Key(key, "\r" if key == "enter" else key)
                event.set_sender(app)
                driver.send_message(event)
            deadline = started + 10
            while len(screen.cart) == before:
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"scan {code} never reached the cart")
                await asyncio.sleep(0)
            await screen.scans_settled()
            line.append((time.perf_counter() - started) * 1000)
    db = open_database(db_path)
    lookup: list[float] = []
    try:
        for code in codes:
            started = time.perf_counter()
            await lookup_code(db, code)
            lookup.append((time.perf_counter() - started) * 1000)
    finally:
        await db.dispose()
    return line, lookup
