"""Run every ``bench/bench_*.py`` and write ``bench/RESULTS.md``.

``python -m bench`` runs all; ``python -m bench checkout`` runs the named ones;
``--quick`` shrinks sample counts for a smoke run (its results are not written).
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="few samples; do not write")
    args = parser.parse_args()
    available = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    names = args.names or available
    sections = []
    for name in names:
        if name not in available:
            print(f"unknown benchmark {name!r}; have: {', '.join(available)}", file=sys.stderr)
            return 2
        module = importlib.import_module(f"bench.bench_{name}")
        started = time.perf_counter()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        section = module.run(quick=args.quick)
        section.notes.append(f"_Took {time.perf_counter() - started:.1f} s._")
        sections.append(section)
        print(section.markdown())
    if args.quick:
        return 0
    header = [
        "# Kedai benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"Python {platform.python_version()}, {_cores()} cores (shared, noisy machine). "
        "Each figure is beside its floor measured in the same run; ratio = figure / floor "
        "(for throughput: floor / figure), so 1.00x is as fast as the floor.",
        "",
    ]
    out = HERE / "RESULTS.md"
    existing = _existing_sections(out) if args.names else {}
    for s in sections:
        existing[s.title] = s.markdown()
    out.write_text("\n".join(header) + "\n".join(existing.values()))
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _cores() -> int:
    import os

    return os.cpu_count() or 1


def _existing_sections(path: Path) -> dict[str, str]:
    """Keep other benchmarks' sections when only some are re-run."""
    if not path.exists():
        return {}
    sections: dict[str, str] = {}
    title = None
    for line in path.read_text().splitlines(keepends=True):
        if line.startswith("## "):
            title = line[3:].strip()
            sections[title] = ""
        if title is not None:
            sections[title] += line
    return sections


if __name__ == "__main__":
    raise SystemExit(main())
