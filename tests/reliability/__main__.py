"""``python -m tests.reliability [--quick] [--json] [--seed S]``: run the chaos harness.

Exit status 0 when every promise held (nothing lost or duplicated, balances add up,
no 5xx, nothing quarantined that should not be, every till file whole), 1 otherwise.
``--quick`` (a few minutes) is what CI runs; the full run's figures go in
docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.hq.pg import pg_ctl_for_tests, postgres_required
from tests.reliability.hostile import HostileFigures, run_corpus, run_schemathesis
from tests.reliability.network import NetworkFigures, run_network_chaos
from tests.reliability.pgsite import PgSite, Postgres
from tests.reliability.tillcrash import CrashFigures, run_till_crashes
from tests.sync.hq_site import Site

QUICK = {"kills": 6, "rounds": 24, "pg_rounds": 12, "hq_kills": 3, "examples": 5, "budget_s": 600}
FULL = {
    "kills": 300, "rounds": 300, "pg_rounds": 80, "hq_kills": 60, "examples": 100,
    "budget_s": 4 * 3600,
}  # fmt: skip


PHASES = ("crash", "network", "network-pg", "hostile")


def run(
    *, quick: bool, seed: int, skip_schemathesis: bool = False, phases: tuple[str, ...] = PHASES
) -> dict[str, Any]:
    plan = QUICK if quick else FULL
    started = time.monotonic()
    deadline = started + plan["budget_s"]
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="kedai-chaos-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "crash").mkdir()
        (tmp / "net").mkdir()
        (tmp / "hostile").mkdir()
        crash_seed, net_seed = rng.randrange(2**31), rng.randrange(2**31)
        pg_seed = rng.randrange(2**31)
        crash, net, hostile = CrashFigures(), NetworkFigures(), HostileFigures()
        pg_net = NetworkFigures()
        fuzz: dict[str, Any] = {"ran": False, "reason": "skipped"}
        if "crash" in phases:
            crash = run_till_crashes(
                tmp / "crash", kills=plan["kills"], seed=crash_seed, deadline=deadline
            )
        if "network" in phases:
            net = asyncio.run(
                run_network_chaos(
                    tmp / "net",
                    rounds=plan["rounds"],
                    hq_kills=plan["hq_kills"],
                    seed=net_seed,
                    deadline=deadline,
                )
            )
        postgres_note = "not run"
        if "network-pg" in phases and pg_ctl_for_tests() is None and not postgres_required():
            postgres_note = "skipped: PostgreSQL server binaries not installed"
        elif "network-pg" in phases:
            postgres_note = "ran"
            (tmp / "pg").mkdir()
            (tmp / "netpg").mkdir()
            postgres = Postgres(tmp / "pg")
            postgres.start()
            try:
                pg_net = asyncio.run(
                    run_network_chaos(
                        tmp / "netpg",
                        rounds=plan["pg_rounds"],
                        hq_kills=plan["hq_kills"],
                        seed=pg_seed,
                        deadline=deadline,
                        site=PgSite(tmp / "netpg", pg=postgres),
                    )
                )
            finally:
                postgres.stop()
        if "hostile" in phases:
            site = Site(tmp / "hostile")
            site.start()
            site.seed_demo()
            try:
                hostile = run_corpus(site)
                if not skip_schemathesis:
                    fuzz = run_schemathesis(
                        site, tmp / "hostile", max_examples=plan["examples"], seed=seed
                    )
            finally:
                site.stop()
    problems = crash.problems + net.problems + pg_net.problems + hostile.problems
    server_errors = int(fuzz.get("server_errors", 0) or 0)
    figures: dict[str, Any] = {
        "mode": "quick" if quick else "full",
        "seed": seed,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "faults_injected": (
            net.faults_injected
            + pg_net.faults_injected
            + net.hq_kills
            + pg_net.hq_kills
            + crash.kills
        ),
        "network_faults": net.faults_injected,
        "network_faults_by_kind": net.faults,
        "network_faults_postgres": pg_net.faults_injected,
        "postgres": postgres_note,
        "till_kills": crash.kills,
        "hq_kills": net.hq_kills,
        "hq_kills_postgres": pg_net.hq_kills,
        "hq_restores": net.hq_restores,
        "hq_restores_postgres": pg_net.hq_restores,
        "sync_failures_seen": net.sync_failures + pg_net.sync_failures,
        "rounds": net.rounds,
        "rounds_postgres": pg_net.rounds,
        "sales_committed": net.sales_committed + pg_net.sales_committed,
        "sales_at_hq": net.sales_at_hq + pg_net.sales_at_hq,
        "sales_committed_postgres": pg_net.sales_committed,
        "events_committed": net.events_committed + pg_net.events_committed,
        "events_at_hq": net.events_at_hq + pg_net.events_at_hq,
        "crash_till_sales": crash.sales_committed,
        "lost": net.lost + pg_net.lost,
        "duplicated": net.duplicated + pg_net.duplicated,
        "balance_mismatches": net.balance_mismatches + pg_net.balance_mismatches,
        "till_views_stale": net.till_views_stale + pg_net.till_views_stale,
        "http_5xx": net.http_5xx + pg_net.http_5xx + hostile.http_5xx + server_errors,
        "quarantined_expected": hostile.quarantined_expected,
        "quarantined_unexpected": (
            hostile.quarantined_unexpected
            + net.quarantined_unexpected
            + pg_net.quarantined_unexpected
        ),
        "corpus_cases": hostile.cases,
        "corpus_requests": hostile.requests,
        "schemathesis": fuzz,
        "problems": problems,
    }
    figures["ok"] = ok(figures)
    return figures


def ok(f: dict[str, Any]) -> bool:
    fuzz = f["schemathesis"]
    return (
        f["lost"] == 0
        and f["duplicated"] == 0
        and f["balance_mismatches"] == 0
        and f["http_5xx"] == 0
        and f["quarantined_unexpected"] == 0
        and f["sales_at_hq"] == f["sales_committed"]
        and not f["problems"]
        and (not fuzz.get("ran") or fuzz.get("exit_code") == 0)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the CI run (a few minutes)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--seed", type=int, default=None, help="replay a run by its seed")
    parser.add_argument("--no-schemathesis", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--phases", default=",".join(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--kills", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    plan = QUICK if args.quick else FULL
    if args.kills is not None:
        plan["kills"] = args.kills
    if args.rounds is not None:
        plan["rounds"] = plan["pg_rounds"] = args.rounds
    figures = run(
        quick=args.quick,
        seed=seed,
        skip_schemathesis=args.no_schemathesis,
        phases=tuple(args.phases.split(",")),
    )
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    else:
        for key, value in figures.items():
            if key not in ("problems", "schemathesis"):
                print(f"{key:24} {value}")
        fuzz = {
            k: v
            for k, v in figures["schemathesis"].items()
            if not k.startswith(("summary", "failure_text"))
        }
        print(f"{'schemathesis':24} {json.dumps(fuzz)}")
        for problem in figures["problems"]:
            print(f"PROBLEM {problem}")
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["asdict", "main", "run"]
