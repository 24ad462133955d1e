"""``python -m bench [--quick] [--json] [names...]``: every user-facing figure of Kedai.

Each benchmark module (``bench/p*.py``) reports figures beside a floor measured in the
same run, and metrics under fixed keys. ``names`` pick modules by number or word
(``p1``, ``sale``, ``p4b``, ``catalog``...; default: all). ``--quick`` shrinks every
count for a smoke run of under a minute and writes nothing; a full run writes
``bench/RESULTS.md`` (sections of modules not run are kept from the previous file).
``--json`` prints one object: every metric key of every module (``null`` when not
measured, with the reason under ``"reasons"``), plus ``"meta"``. A benchmark that fails
is reported, never fatal: its keys are null with the error as the reason.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from bench import pg
from bench.harness import Section
from bench.meta import environment, header_lines

HERE = Path(__file__).parent
MODULES = (
    "p1_sale",
    "p2_scan",
    "p3_start",
    "p4_drain",
    "p4_ingest",
    "p4b_catalog",
    "p5_fanin",
    "p6_visible",
    "p7_stall",
    "p8_backoffice",
)
ALIASES = {"checkout": "p1_sale", "ui": "p3_start", "drain": "p4_drain", "ingest": "p4_ingest"}


def resolve(name: str) -> str | None:
    """``p1``, ``sale``, ``p1_sale`` or an old name (``checkout``) -> the module's name."""
    if name in ALIASES:
        return ALIASES[name]
    for module in MODULES:
        number, word = module.split("_", 1)
        if name in (module, word) or (name == number and number != "p4"):
            return module
    if name == "p4":
        return "p4_drain"
    return None


def load(module: str) -> ModuleType:
    return importlib.import_module(f"bench.{module}")


def all_keys() -> dict[str, tuple[str, ...]]:
    return {module: tuple(load(module).KEYS) for module in MODULES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small counts; write nothing")
    parser.add_argument("--json", action="store_true", help="print the metrics as one object")
    args = parser.parse_args(argv)
    chosen: list[str] = []
    for name in args.names:
        module = resolve(name)
        if module is None:
            known = ", ".join(m.split("_", 1)[0] + "/" + m.split("_", 1)[1] for m in MODULES)
            print(f"unknown benchmark {name!r}; have: {known}", file=sys.stderr)
            return 2
        if module not in chosen:
            chosen.append(module)
    selected = chosen or list(MODULES)
    keys = all_keys()
    report = sys.stderr if args.json else sys.stdout
    metrics: dict[str, float | None] = {}
    reasons: dict[str, str] = {}
    sections: list[Section] = []
    started_all = time.perf_counter()
    try:
        for module in MODULES:
            if module not in selected:
                for key in keys[module]:
                    metrics[key] = None
                    reasons[key] = "not selected in this run"
                continue
            print(f"running {module} ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            try:
                section = load(module).run(quick=args.quick)
            except Exception as exc:  # one broken benchmark must not hide the others
                traceback.print_exc()
                section = Section(title=failed_title(module))
                section.skip(keys[module], f"benchmark failed: {type(exc).__name__}: {exc}")
            took = time.perf_counter() - started
            section.notes.append(f"_Took {took:.1f} s._")
            for key in keys[module]:
                if key not in section.metrics:
                    section.put(key, None, "the benchmark did not report it")
            metrics.update({k: section.metrics[k] for k in keys[module]})
            reasons.update({k: v for k, v in section.reasons.items() if k in keys[module]})
            sections.append(section)
            print(section.markdown(), file=report, flush=True)
    finally:
        pg.stop()
    env = environment(quick=args.quick, seconds=time.perf_counter() - started_all)
    if args.json:
        print(json.dumps({**metrics, "reasons": reasons, "meta": env}, indent=1))
    if not args.quick:
        out = HERE / "RESULTS.md"
        ran = [m for m in MODULES if m in selected]
        write_results(out, sections, metrics, reasons, env, partial=bool(chosen), modules_run=ran)
        print(f"wrote {out}", file=sys.stderr)
    return 0


def failed_title(module: str) -> str:
    """The title of the section a benchmark that raised leaves instead of its own."""
    return f"{module} (failed)"


def write_results(
    out: Path,
    sections: list[Section],
    metrics: dict[str, float | None],
    reasons: dict[str, str],
    env: dict[str, object],
    *,
    partial: bool,
    modules_run: Sequence[str] = (),
) -> None:
    """Write ``out``. A partial run keeps the other benchmarks' sections and metric rows;
    a benchmark it re-ran loses the "failed" section an earlier run left for it."""
    kept = _existing_sections(out) if partial else {}
    old_rows = _existing_metric_rows(out) if partial else {}
    for module in modules_run:
        kept.pop(failed_title(module), None)
    for s in sections:
        kept[s.title] = s.markdown()
    lines = [*header_lines(env), ""]
    if partial:
        lines += [
            "This run re-measured only: " + "; ".join(s.title for s in sections) + ". The "
            "other sections, and their keys below, are kept from the earlier run.",
            "",
        ]
    lines += ["## Metrics (`python -m bench --json`)", ""]
    lines += ["| key | value | note |", "|---|---|---|"]
    for key, value in metrics.items():
        if value is None and reasons.get(key) == "not selected in this run":
            if key in old_rows:
                lines.append(old_rows[key])
            continue
        lines.append(f"| `{key}` | {'null' if value is None else value} | {reasons.get(key, '')} |")
    lines.append("")
    body = "\n".join(lines) + "\n" + "\n".join(v.rstrip() + "\n" for v in kept.values())
    out.write_text(body)


def _existing_metric_rows(path: Path) -> dict[str, str]:
    """The metrics table's rows of an earlier run, by key (kept for benchmarks not re-run)."""
    if not path.exists():
        return {}
    rows: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.startswith("| `") and "` |" in line:
            rows[line[3 : line.index("` |")]] = line
    return rows


def _existing_sections(path: Path) -> dict[str, str]:
    """Other benchmarks' sections when only some are re-run."""
    if not path.exists():
        return {}
    sections: dict[str, str] = {}
    title = None
    for line in path.read_text().splitlines(keepends=True):
        if line.startswith("## "):
            title = line[3:].strip()
            if title.startswith("Metrics"):
                title = None
                continue
            sections[title] = ""
        if title is not None:
            sections[title] += line
    return sections


if __name__ == "__main__":
    raise SystemExit(main())
