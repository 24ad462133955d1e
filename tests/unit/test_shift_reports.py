"""Cancels, voids, no-sale opens and petty cash; X/Z reports equal sums over the events."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import sqlite3
from collections import defaultdict
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import demo_data
from terminal.db.engine import Database, open_database
from terminal.services.cashiers import approve
from terminal.services.catalog import list_products
from terminal.services.checkout import finalize_sale
from terminal.services.errors import ApprovalRequired
from terminal.services.refunds import refund_sale
from terminal.services.schemas import RefundRequest
from terminal.services.setup import init_till, seed_demo
from terminal.services.shifts import close_shift, open_shift, x_report, z_report
from terminal.services.simulate import random_request
from terminal.services.till_ops import (
    TillOpError,
    cancel_sale,
    change_line,
    move_cash,
    open_drawer,
)

CASHIER = demo_data.demo_cashiers()[0].cashier_id
CUSTOMERS = [c.customer_id for c in demo_data.demo_customers()]
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def outbox_types(db: Database) -> list[str]:
    with closing(sqlite3.connect(db.path)) as c:
        return [r[0] for r in c.execute("SELECT type FROM outbox ORDER BY seq")]


async def test_cancel_void_and_no_sale_need_approval(till_db: Database) -> None:
    shift = await open_shift(till_db, CASHIER, float_cents=5000, now=NOW)
    before = outbox_types(till_db)
    with pytest.raises(ApprovalRequired) as caught:
        await cancel_sale(till_db, cashier_id=CASHIER, line_count=3, total_cents=990, now=NOW)
    assert caught.value.needs == [("cancel", None)]
    with pytest.raises(ApprovalRequired) as caught:
        await change_line(
            till_db, cashier_id=CASHIER, sku="KOPI-001", unit_price_cents=330,
            old_qty=5, new_qty=1, line_no=1, now=NOW,
        )  # fmt: skip
    assert caught.value.needs == [("qty_decrease", 1)]
    with pytest.raises(ApprovalRequired):
        await open_drawer(till_db, cashier_id=CASHIER, shift_id=shift.id, now=NOW)
    assert outbox_types(till_db) == before  # nothing written

    # A quantity going up needs nothing and records nothing.
    assert not await change_line(
        till_db, cashier_id=CASHIER, sku="KOPI-001", unit_price_cents=330,
        old_qty=1, new_qty=2, now=NOW,
    )  # fmt: skip
    cancel = await approve(till_db, "9999", action="cancel", cashier_id=CASHIER, now=NOW)
    await cancel_sale(
        till_db, cashier_id=CASHIER, line_count=3, total_cents=990, shift_id=shift.id,
        approvals=[cancel.as_approval()], now=NOW,
    )  # fmt: skip
    void = await approve(till_db, "9999", action="qty_decrease", cashier_id=CASHIER, now=NOW)
    assert await change_line(
        till_db, cashier_id=CASHIER, sku="KOPI-001", unit_price_cents=330, old_qty=5,
        new_qty=1, line_no=1, shift_id=shift.id, approvals=[void.as_approval()], now=NOW,
    )  # fmt: skip
    drawer = await approve(till_db, "9999", action="no_sale", cashier_id=CASHIER, now=NOW)
    await open_drawer(
        till_db, cashier_id=CASHIER, shift_id=shift.id, approvals=[drawer.as_approval()], now=NOW
    )
    await move_cash(
        till_db, cashier_id=CASHIER, shift_id=shift.id, kind="out", amount_cents=1250,
        reason="ice", now=NOW,
    )  # fmt: skip
    with pytest.raises(TillOpError, match=r"should hold S\$37.50: S\$37.55 cannot be paid out"):
        await move_cash(
            till_db, cashier_id=CASHIER, shift_id=shift.id, kind="out", amount_cents=3755,
            reason="supplier COD", now=NOW,
        )  # fmt: skip
    report = await x_report(till_db, shift.id)
    assert report.kind == "x"
    assert (report.cancels_count, report.cancels_cents) == (1, 990)
    assert (report.voids_count, report.voids_cents) == (1, 4 * 330)
    assert report.no_sale_count == 1
    assert report.expected_cash_cents == 5000 - 1250
    assert outbox_types(till_db)[-7:] == [
        "approval.granted", "sale.cancelled", "approval.granted", "line.voided",
        "approval.granted", "cash.movement", "cash.movement",
    ]  # fmt: skip


# ------------------------------------------------------------- reports = event sums

_TEMPLATE: dict[str, Path] = {}


async def _make_template(path: Path) -> None:
    db = open_database(path)
    try:
        await init_till(db)
        await seed_demo(db)
    finally:
        await db.dispose()
    with closing(sqlite3.connect(path)) as c, c:
        c.execute("PRAGMA journal_mode=DELETE")


def event_sums(path: Path, shift_id: str) -> dict[str, object]:
    """The shift's figures computed from the outbox payloads alone."""
    with closing(sqlite3.connect(path)) as c:
        events = [(t, json.loads(p)) for t, p in c.execute("SELECT type, payload FROM outbox")]
    out: dict[str, int] = defaultdict(int)
    tenders: dict[tuple[str, str], int] = defaultdict(int)
    by_code: dict[str, int] = defaultdict(int)
    for kind, p in events:
        if p.get("shift_id") != shift_id:
            continue
        if kind == "sale.completed":
            out["sales_count"] += 1
            out["sales_total"] += p["total_cents"]
            out["gross"] += p["subtotal_cents"]
            out["discounts"] += p["discount_cents"]
            out["rounding"] += p["rounding_cents"]
            out["tax"] += p["tax_cents"]
            for pay in p["payments"]:
                tenders[(pay["tender"], "sales")] += pay["amount_cents"]
            for ln in p["lines"]:
                by_code[ln["tax_code"]] += ln["total_cents"]
        elif kind == "sale.refunded":
            out["refunds_count"] += 1
            out["refunds"] += p["total_cents"]
            out["rounding"] -= p["rounding_cents"]
            out["tax"] -= p["tax_cents"]
            for pay in p["payments"]:
                tenders[(pay["tender"], "refunds")] += pay["amount_cents"]
            for ln in p["lines"]:
                by_code[ln["tax_code"]] -= ln["total_cents"]
        elif kind == "cash.movement":
            out[f"cash_{p['kind']}"] += p["amount_cents"]
        elif kind == "sale.cancelled":
            out["cancels"] += 1
    return {"totals": dict(out), "tenders": dict(tenders), "by_code": dict(by_code)}


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32), sales=st.integers(1, 8), refunds=st.integers(0, 3))
def test_x_and_z_reports_equal_sums_over_the_shifts_events(
    tmp_path_factory: pytest.TempPathFactory, seed: int, sales: int, refunds: int
) -> None:
    path = tmp_path_factory.mktemp("shift") / "till.db"
    if "db" not in _TEMPLATE:
        _TEMPLATE["db"] = tmp_path_factory.mktemp("template") / "till.db"
        asyncio.run(_make_template(_TEMPLATE["db"]))
    shutil.copy(_TEMPLATE["db"], path)
    rng = random.Random(seed)

    async def go() -> None:
        db = open_database(path)
        try:
            products = await list_products(db)
            shift = await open_shift(db, CASHIER, float_cents=rng.randint(0, 20000), now=NOW)
            receipts = []
            for i in range(sales):
                request = random_request(rng, products, cashier_id=CASHIER)
                request = request.model_copy(update={"shift_id": shift.id})
                at = NOW + timedelta(minutes=i)
                receipts.append((await finalize_sale(db, request, now=at)).receipt_no)
            ok = await approve(db, "9999", action="refund", cashier_id=CASHIER, now=NOW)
            for number in rng.sample(receipts, k=min(refunds, len(receipts))):
                await refund_sale(
                    db,
                    RefundRequest(
                        receipt_no=number,
                        cashier_id=CASHIER,
                        shift_id=shift.id,
                        approvals=[ok.as_approval()],
                    ),
                    now=NOW,
                )
            await move_cash(
                db, cashier_id=CASHIER, shift_id=shift.id, kind="in",
                amount_cents=rng.randint(1, 5000), reason="change", now=NOW,
            )  # fmt: skip
            x = await x_report(db, shift.id)
            sums = event_sums(path, str(shift.id))
            t = sums["totals"]
            assert x.sales_count == t.get("sales_count", 0)
            assert x.sales_total_cents == t.get("sales_total", 0)
            assert x.gross_sales_cents == t.get("gross", 0)
            assert x.discounts_cents == t.get("discounts", 0)
            assert x.refunds_count == t.get("refunds_count", 0)
            assert x.refunds_cents == t.get("refunds", 0)
            assert x.net_sales_cents == t.get("sales_total", 0) - t.get("refunds", 0)
            assert x.rounding_cents == t.get("rounding", 0)
            assert sum(tl.tax_cents for tl in x.tax) == t.get("tax", 0)
            assert {tl.tax_code: tl.net_sales_cents for tl in x.tax} == sums["by_code"]
            tenders = {}
            for tl in x.tenders:
                if tl.sales_cents:
                    tenders[(tl.tender, "sales")] = tl.sales_cents
                if tl.refunds_cents:
                    tenders[(tl.tender, "refunds")] = tl.refunds_cents
            assert tenders == {k: v for k, v in sums["tenders"].items() if v}
            cash = sums["tenders"]
            assert x.expected_cash_cents == (
                x.opening_float_cents
                + cash.get(("cash", "sales"), 0)
                - cash.get(("cash", "refunds"), 0)
                + t.get("cash_in", 0)
            )
            closed = await close_shift(
                db, shift.id, counted_cash_cents=x.expected_cash_cents + 5, now=NOW
            )
            z = await z_report(db, shift.id)
            assert closed.report == z
            assert z.variance_cents == 5
            same = {"kind", "closed_at", "counted_cash_cents", "variance_cents"}
            assert z.model_dump(exclude=same) == x.model_dump(exclude=same)
        finally:
            await db.dispose()

    asyncio.run(go())
