"""Two tills run a day of refunds, redemptions, cancels and shifts; a real HQ agrees.

A real ``kedai-hq serve`` on loopback (SQLite), real till files enrolled through both
CLIs, the days made by the same services the cashier uses (``simulate_day``), synced by
the real agent.
"""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from sync.agent import SyncAgent
from sync.protocol import Payment, SaleLine, SaleRefunded
from terminal.db.engine import Database, open_database
from terminal.db.models import Cashier, Customer
from terminal.services.outbox import append_event
from terminal.services.simulate import DayRates, simulate_day
from terminal.services.sync_store import TillSyncStore
from terminal.services.uow import reading, writing
from tests.sync.hq_site import HQ_CLI, Site, run, till_sync

pytestmark = pytest.mark.slow


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = Site(tmp_path)
    s.start()
    s.seed_demo()
    try:
        yield s
    finally:
        s.stop()


async def sync_in_process(db: Database) -> None:
    agent = SyncAgent(TillSyncStore(db))
    try:
        await agent.sync_once()
    finally:
        await agent.aclose()


def rows(path: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as c:
        return c.execute(sql).fetchall()


async def people(db: Database) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    async with reading(db) as s:
        staff = dict((await s.execute(select(Cashier.role, Cashier.id))).all())
        customers = (await s.execute(select(Customer.id).order_by(Customer.id))).scalars().all()
    return staff["cashier"], staff["manager"], list(customers)


async def test_two_tills_day_of_operations_reconciles_at_hq(site: Site) -> None:
    paths = [site.enroll_till(name)[0] for name in ("a", "b")]
    for p in paths:
        assert till_sync(p).returncode == 0
    dbs = [open_database(p) for p in paths]
    rates = DayRates(refund=0.15, redeem=0.4, new_customer=0.05, cancel=0.05)
    try:
        tallies = []
        for i, db in enumerate(dbs):
            cashier, manager, customers = await people(db)
            tallies.append(
                await simulate_day(
                    db,
                    random.Random(i),
                    sales=60,
                    cashier_id=cashier,
                    manager_id=manager,
                    customer_ids=customers,
                    rates=rates,
                    shifts=2,
                )
            )
        assert sum(t.refunds for t in tallies) > 0 and sum(t.cancels for t in tallies) > 0
        assert sum(t.redeemed_points for t in tallies) > 0
        for db in dbs:
            await sync_in_process(db)
            await sync_in_process(db)  # pull the balances HQ now holds
        for p in paths:
            assert rows(p, "SELECT status, count(*) FROM outbox GROUP BY status") == [
                ("sent", rows(p, "SELECT count(*) FROM outbox")[0][0])
            ]

        # Refunds: HQ's count and total equal the tills'.
        till_refunds = [rows(p, "SELECT count(*), sum(total_cents) FROM refunds")[0] for p in paths]
        summary = json.loads(
            run(
                [*HQ_CLI, "report", "summary", "--json", "--database-url", site.database_url]
            ).stdout
        )
        assert summary["refunds_count"] == sum(n for n, _ in till_refunds)
        assert summary["refunds_total_cents"] == sum(t or 0 for _, t in till_refunds)
        assert summary["cancels_count"] == sum(t.cancels for t in tallies)
        assert summary["z_reports_count"] == 4

        # Every customer's balance is the sum of every delta HQ holds.
        hq = site.db_file
        off = rows(
            hq,
            "SELECT c.customer_id, c.loyalty_balance, coalesce(sum(e.points), 0)"
            " FROM customers c LEFT JOIN loyalty_entries e ON e.customer_id = c.customer_id"
            " GROUP BY c.customer_id HAVING c.loyalty_balance != coalesce(sum(e.points), 0)",
        )
        assert off == []
        assert rows(hq, "SELECT count(*) FROM loyalty_entries WHERE reason = 'refund'")[0][0] > 0

        # Every Z report equals HQ's own figures for that shift.
        reports = rows(
            hq,
            "SELECT shift_id, sales_count, refunds_count, refunds_cents, net_sales_cents,"
            " cancels_count FROM z_reports",
        )
        assert len(reports) == 4
        for shift, sales, refunds, refunds_cents, net, cancels in reports:
            facts = rows(
                hq,
                "SELECT sum(kind = 'sale'), sum(kind = 'refund'),"
                " coalesce(-sum(CASE WHEN kind = 'refund' THEN total_cents END), 0),"
                f" sum(total_cents) FROM sales WHERE shift_id = '{shift}'",
            )[0]
            assert facts == (sales, refunds, refunds_cents, net)
            assert rows(hq, f"SELECT count(*) FROM cancels WHERE shift_id = '{shift}'")[0][0] == (
                cancels
            )
        assert rows(hq, "SELECT count(*) FROM quarantine") == [(0,)]
    finally:
        for db in dbs:
            await db.dispose()


async def test_an_over_refund_made_by_two_offline_tills_is_quarantined(site: Site) -> None:
    (a_path, _), (b_path, _) = site.enroll_till("a"), site.enroll_till("b")
    for p in (a_path, b_path):
        assert till_sync(p).returncode == 0
    a, b = open_database(a_path), open_database(b_path)
    try:
        cashier, manager, _ = await people(a)
        await simulate_day(
            a, random.Random(5), sales=1, cashier_id=cashier, manager_id=manager,
            rates=DayRates(refund=1.0),
        )  # fmt: skip
        # Till A sold and refunded the sale in full (refund rate 1: the one sale).
        [(sale_id,)] = rows(a_path, "SELECT id FROM sales")
        lines = rows(
            a_path,
            "SELECT line_no, product_id, sku, name, qty, unit_price_cents, discount_cents,"
            " total_cents, tax_code FROM sale_lines",
        )
        refunded = rows(a_path, "SELECT sum(qty) FROM refund_lines")[0][0]
        if refunded != sum(ln[4] for ln in lines):  # a partial refund: take the rest too
            from terminal.services.cashiers import record_own_approval
            from terminal.services.refunds import refund_sale
            from terminal.services.schemas import RefundRequest

            ok = await record_own_approval(a, action="refund", manager_id=manager)
            [(number,)] = rows(a_path, "SELECT receipt_no FROM sales")
            await refund_sale(
                a,
                RefundRequest(receipt_no=number, cashier_id=cashier, approvals=[ok.as_approval()]),
            )
        await sync_in_process(a)
        # Till B, offline, took the same goods back as a manual return of A's sale.
        line = lines[0]
        total = line[7]
        refund = SaleRefunded(
            refund_id=uuid.uuid4(),
            original_sale_id=uuid.UUID(hex=sale_id),
            receipt_no="manual",
            cashier_id=cashier,
            approved_by=manager,
            lines=[
                SaleLine(
                    line_no=line[0], product_id=uuid.UUID(hex=line[1]), sku=line[2],
                    name=line[3], qty=line[4], unit_price_cents=line[5],
                    discount_cents=line[6], total_cents=total, tax_code=line[8],
                )
            ],
            payments=[
                Payment(
                    payment_id=uuid.uuid4(), tender="cash", amount_cents=total,
                    tendered_cents=total,
                )
            ],
            total_cents=total,
            tax_cents=0,
            reason="manual return",
        )  # fmt: skip
        async with writing(b) as s:
            await append_event(s, "sale.refunded", refund, datetime.now(UTC))
        await sync_in_process(b)
        [(status, reason)] = rows(
            b_path, "SELECT status, reason FROM outbox WHERE type = 'sale.refunded'"
        )
        assert status == "rejected" and "over-refund" in reason
        [(why,)] = rows(site.db_file, "SELECT reason FROM quarantine")
        assert f"sale {uuid.UUID(hex=sale_id)}" in why
        refunds_at_hq = rows(site.db_file, "SELECT count(*) FROM sales WHERE kind = 'refund'")
        assert refunds_at_hq == rows(a_path, "SELECT count(*) FROM refunds")
    finally:
        await a.dispose()
        await b.dispose()
