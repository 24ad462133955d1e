"""``python -m bench --quick --json``: every metric key, each a number or null with a reason.

Benchmarks never fail the suite on a number: these tests check the runner's shape only
(keys, types, reasons, no results file written by a quick run), never a figure.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import MODULES, all_keys, resolve

ROOT = Path(__file__).resolve().parents[2]
ISSUE_KEYS = {
    "p1_sale_commit_median_ms",
    "p1_floor_median_ms",
    "p1_ratio",
    "p2_scan_p99_ms",
    "p3_cold_start_s",
    "p3_bare_textual_s",
    "p4_drain_sqlite_ratio",
    "p4_drain_pg_ratio",
    "p4b_catalog_pull_s",
    "p4b_floor_s",
    "p5_fanin_p99_ms",
    "p6_visible_p50_ms",
    "p6_visible_p99_ms",
    "p7_ui_stall_max_ms",
    "p8_dashboard_p95_ms",
    "p8_gst_f5_s",
}


def test_every_module_declares_keys_named_after_its_metric() -> None:
    keys = all_keys()
    flat = [k for ks in keys.values() for k in ks]
    assert len(flat) == len(set(flat)), "a key is reported by two modules"
    assert set(flat) >= ISSUE_KEYS
    for module, ks in keys.items():
        number = module.split("_", 1)[0]
        assert ks and all(k.startswith(number + "_") for k in ks), module


@pytest.mark.parametrize(
    ("name", "module"),
    [("p1", "p1_sale"), ("sale", "p1_sale"), ("checkout", "p1_sale"), ("p4b", "p4b_catalog"),
     ("catalog", "p4b_catalog"), ("p4", "p4_drain"), ("ingest", "p4_ingest"), ("nope", None)],
)  # fmt: skip
def test_names_resolve_to_modules(name: str, module: str | None) -> None:
    assert resolve(name) == module


def test_quick_json_has_every_key_numeric_or_null_with_reason() -> None:
    results = ROOT / "bench" / "RESULTS.md"
    before = results.read_bytes() if results.exists() else None
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", "p1", "p8"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    reasons = out.pop("reasons")
    meta = out.pop("meta")
    expected = {k for ks in all_keys().values() for k in ks}
    assert set(out) == expected
    for key, value in out.items():
        if value is None:
            assert isinstance(reasons.get(key), str) and reasons[key].strip(), key
        else:
            assert isinstance(value, int | float) and math.isfinite(value), (key, value)
    for key in all_keys()["p1_sale"]:
        assert reasons.get(key) != "not selected in this run", key
    assert out["p1_sale_commit_median_ms"] is not None, reasons.get("p1_sale_commit_median_ms")
    assert {"date_utc", "machine", "python", "libraries"} <= set(meta)
    assert meta["quick"] is True
    after = results.read_bytes() if results.exists() else None
    assert after == before, "a --quick run must not write bench/RESULTS.md"


def test_module_list_is_every_benchmark_file() -> None:
    files = {p.stem for p in (ROOT / "bench").glob("p*_*.py")}
    assert files == set(MODULES)


def test_a_partial_run_keeps_the_other_benchmarks_sections_and_keys(tmp_path: Path) -> None:
    from bench.__main__ import write_results
    from bench.harness import Section
    from bench.meta import environment

    out = tmp_path / "RESULTS.md"
    env = environment(quick=False, seconds=1.0)
    first, second = Section(title="P1 first"), Section(title="P2 second")
    first.put("p1_x", 1.5)
    second.put("p2_y", 2.5)
    write_results(out, [first, second], {"p1_x": 1.5, "p2_y": 2.5}, {}, env, partial=False)
    again = Section(title="P2 second")
    again.put("p2_y", 3.5)
    write_results(
        out,
        [again],
        {"p1_x": None, "p2_y": 3.5},
        {"p1_x": "not selected in this run"},
        env,
        partial=True,
    )
    text = out.read_text()
    assert "| `p1_x` | 1.5 |" in text and "| `p2_y` | 3.5 |" in text
    assert "| `p2_y` | 2.5 |" not in text
    assert "## P1 first" in text and text.count("## P2 second") == 1
    assert "re-measured only: P2 second" in text


def test_a_benchmark_that_succeeds_again_loses_its_failed_section(tmp_path: Path) -> None:
    from bench.__main__ import failed_title, write_results
    from bench.harness import Section
    from bench.meta import environment

    out = tmp_path / "RESULTS.md"
    env = environment(quick=False, seconds=1.0)
    other, broken = Section(title="P1 first"), Section(title=failed_title("p4b_catalog"))
    other.put("p1_x", 1.5)
    broken.skip(["p4b_y"], "benchmark failed: OperationalError")
    write_results(out, [other, broken], {"p1_x": 1.5, "p4b_y": None}, {}, env, partial=False)
    assert "## p4b_catalog (failed)" in out.read_text()
    fixed = Section(title="P4b catalog")
    fixed.put("p4b_y", 6.0)
    write_results(
        out,
        [fixed],
        {"p1_x": None, "p4b_y": 6.0},
        {"p1_x": "not selected in this run"},
        env,
        partial=True,
        modules_run=["p4b_catalog"],
    )
    text = out.read_text()
    assert "## P4b catalog" in text and "## P1 first" in text
    assert "(failed)" not in text
