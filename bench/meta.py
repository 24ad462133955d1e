"""Where and with what a benchmark run ran: date, machine, Python, library versions."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

LIBRARIES = (
    "sqlalchemy",
    "aiosqlite",
    "textual",
    "pydantic",
    "httpx",
    "fastapi",
    "uvicorn",
    "asyncpg",
    "psycopg",
)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _postgres() -> str:
    from pathlib import Path

    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), reverse=True)
    if not found:
        return "not installed"
    try:
        done = subprocess.run([str(found[0]), "--version"], capture_output=True, text=True)
        match = re.search(r"\d+\.\d+", done.stdout)
        return match.group(0) if match else "unknown"
    except OSError:
        return "unknown"


def environment(*, quick: bool, seconds: float) -> dict[str, object]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "date_utc": f"{datetime.now(UTC):%Y-%m-%d %H:%M}",
        "machine": f"{platform.machine()}, {_cpu_model()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "sqlite": __import__("sqlite3").sqlite_version,
        "postgresql": _postgres(),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "quick": quick,
        "seconds": round(seconds, 1),
        "load_average_end": [round(x, 2) for x in load],
    }


def header_lines(env: dict[str, object]) -> list[str]:
    libs = env["libraries"]
    assert isinstance(libs, dict)
    return [
        "# Kedai benchmark results",
        "",
        f"Run {env['date_utc']} UTC on {env['machine']} (shared with other users' test runs: "
        f"load average {env['load_average_end']} at the end), Python {env['python']}, "
        f"SQLite {env['sqlite']}, PostgreSQL {env['postgresql']}; "
        + ", ".join(f"{k} {v}" for k, v in libs.items())
        + f". The run took {env['seconds']} s.",
        "",
        "Each figure is beside its floor measured in the same run; ratio = figure / floor "
        "(for throughput: floor / figure), so 1.00x is as fast as the floor. The machine is "
        "busy: read the p10-p90 spread as the noise, and ratios rather than absolutes.",
    ]
