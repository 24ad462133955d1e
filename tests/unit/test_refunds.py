"""Refunds by receipt number against a real till database: exact, bounded, approved."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import demo_data
from terminal.db.engine import Database, open_database
from terminal.domain.cart import CartLine, price_cart
from terminal.domain.tender import cash_due
from terminal.services.cashiers import approve
from terminal.services.checkout import finalize_sale
from terminal.services.errors import ApprovalRequired, NotFoundError, RefundError
from terminal.services.refunds import find_sale, refund_sale
from terminal.services.schemas import (
    ApprovalIn,
    CartItemIn,
    CheckoutRequest,
    RefundLineIn,
    RefundRequest,
    TenderIn,
)
from terminal.services.setup import init_till, seed_demo

PRODUCTS = {p.sku: p for p in demo_data.demo_products()}
ALL = list(PRODUCTS.values())
KOPI = PRODUCTS["KOPI-001"]  # S$3.30 SR
STAMP = PRODUCTS["STAMP-10"]  # S$5.00 ES
CASHIER = demo_data.demo_cashiers()[0].cashier_id
CUSTOMER = demo_data.demo_customers()[0].customer_id
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
TABLES = ("refunds", "refund_lines", "refund_payments", "loyalty_ledger", "outbox", "stock")


def snapshot(db: Database) -> dict[str, list[tuple]]:
    with closing(sqlite3.connect(db.path)) as c:
        return {t: sorted(c.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}


async def refund_ok(db: Database) -> list[ApprovalIn]:
    granted = await approve(db, "9999", action="refund", cashier_id=CASHIER, now=NOW)
    return [granted.as_approval()]


async def a_sale(db: Database) -> str:
    receipt = await finalize_sale(
        db,
        CheckoutRequest(
            cashier_id=CASHIER,
            customer_id=CUSTOMER,
            items=[
                CartItemIn(product_id=KOPI.product_id, qty=3, discount_cents=31),
                CartItemIn(product_id=STAMP.product_id, qty=1),
            ],
            tenders=[
                TenderIn(kind="card", amount_cents=1000),
                TenderIn(kind="cash", amount_cents=1000),
            ],
        ),
        now=NOW,
    )
    return receipt.receipt_no


def ledger_for(db: Database, customer: str) -> int:
    with closing(sqlite3.connect(db.path)) as c:
        return c.execute(
            "SELECT coalesce(sum(points), 0) FROM loyalty_ledger WHERE customer_id = ?",
            (customer,),
        ).fetchone()[0]


async def test_a_refund_needs_approval_and_writes_nothing_without_it(till_db: Database) -> None:
    number = await a_sale(till_db)
    before = snapshot(till_db)
    with pytest.raises(ApprovalRequired) as caught:
        await refund_sale(till_db, RefundRequest(receipt_no=number, cashier_id=CASHIER), now=NOW)
    assert caught.value.needs == [("refund", None)]
    assert snapshot(till_db) == before


async def test_partial_refunds_add_up_to_the_sale_and_never_beyond(till_db: Database) -> None:
    number = await a_sale(till_db)
    ok = await refund_ok(till_db)
    first = await refund_sale(
        till_db,
        RefundRequest(
            receipt_no=number,
            cashier_id=CASHIER,
            lines=[RefundLineIn(line_no=1, qty=1)],
            approvals=ok,
        ),
        now=NOW,
    )
    assert first.credit_note_no == "DEMO-T01-CN000001"
    assert first.original_receipt_no == number
    assert first.total_cents == (3 * 330 - 31) // 3  # 319 of the line's 959
    # The same line cannot go beyond what was sold: 2 are left.
    before = snapshot(till_db)
    with pytest.raises(RefundError, match="at most 2"):
        await refund_sale(
            till_db,
            RefundRequest(
                receipt_no=number,
                cashier_id=CASHIER,
                lines=[RefundLineIn(line_no=1, qty=3)],
                approvals=ok,
            ),
            now=NOW,
        )
    assert snapshot(till_db) == before
    rest = await refund_sale(
        till_db, RefundRequest(receipt_no=number, cashier_id=CASHIER, approvals=ok), now=NOW
    )
    sale = await find_sale(till_db, number)
    assert first.total_cents + rest.total_cents == sale.total_cents
    assert first.tax_cents + rest.tax_cents == sale.tax_cents
    assert all(ln.refunded_qty == ln.qty for ln in sale.lines)
    assert sale.refunds == ["DEMO-T01-CN000001", "DEMO-T01-CN000002"]
    # A refunded line (and a refunded sale) cannot be refunded again.
    with pytest.raises(RefundError):
        await refund_sale(
            till_db, RefundRequest(receipt_no=number, cashier_id=CASHIER, approvals=ok), now=NOW
        )


async def test_refund_to_cash_needs_its_own_approval(till_db: Database) -> None:
    number = await a_sale(till_db)
    ok = await refund_ok(till_db)
    with pytest.raises(ApprovalRequired) as caught:
        await refund_sale(
            till_db,
            RefundRequest(receipt_no=number, cashier_id=CASHIER, to_cash=True, approvals=ok),
            now=NOW,
        )
    assert caught.value.needs == [("refund_to_cash", None)]
    cash = await approve(till_db, "9999", action="refund_to_cash", cashier_id=CASHIER, now=NOW)
    note = await refund_sale(
        till_db,
        RefundRequest(
            receipt_no=number,
            cashier_id=CASHIER,
            to_cash=True,
            approvals=[*ok, cash.as_approval()],
        ),
        now=NOW,
    )
    [paid] = note.payments
    assert paid.tender == "cash" and paid.amount_cents % 5 == 0
    assert paid.amount_cents == note.total_cents + note.rounding_cents


async def test_an_unknown_receipt_is_not_found(till_db: Database) -> None:
    with pytest.raises(NotFoundError):
        await find_sale(till_db, "DEMO-T01-999999")


# --------------------------------------------------------- refunds mirror sales


@st.composite
def sales(draw: st.DrawFn) -> tuple[CheckoutRequest, list[list[int]]]:
    picked = draw(st.lists(st.sampled_from(ALL), min_size=1, max_size=4, unique_by=lambda p: p.sku))
    items = []
    for p in picked:
        qty = draw(st.integers(1, 4))
        disc = draw(st.integers(0, qty * p.price_cents // 5))
        items.append(CartItemIn(product_id=p.product_id, qty=qty, discount_cents=disc))
    totals = price_cart(
        [
            CartLine(p.product_id, p.sku, p.name, i.qty, p.price_cents, p.tax_code, True,
                     i.discount_cents)
            for p, i in zip(picked, items, strict=True)
        ],
        gst_rate_bp=900,
    )  # fmt: skip
    due = totals.total_cents
    customer = draw(st.booleans())
    tenders: list[TenderIn] = []
    if customer and due > 1:
        points = draw(st.integers(0, min(due - 1, 300)))
        if points:
            tenders.append(TenderIn(kind="points", amount_cents=points))
            due -= points
    if due > 1 and draw(st.booleans()):
        card = draw(st.integers(1, due - 1))
        tenders.append(TenderIn(kind="card", amount_cents=card))
        due -= card
    if due:
        tenders.append(TenderIn(kind="cash", amount_cents=cash_due(due) or 5))
    # How the refund is split: up to three steps, each a share of each line.
    steps = draw(st.integers(1, 3))
    plans = []
    for _ in range(steps - 1):
        plans.append([draw(st.integers(0, i.qty)) for i in items])
    request = CheckoutRequest(
        cashier_id=CASHIER,
        customer_id=CUSTOMER if customer else None,
        items=items,
        tenders=tenders,
    )
    return request, plans


def _sums(db_path: Path, sale_id: str) -> dict[str, object]:
    with closing(sqlite3.connect(db_path)) as c:
        pay = dict(
            c.execute(
                "SELECT tender, sum(amount_cents) FROM payments WHERE sale_id = ? GROUP BY 1",
                (sale_id,),
            ).fetchall()
        )
        back = dict(
            c.execute(
                "SELECT p.tender, sum(p.amount_cents) FROM refund_payments p JOIN refunds r"
                " ON r.id = p.refund_id WHERE r.original_sale_id = ? GROUP BY 1",
                (sale_id,),
            ).fetchall()
        )
        sale = c.execute(
            "SELECT tax_cents, rounding_cents, total_cents FROM sales WHERE id = ?", (sale_id,)
        ).fetchone()
        refunded = c.execute(
            "SELECT coalesce(sum(tax_cents), 0), coalesce(sum(rounding_cents), 0),"
            " coalesce(sum(total_cents), 0) FROM refunds WHERE original_sale_id = ?",
            (sale_id,),
        ).fetchone()
        points = c.execute(
            "SELECT coalesce(sum(points), 0) FROM loyalty_ledger WHERE sale_id = ?", (sale_id,)
        ).fetchone()[0]
        stock = c.execute("SELECT sum(on_hand) FROM stock").fetchone()[0]
    return {"pay": pay, "back": back, "sale": sale, "refunded": refunded, "points": points,
            "stock": stock}  # fmt: skip


_TEMPLATE: dict[str, Path] = {}


async def _make_template(path: Path) -> None:
    """A seeded till with points to spend and no discount limits (the sales are random)."""
    db = open_database(path)
    try:
        await init_till(db)
        await seed_demo(db)
    finally:
        await db.dispose()
    with closing(sqlite3.connect(path)) as c, c:
        c.execute("PRAGMA journal_mode=DELETE")
        c.execute("UPDATE customers SET hq_balance = 100000")
        c.execute(
            "UPDATE store_settings SET approval_limits ="
            ' \'{"line_discount_bp": 10000, "line_discount_cents": 1000000,'
            ' "sale_discount_bp": 10000, "sale_discount_cents": 1000000}\''
        )


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=sales())
def test_a_full_refund_nets_every_tender_gst_rounding_stock_and_points(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[CheckoutRequest, list[list[int]]]
) -> None:
    request, plans = case
    path = tmp_path_factory.mktemp("mirror") / "till.db"
    if "db" not in _TEMPLATE:
        _TEMPLATE["db"] = tmp_path_factory.mktemp("template") / "till.db"
        asyncio.run(_make_template(_TEMPLATE["db"]))
    shutil.copy(_TEMPLATE["db"], path)

    async def go() -> None:
        db = open_database(path)
        try:
            stock_before = _sums(path, "")["stock"]
            receipt = await finalize_sale(db, request, now=NOW)
            ok = await refund_ok(db)
            left = [i.qty for i in request.items]
            for plan in plans:
                lines = [
                    RefundLineIn(line_no=n, qty=min(q, left[n - 1]))
                    for n, q in enumerate(plan, start=1)
                    if min(q, left[n - 1])
                ]
                if not lines:
                    continue
                await refund_sale(
                    db,
                    RefundRequest(
                        receipt_no=receipt.receipt_no,
                        cashier_id=CASHIER,
                        lines=lines,
                        approvals=ok,
                    ),
                    now=NOW,
                )
                for ln in lines:
                    left[ln.line_no - 1] -= ln.qty
            if any(left):
                await refund_sale(
                    db,
                    RefundRequest(receipt_no=receipt.receipt_no, cashier_id=CASHIER, approvals=ok),
                    now=NOW,
                )
            sums = _sums(path, receipt.sale_id.hex)
            assert sums["back"] == sums["pay"]
            assert sums["refunded"] == sums["sale"]
            assert sums["points"] == 0
            assert sums["stock"] == stock_before
        finally:
            await db.dispose()

    asyncio.run(go())


# ------------------------------------------------------------- points and receipts


async def test_redeeming_over_the_balance_is_refused_and_writes_nothing(
    till_db: Database,
) -> None:
    from terminal.services.customers import get_customer
    from terminal.services.errors import PaymentError

    balance = (await get_customer(till_db, CUSTOMER)).balance
    before = snapshot(till_db)
    with pytest.raises(PaymentError, match="cannot redeem"):
        await finalize_sale(
            till_db,
            CheckoutRequest(
                cashier_id=CASHIER,
                customer_id=CUSTOMER,
                items=[CartItemIn(product_id=STAMP.product_id, qty=3)],
                tenders=[
                    TenderIn(kind="points", amount_cents=balance + 1),
                    TenderIn(kind="card", amount_cents=1500 - balance - 1),
                ],
            ),
            now=NOW,
        )
    assert snapshot(till_db) == before


async def test_a_refund_gives_redeemed_points_back(till_db: Database) -> None:
    from terminal.services.customers import get_customer

    with closing(sqlite3.connect(till_db.path)) as c, c:
        c.execute("UPDATE customers SET hq_balance = 500")
    receipt = await finalize_sale(
        till_db,
        CheckoutRequest(
            cashier_id=CASHIER,
            customer_id=CUSTOMER,
            items=[CartItemIn(product_id=STAMP.product_id, qty=1)],
            tenders=[
                TenderIn(kind="points", amount_cents=200),
                TenderIn(kind="card", amount_cents=300),
            ],
        ),
        now=NOW,
    )
    assert receipt.points_redeemed == 200 and receipt.points_earned == 3
    assert receipt.points_balance == 500 - 200 + 3
    note = await refund_sale(
        till_db,
        RefundRequest(
            receipt_no=receipt.receipt_no, cashier_id=CASHIER, approvals=await refund_ok(till_db)
        ),
        now=NOW,
    )
    assert [(p.tender, p.amount_cents) for p in note.payments] == [("points", 200), ("card", 300)]
    assert (note.points_given_back, note.points_taken_back) == (200, 3)
    assert note.points_balance == 500
    assert (await get_customer(till_db, CUSTOMER)).balance == 500


async def test_past_receipts_are_found_and_rebuilt_as_sold(till_db: Database) -> None:
    from datetime import date

    from terminal.domain.money import format_cents
    from terminal.services.receipts import find_receipts, receipt_copy
    from terminal.ui.screens.receipts import receipt_line

    number = await a_sale(till_db)
    [found] = await find_receipts(till_db, day=date(2026, 3, 1), customer_id=CUSTOMER)
    assert found.receipt_no == number and found.refunded_cents == 0
    assert str(receipt_line(found)).rstrip().endswith(format_cents(found.total_cents))
    assert await find_receipts(till_db, day=date(2026, 3, 2)) == []
    # part of it comes back, then the rest: the list tells the two apart
    for lines in ([RefundLineIn(line_no=2, qty=1)], []):
        await refund_sale(
            till_db,
            RefundRequest(
                receipt_no=number, cashier_id=CASHIER, lines=lines,
                approvals=await refund_ok(till_db),
            ),
            now=NOW,
        )  # fmt: skip
        [found] = await find_receipts(till_db, receipt_no=number)
        mark = "part refunded" if lines else "refunded"
        assert str(receipt_line(found)).rstrip().endswith(f" {mark}")
        assert 0 < found.refunded_cents <= found.total_cents
    assert found.refunded_cents == found.total_cents
    copy = await receipt_copy(till_db, number.lower())
    sale = await find_sale(till_db, number)
    assert copy.total_cents == sale.total_cents and len(copy.lines) == 2
    assert [p.tender for p in copy.payments] == ["card", "cash"]


def test_a_line_refunded_one_unit_at_a_time_never_gets_a_negative_discount() -> None:
    """3 x 100 cents with 1 cent off (299) refunded one unit at a time: each part is
    shared by cumulative quantity (99, 100, 100), never 99, 99, 101 (a -1 discount)."""
    from terminal.domain.loyalty import LoyaltyRules
    from terminal.domain.refund import SoldLine, SoldSale, plan_refund

    line = SoldLine(line_no=1, qty=3, unit_price_cents=100, total_cents=299, tax_code="SR")
    parts = []
    for _ in range(3):
        sale = SoldSale(
            lines=(line,), total_cents=299, tax_cents=25, gst_rate_bp=900, rounding_cents=0,
            paid={"card": 299}, refunded_paid={"card": line.refunded_cents},
        )  # fmt: skip
        (part,) = plan_refund(sale, {1: 1}, rules=LoyaltyRules()).lines
        parts.append((part.total_cents, part.discount_cents))
        line = SoldLine(
            line_no=1, qty=3, unit_price_cents=100, total_cents=299, tax_code="SR",
            refunded_qty=line.refunded_qty + 1,
            refunded_cents=line.refunded_cents + part.total_cents,
        )  # fmt: skip
    assert parts == [(99, 1), (100, 0), (100, 0)]
