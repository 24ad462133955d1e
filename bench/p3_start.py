"""P3 the till's cold start, and its memory with 100,000 products.

* Cold start: ``kedai-till``'s own entry (``run_till``) in a child process on a real
  pseudo-terminal (80x24), from spawn to the app's ready hook (first paint of the login
  screen; the app writes the time when ``KEDAI_UI_READY_FILE`` is set). Floors in the
  same run: a bare Textual app with a label and an input (spawn to ready) and
  ``python -c "import textual.app"`` (spawn to exit).
* Low spec: the same two cold starts inside a cgroup of half a CPU and 256 MB
  (:mod:`bench.lowspec`), made and removed here; skipped with the reason where cgroups
  are not writable.
* RSS: a child process runs the till headless with the catalog, logs in, scans, and
  searches by name (F2); its RSS beside a bare Textual app's driven the same way.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench import lowspec
from bench.harness import Figure, Section, median
from bench.tilldb import prepare_till

CATALOG = 100_000
ROOT = Path(__file__).resolve().parent.parent
KEYS = (
    "p3_cold_start_s",
    "p3_bare_textual_s",
    "p3_ratio",
    "p3_import_textual_s",
    "p3_lowspec_cold_start_s",
    "p3_lowspec_bare_textual_s",
    "p3_lowspec_ratio",
    "p3_rss_mb",
    "p3_bare_rss_mb",
)
LOWSPEC_KEYS = ("p3_lowspec_cold_start_s", "p3_lowspec_bare_textual_s", "p3_lowspec_ratio")


def run(quick: bool) -> Section:
    starts = 3 if quick else 11
    products = 5_000 if quick else CATALOG
    section = Section(title="P3 till cold start and memory")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        db = tmp / "till.db"
        prepare_till(db, products)
        cold, bare, imports = [], [], []
        for _ in range(starts):  # interleaved, so load changes hit both alike
            cold.append(_cold_start(db, tmp))
            bare.append(_bare_ready(tmp))
            imports.append(_import_textual())
        fig = Figure(
            "P3 cold start to login painted",
            "s",
            cold,
            "bare Textual app ready",
            bare,
            target="<= 1.15x bare Textual",
        )
        section.figures.append(fig)
        section.put("p3_cold_start_s", fig.median)
        section.put("p3_bare_textual_s", fig.floor_median)
        section.put("p3_ratio", fig.ratio)
        section.put("p3_import_textual_s", median(imports))
        why = lowspec.unavailable()
        if why is not None:
            section.skip(LOWSPEC_KEYS, why)
        else:
            lcold, lbare = [], []
            with lowspec.box() as box:
                for _ in range(starts):
                    lcold.append(_cold_start(db, tmp, box.enter))
                    lbare.append(_bare_ready(tmp, box.enter))
            low = Figure(
                "P3 cold start, low spec (0.5 CPU, 256 MB)",
                "s",
                lcold,
                "bare Textual app ready, same cgroup",
                lbare,
                target="<= 0.6 s",
            )
            section.figures.append(low)
            section.put("p3_lowspec_cold_start_s", low.median)
            section.put("p3_lowspec_bare_textual_s", low.floor_median)
            section.put("p3_lowspec_ratio", low.ratio)
        rss_runs = 1 if quick else 3
        till = [_rss("rss", str(db)) for _ in range(rss_runs)]
        floor = [_rss("rss-floor") for _ in range(rss_runs)]
    size = f"{products:,}"
    rss = Figure(
        f"till RSS, {size} products",
        "MB",
        [t["rss_mb"] for t in till],
        "bare Textual app RSS",
        [b["rss_mb"] for b in floor],
        target="<= 80 MB",
    )
    section.figures.append(rss)
    section.put("p3_rss_mb", rss.median)
    section.put("p3_bare_rss_mb", rss.floor_median)
    section.notes += [
        f"Cold start: `run_till` on a real pty (80x24) to the ready hook (login painted), "
        f"{starts} starts interleaved with a bare Textual app (label + input) to its ready "
        f"hook; `python -c 'import textual.app'` took a median {median(imports):.3f} s in the "
        "same run. Low spec: both again inside a "
        + (lowspec.DESCRIPTION if why is None else f"cgroup (not measured: {why})")
        + ".",
        f"RSS: the till with a {size}-product catalog after login, a scan and an F2 search "
        "(VmRSS while running) beside a bare Textual app driven the same way.",
    ]
    return section


def _pty_run(
    argv: list[str],
    env: dict[str, str],
    preexec: Callable[[], None] | None = None,
    timeout: float = 60,
) -> None:
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
        argv,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        start_new_session=True,
        preexec_fn=preexec,  # noqa: PLW1509 - joins the low-spec cgroup before exec
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


def _cold_start(db: Path, tmp: Path, preexec: Callable[[], None] | None = None) -> float:
    marker = tmp / "ready"
    marker.unlink(missing_ok=True)
    env = _env(tmp, KEDAI_UI_READY_FILE=str(marker), KEDAI_UI_EXIT_ON_READY="1")
    code = (
        "from pathlib import Path; from terminal.ui.app import run_till; "
        f"run_till(Path({str(db)!r}))"
    )
    started = time.time()
    _pty_run([sys.executable, "-c", code], env, preexec)
    return float(marker.read_text()) - started


def _bare_ready(tmp: Path, preexec: Callable[[], None] | None = None) -> float:
    marker = tmp / "bare-ready"
    marker.unlink(missing_ok=True)
    started = time.time()
    argv = [sys.executable, "-m", "bench.ui_probe", "bare-ready", str(marker)]
    _pty_run(argv, _env(tmp), preexec)
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
        timeout=300,
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return {"rss_mb": float(out["rss_mb"]), "peak_mb": float(out["peak_mb"])}
