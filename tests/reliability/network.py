"""Network chaos and HQ crashes: three tills selling and syncing through the chaos proxy.

The tills sell (about 40% of sales to shared loyalty members, some paid partly with
points) and sync through :class:`~tests.reliability.chaosproxy.ChaosProxy`, which drops,
resets, delays, truncates, loses answers and answers 5xx, and makes HQ unreachable for
whole rounds. Meanwhile HQ is SIGKILLed at random moments (mid-batch when a push is in
flight) and restarted, and once restored from an older backup. Then the network heals
and the tills drain. HQ must hold exactly every event the tills committed: none lost,
none twice, every balance the sum of its deltas, and no 5xx from HQ itself.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import time
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import stamina
from sqlalchemy import select

from sync.agent import SyncAgent
from terminal.db.engine import Database, open_database
from terminal.db.models import Cashier, Customer
from terminal.services.catalog import list_products
from terminal.services.checkout import finalize_sale
from terminal.services.errors import TillError
from terminal.services.schemas import CartItemIn, CheckoutRequest, TenderIn
from terminal.services.simulate import random_request
from terminal.services.sync_store import TillSyncStore
from terminal.services.uow import reading
from tests.reliability.chaosproxy import ChaosProxy
from tests.sync.hq_site import HQ_CLI, TILL, Site, run


@dataclass
class NetworkFigures:
    tills: int = 0
    rounds: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    faults_injected: int = 0
    hq_kills: int = 0
    hq_restores: int = 0
    sync_failures: int = 0
    sales_committed: int = 0
    sales_at_hq: int = 0
    events_committed: int = 0
    events_at_hq: int = 0
    lost: int = 0
    duplicated: int = 0
    balance_mismatches: int = 0
    till_views_stale: int = 0
    """A till showing an older HQ balance than HQ holds after the final pull (display
    staleness, counted apart from HQ's own balance = sum of deltas = ledger)."""
    http_5xx: int = 0
    quarantined_unexpected: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class _Till:
    name: str
    path: Path
    terminal_id: str
    db: Database
    agent: SyncAgent
    cashier: uuid.UUID | None = None
    customers: list[uuid.UUID] = field(default_factory=list)


async def _enroll(site: Site, name: str, server: str, code: int) -> tuple[Path, str]:
    """Both CLIs, in a thread: the till enrolls through the proxy this event loop runs."""
    return await asyncio.to_thread(_enroll_sync, site, name, server, code)


def _enroll_sync(site: Site, name: str, server: str, code: int) -> tuple[Path, str]:
    out = run(
        [
            *HQ_CLI, "enroll", "--outlet", "DEMO", "--terminal", f"T{code:02d}", "--json",
            "--database-url", site.database_url,
        ]
    )  # fmt: skip
    enrolled = json.loads(out.stdout)
    path = site.tmp / f"{name}.db"
    run([*TILL, "enroll", "--server", server, "--token", enrolled["token"], "--db", str(path)])
    return path, str(enrolled["terminal_id"])


def _hq(site: Site, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    query = getattr(site, "query", None)
    if query is not None:  # PostgreSQL
        return list(query(sql, *params))
    with closing(sqlite3.connect(site.db_file, timeout=60)) as conn:
        return conn.execute(sql, params).fetchall()


def _till(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path, timeout=60)) as conn:
        return conn.execute(sql).fetchall()


def _hex(value: Any) -> str:
    return str(value).replace("-", "")


async def _people(till: _Till) -> None:
    async with reading(till.db) as s:
        till.cashier = (
            (await s.execute(select(Cashier.id).where(Cashier.active).order_by(Cashier.name)))
            .scalars()
            .first()
        )
        till.customers = list((await s.execute(select(Customer.id))).scalars().all())


async def _sell(till: _Till, rng: random.Random, n: int) -> None:
    products = await list_products(till.db)
    assert till.cashier is not None
    for _ in range(n):
        try:
            if till.customers and rng.random() < 0.15:
                await _redeem(till, rng, products)
            else:
                request = random_request(
                    rng, products, cashier_id=till.cashier, customer_ids=till.customers
                )
                await finalize_sale(till.db, request)
        except TillError:
            continue  # e.g. not enough points: the till refused it, as it should


async def _redeem(till: _Till, rng: random.Random, products: Any) -> None:
    assert till.cashier is not None
    product = products[rng.randrange(len(products))]
    due = product.price_cents * 2
    points = rng.randint(1, max(1, min(5, due - 1)))
    await finalize_sale(
        till.db,
        CheckoutRequest(
            cashier_id=till.cashier,
            customer_id=rng.choice(till.customers),
            items=[CartItemIn(product_id=product.id, qty=2)],
            tenders=[
                TenderIn(kind="points", amount_cents=points),
                TenderIn(kind="card", amount_cents=due - points),
            ],
        ),
    )


async def _sync_all(tills: list[_Till]) -> int:
    """One sync cycle per till, all at once; how many failed (faults make them fail)."""
    results = await asyncio.gather(*(t.agent.sync_once() for t in tills), return_exceptions=True)
    return sum(isinstance(r, Exception) for r in results)


def _kill_hq(site: Site) -> None:
    assert site.hq is not None
    site.hq.proc.kill()
    site.hq.proc.wait()
    if site.hq._engine is not None:
        site.hq._engine.dispose()
    site.hq = None


async def run_network_chaos(
    tmp: Path,
    *,
    rounds: int,
    hq_kills: int,
    seed: int,
    deadline: float,
    fault_rate: float = 0.5,
    site: Site | None = None,
) -> NetworkFigures:
    """``site``: HQ's store (default: a SQLite file under ``tmp``)."""
    figures = NetworkFigures()
    rng = random.Random(seed)
    site = site or Site(tmp)
    site.start()
    site.seed_demo()
    proxy = ChaosProxy(site.port, seed=seed, rate=0.0)
    await proxy.start()
    tills: list[_Till] = []
    try:
        with stamina.set_testing(True, attempts=1):
            for i, name in enumerate(("a", "b", "c"), start=1):
                path, terminal_id = await _enroll(site, f"till-{name}", proxy.url, i)
                db = open_database(path)
                client = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
                agent = SyncAgent(TillSyncStore(db), client=client, tick_seconds=3600)
                tills.append(_Till(name, path, terminal_id, db, agent))
            for _ in range(5):  # pull the catalog and members, no faults yet
                if await _sync_all(tills) == 0:
                    break
            for till in tills:
                await _people(till)
            shared = set.intersection(*(set(t.customers) for t in tills))
            for till in tills:
                till.customers = sorted(shared, key=str)
            start_balance = {
                _hex(c): b
                for c, b in _hq(site, "SELECT customer_id, loyalty_balance FROM customers")
            }
            backup = tmp / "hq-backup.db"
            kill_rounds = set(rng.sample(range(rounds), k=min(hq_kills, rounds)))
            snapshot_round, restore_round = rounds // 3, (2 * rounds) // 3
            proxy.rate = fault_rate
            for r in range(rounds):
                if time.monotonic() > deadline:
                    figures.problems.append(f"time ran out after {r} rounds")
                    break
                figures.rounds += 1
                proxy.down = rng.random() < 0.08  # HQ unreachable for this round
                for till in tills:
                    await _sell(till, rng, rng.randint(1, 4))
                if r == snapshot_round:
                    site.snapshot(backup)
                if r == restore_round:
                    site.stop()
                    site.restore(backup)
                    site.start()
                    figures.hq_restores += 1
                sync = asyncio.ensure_future(_sync_all(tills))
                if r in kill_rounds:
                    await asyncio.sleep(rng.uniform(0.0, 0.3))  # land it mid-batch
                    _kill_hq(site)
                    figures.hq_kills += 1
                    figures.sync_failures += await sync
                    site.start()
                else:
                    figures.sync_failures += await sync
            proxy.rate, proxy.down = 0.0, False
            for _ in range(40):  # heal: drain every till (bounded)
                failed = await _sync_all(tills)
                pending = sum(
                    _till(t.path, "SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0]
                    for t in tills
                )
                if not failed and not pending:
                    break
            else:
                figures.problems.append("the tills did not drain after the network healed")
            await _sync_all(tills)  # every till pulls the balances the others moved
        _verify(site, tills, start_balance, figures)
    finally:
        for till in tills:
            await till.agent.aclose()
            await till.db.dispose()
        await proxy.close()
        site.stop()
    figures.tills = len(tills)
    figures.faults = dict(proxy.faults)
    figures.faults_injected = proxy.faults_injected
    figures.http_5xx = proxy.hq_5xx
    return figures


def _verify(
    site: Site, tills: list[_Till], start_balance: dict[Any, int], figures: NetworkFigures
) -> None:
    hq_balance = {
        _hex(c): b for c, b in _hq(site, "SELECT customer_id, loyalty_balance FROM customers")
    }
    ledger = {
        _hex(c): int(p)
        for c, p in _hq(
            site, "SELECT customer_id, sum(points) FROM loyalty_entries GROUP BY customer_id"
        )
    }
    till_deltas: dict[str, int] = {}
    for till in tills:
        committed = {_hex(r[0]) for r in _till(till.path, "SELECT event_id FROM outbox")}
        held = {
            _hex(r[0])
            for r in _hq(
                site, "SELECT event_id FROM events WHERE terminal_id = ?", till.terminal_id
            )
        }
        figures.events_committed += len(committed)
        figures.events_at_hq += len(held)
        figures.lost += len(committed - held)
        figures.duplicated += len(held - committed)  # an event HQ holds that no till made
        sales = _till(till.path, "SELECT count(*) FROM sales")[0][0]
        at_hq = _hq(
            site,
            "SELECT count(*), count(DISTINCT receipt_no) FROM sales WHERE terminal_id = ?",
            till.terminal_id,
        )[0]
        figures.sales_committed += sales
        figures.sales_at_hq += int(at_hq[0])
        figures.duplicated += int(at_hq[0]) - int(at_hq[1])
        till_total = _till(till.path, "SELECT coalesce(sum(total_cents), 0) FROM sales")[0][0]
        hq_total = _hq(
            site,
            "SELECT coalesce(sum(total_cents), 0) FROM sales WHERE terminal_id = ?",
            till.terminal_id,
        )[0][0]
        if int(till_total) != int(hq_total):
            figures.problems.append(
                f"till {till.name}: total {till_total} at till, {hq_total} at HQ"
            )
        figures.quarantined_unexpected += _hq(
            site, "SELECT count(*) FROM quarantine WHERE terminal_id = ?", till.terminal_id
        )[0][0]
        for customer, points in _till(
            till.path, "SELECT customer_id, sum(points) FROM loyalty_ledger GROUP BY 1"
        ):
            till_deltas[_hex(customer)] = till_deltas.get(_hex(customer), 0) + points
        shown = dict(_till(till.path, "SELECT id, hq_balance FROM customers"))
        for customer, balance in shown.items():
            if hq_balance.get(_hex(customer), balance) != balance:
                figures.till_views_stale += 1
    for customer, balance in hq_balance.items():
        start = start_balance.get(customer, 0)
        if balance != start + till_deltas.get(_hex(customer), 0):
            figures.balance_mismatches += 1
            figures.problems.append(f"HQ balance of {customer} is not the sum of the deltas")
        if ledger.get(customer, 0) != balance:  # demo balances are ledger entries too
            figures.balance_mismatches += 1
            figures.problems.append(f"HQ balance of {customer} is not its ledger's sum")
