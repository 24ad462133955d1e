"""The report rollups kept at ingest give every report the figures the facts give, on HQ
over SQLite and PostgreSQL (real ``kedai-hq serve`` processes, two workers each).

Sales, refunds, a GST a cent off, a till with a wrong clock, a resent batch, a
quarantined sale and the same sale retried after a fix are pushed through the sync API
by three tills of a fresh outlet (two of them at once); then each report is computed
twice from HQ's store, by its rollup path and by its fact-table path (``facts=True``),
and the two must be equal to the cent. The rollup rows ingest wrote must also equal
what the migration's backfill computes from the same facts.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from hq import manage, rollups
from hq.checks import MAX_LOYALTY_BALANCE
from hq.db import open_database
from hq.reports.common import ReportQuery, Scope, today
from hq.reports.dashboard import dashboard
from hq.reports.gst_f5 import gst_f5
from hq.reports.products import top_products
from hq.reports.sales import GROUPS, sales_summary
from hq.retry import retry
from tests.events import envelope, push_body
from tests.hq.conftest import Hq

SG = ZoneInfo("Asia/Singapore")
CODES = ("SR", "ZR", "ES")


def gst_in(total_cents: int) -> int:
    tax = Decimal(total_cents) * 9 / 109
    return int(tax.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def a_sale(
    tid: str, seq: int, at: datetime, cashier: uuid.UUID, n: int, *, tax_off: int = 0,
    customer: uuid.UUID | None = None, points: int = 0,
) -> dict[str, Any]:  # fmt: skip
    lines = []
    for i in range(1 + n % 4):
        qty, price, discount = 1 + (n + i) % 3, 150 + 37 * ((n * 7 + i) % 11), (n + i) % 2 * 25
        sku = f"SKU-{(n * 3 + i) % 9}"
        lines.append({
            "line_no": i + 1, "product_id": None, "sku": sku, "name": f"Item {sku}",
            "qty": qty, "unit_price_cents": price, "discount_cents": discount,
            "total_cents": qty * price - discount, "tax_code": CODES[(n + i) % 5 % 3],
        })  # fmt: skip
    total = sum(ln["total_cents"] for ln in lines)
    sr = sum(ln["total_cents"] for ln in lines if ln["tax_code"] == "SR")
    loyalty = [{"entry_id": str(uuid.uuid4()), "customer_id": str(customer), "points": points,
                "reason": "earn"}] if customer else []  # fmt: skip
    payload = {
        "sale_id": str(uuid.uuid4()), "receipt_no": f"{tid}-{seq:06d}",
        "cashier_id": str(cashier), "customer_id": str(customer) if customer else None,
        "lines": lines, "loyalty": loyalty,
        "payments": [{"payment_id": str(uuid.uuid4()), "tender": "nets", "amount_cents": total,
                      "tendered_cents": total}],
        "subtotal_cents": sum(ln["qty"] * ln["unit_price_cents"] for ln in lines),
        "discount_cents": sum(ln["discount_cents"] for ln in lines), "total_cents": total,
        "tax_cents": gst_in(sr) + (tax_off if sr else 0), "gst_rate_bp": 900,
        "rounding_cents": 0, "change_cents": 0,
    }  # fmt: skip
    return envelope(tid, seq, "sale.completed", payload, occurred_at=at.isoformat())


def a_refund(tid: str, seq: int, at: datetime, sold: dict[str, Any]) -> dict[str, Any]:
    first = dict(sold["payload"]["lines"][0])
    first["qty"], first["discount_cents"] = 1, 0
    first["total_cents"] = first["unit_price_cents"]
    sr = first["total_cents"] if first["tax_code"] == "SR" else 0
    payload = {
        "refund_id": str(uuid.uuid4()), "original_sale_id": sold["payload"]["sale_id"],
        "receipt_no": sold["payload"]["receipt_no"], "cashier_id": str(uuid.uuid4()),
        "approved_by": None, "lines": [first],
        "payments": [{"payment_id": str(uuid.uuid4()), "tender": "nets",
                      "amount_cents": first["total_cents"],
                      "tendered_cents": first["total_cents"]}],
        "loyalty": [], "total_cents": first["total_cents"], "tax_cents": gst_in(sr),
        "reason": "changed mind",
    }  # fmt: skip
    return envelope(tid, seq, "sale.refunded", payload, occurred_at=at.isoformat())


def adjusted(tid: str, seq: int, customer: uuid.UUID, points: int) -> dict[str, Any]:
    delta = {"entry_id": str(uuid.uuid4()), "customer_id": str(customer), "points": points,
             "reason": "adjust"}  # fmt: skip
    return envelope(tid, seq, "loyalty.adjusted", {"delta": delta, "note": "test"})


def push(hq: Hq, token: str, tid: str, events: list[dict[str, Any]]) -> list[str]:
    with hq.client(token) as c:
        r = c.post("/v1/sync/push", json=push_body(tid, events))
    assert r.status_code == 200, r.text
    return [x["status"] for x in r.json()["results"]]


def sync_engine(hq: Hq) -> Engine:
    url = make_url(hq.database_url)
    driver = "postgresql+psycopg" if url.get_backend_name() == "postgresql" else "sqlite"
    return create_engine(url.set(drivername=driver))


def rollup_rows(engine: Engine, terminals: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    listed = ", ".join(f"'{t}'" for t in terminals)
    with engine.connect() as conn:
        for table in ("sales_hourly", "product_hourly"):
            rows = conn.execute(text(f"SELECT * FROM {table} WHERE terminal_id IN ({listed})"))
            out[table] = sorted(tuple(str(v) for v in row) for row in rows)
    return out


@pytest.fixture
def store(hq: Hq) -> dict[str, Any]:
    """Three tills of a fresh outlet; what they sold over the last five weeks."""
    manage.seed_demo_sync(hq.database_url)  # settings with the GST rate schedule
    outlet = f"R{uuid.uuid4().hex[:6].upper()}"
    tills = [hq.enroll(outlet=outlet) for _ in range(3)]
    now = datetime.now(UTC)
    cashiers = [uuid.uuid4() for _ in range(3)]
    batches: list[list[dict[str, Any]]] = []
    for k, (tid, _) in enumerate(tills):
        events, sold = [], []
        for n in range(60):
            back = timedelta(days=(n * 5 + k) % 36, hours=(n * 7) % 11, minutes=n % 50)
            at = min(now - back, now - timedelta(minutes=1 + n))
            ev = a_sale(tid, len(events) + 1, at, cashiers[(n + k) % 3], n + k,
                        tax_off=1 if n % 23 == 5 else 0)  # fmt: skip
            events.append(ev)
            sold.append((ev, at))
        for ev, at in sold[::7]:
            # half an hour after the sale, but never later than now: a refund dated in the
            # future would fall on tomorrow's date when the test runs just before midnight
            # in Singapore, outside every period the reports are asked for
            back = min(at + timedelta(minutes=30), now)
            events.append(a_refund(tid, len(events) + 1, back, ev))
        batches.append(events)
    # the third till's clock is two years behind on one sale: dated by HQ's time
    skewed = a_sale(tills[2][0], len(batches[2]) + 1, now - timedelta(days=730), cashiers[0], 9)
    batches[2].append(skewed)
    with ThreadPoolExecutor(2) as pool:  # two tills push at once
        answers = list(pool.map(lambda i: push(hq, tills[i][1], tills[i][0], batches[i]), range(2)))
    answers.append(push(hq, tills[2][1], tills[2][0], batches[2]))
    assert all(set(a) == {"accepted"} for a in answers), answers
    return {"outlet": outlet, "tills": tills, "batches": batches, "cashiers": cashiers}


def reports(hq: Hq, scope: Scope, *, facts: bool) -> dict[str, Any]:
    day = today(SG)
    periods = [
        ReportQuery(date_from=day - timedelta(days=40), date_to=day),
        ReportQuery(date_from=day - timedelta(days=3), date_to=day - timedelta(days=3)),
        ReportQuery(date_from=day - timedelta(days=10), date_to=day, terminal=None),
    ]

    async def run() -> dict[str, Any]:
        db = open_database(hq.database_url)
        out: dict[str, Any] = {}
        try:
            async with db.readers() as s, s.begin():
                for i, q in enumerate(periods):
                    for g in GROUPS:
                        report = await sales_summary(
                            session=s, query=q, scope=scope, group_by=g, facts=facts
                        )
                        out[f"sales-{i}-{g}"] = report.model_dump()
                    top = await top_products(session=s, query=q, scope=scope, limit=50, facts=facts)
                    out[f"top-{i}"] = top.model_dump()
                    out[f"f5-{i}"] = (
                        await gst_f5(session=s, query=q, scope=scope, facts=facts)
                    ).model_dump()
                board = await dashboard(
                    session=s, scope=scope, silent_after_minutes=60, facts=facts
                )
                out["dashboard"] = board.model_dump(exclude={"tills"})
        finally:
            await db.dispose()
        return out

    return asyncio.run(run())


def test_rollup_reports_equal_the_fact_reports(hq: Hq, store: dict[str, Any]) -> None:
    tids = [tid for tid, _ in store["tills"]]
    engine = sync_engine(hq)
    try:
        written = rollup_rows(engine, tids)
        assert written["sales_hourly"] and written["product_hourly"]

        # a resent batch (a lost answer) changes no rollup row
        assert set(push(hq, store["tills"][0][1], tids[0], store["batches"][0])) == {"duplicate"}
        assert rollup_rows(engine, tids) == written

        # the migration's backfill computes the rows ingest kept
        with engine.begin() as conn:
            rollups.rebuild(conn)
        assert rollup_rows(engine, tids) == written
    finally:
        engine.dispose()

    scope = Scope(tz=SG, outlets=[store["outlet"]])
    from_rollups = reports(hq, scope, facts=False)
    from_facts = reports(hq, scope, facts=True)
    assert from_rollups.keys() == from_facts.keys()
    for key in from_facts:
        assert from_rollups[key] == from_facts[key], key

    f5 = from_rollups["f5-0"]
    assert f5["mismatches"], "the sales a cent off are listed"
    assert f5["recomputed_output_tax_cents"] != f5["box6_output_tax_cents"]
    sales = 3 * 60 + 1
    assert from_rollups["sales-0-outlet"]["total"]["transactions"] == sales
    assert from_rollups["sales-0-outlet"]["total"]["refunds"] == 3 * 9
    assert from_rollups["dashboard"]["today"]["total"]["transactions"] >= 1


def test_quarantined_sale_counts_nothing_until_retried_then_once(hq: Hq) -> None:
    outlet = f"Q{uuid.uuid4().hex[:6].upper()}"
    tid, token = hq.enroll(outlet=outlet)
    member, cashier = uuid.uuid4(), uuid.uuid4()
    at = datetime.now(UTC) - timedelta(minutes=5)
    near_top = adjusted(tid, 1, member, MAX_LOYALTY_BALANCE - 100)
    over = a_sale(tid, 2, at, cashier, 4, customer=member, points=500)
    assert push(hq, token, tid, [near_top, over]) == ["accepted", "rejected"]
    scope = Scope(tz=SG, outlets=[outlet])
    day = today(SG)
    query = ReportQuery(date_from=day - timedelta(days=1), date_to=day)

    async def figures() -> tuple[int, int, int]:
        db = open_database(hq.database_url)
        try:
            async with db.readers() as s, s.begin():
                report = await sales_summary(session=s, query=query, scope=scope)
                facts = await sales_summary(session=s, query=query, scope=scope, facts=True)
                assert report == facts
                f5 = await gst_f5(session=s, query=query, scope=scope)
                return report.total.transactions, report.total.gross_sales_cents, (
                    f5.box1_standard_rated_cents + f5.box2_zero_rated_cents
                    + f5.box3_exempt_cents + f5.box6_output_tax_cents
                )  # fmt: skip
        finally:
            await db.dispose()

    async def retried() -> str:
        db = open_database(hq.database_url)
        try:
            async with db.sessions() as s, s.begin():
                outcome = await retry(
                    session=s, event_id=uuid.UUID(over["event_id"]), scope=Scope(tz=SG)
                )
                return outcome.status
        finally:
            await db.dispose()

    assert asyncio.run(figures()) == (0, 0, 0)
    assert push(hq, token, tid, [adjusted(tid, 3, member, -1000)]) == ["accepted"]
    assert asyncio.run(retried()) == "accepted"
    total = over["payload"]["total_cents"]
    n, gross, supplies = asyncio.run(figures())
    assert (n, gross) == (1, total)
    assert supplies == total  # boxes 1 + 2 + 3 and 6 add up to what was paid
    assert push(hq, token, tid, [over]) == ["duplicate"]
    assert asyncio.run(figures())[:2] == (1, total)


def test_migration_0012_fills_the_rollups_ingest_would_have_kept(tmp_path: Path) -> None:
    """An HQ upgraded with sales already held reports what it reported before: migration
    0012 taken down and up again on a store ingest filled gives the same rollup rows."""
    from alembic import command

    from hq import enroll, migrate
    from hq.ingest import ingest_batch
    from hq.wire import read_push
    from sync.alembic_runner import alembic_config

    url = f"sqlite:///{tmp_path / 'hq.db'}"
    now = datetime.now(UTC)

    async def fill() -> None:
        db = open_database(url)
        try:
            await migrate.upgrade(db)
            async with db.sessions() as s, s.begin():
                tid = (
                    await enroll.enroll_terminal(session=s, outlet_code="MIG", terminal_code="T1")
                ).terminal_id
            cashier = uuid.uuid4()
            events = [
                a_sale(tid, n + 1, now - timedelta(hours=5 * n), cashier, n) for n in range(40)
            ]
            events += [
                a_refund(tid, 41 + i, now - timedelta(hours=5 * n - 1), events[n])
                for i, n in enumerate(range(0, 40, 6))
            ]
            push = read_push(json.dumps(push_body(tid, events)).encode())
            async with db.sessions() as s, s.begin():
                answer = await ingest_batch(session=s, terminal_id=tid, events=push.events)
            assert {r.status for r in answer.results} == {"accepted"}
        finally:
            await db.dispose()

    asyncio.run(fill())
    engine = create_engine(url)
    try:
        kept = rollup_rows(engine, ["MIG-T1"])
        assert len(kept["sales_hourly"]) > 20
        with engine.begin() as conn:
            command.downgrade(alembic_config(migrate.MIGRATIONS, conn), "0009")
        with engine.begin() as conn:
            assert "sales_hourly" not in conn.dialect.get_table_names(conn)
            command.upgrade(alembic_config(migrate.MIGRATIONS, conn), "head")
        assert rollup_rows(engine, ["MIG-T1"]) == kept
    finally:
        engine.dispose()
