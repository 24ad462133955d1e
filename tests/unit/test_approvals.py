"""Approvals are enforced by the services that write, whoever calls them."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest

from sync import demo_data
from sync.protocol import SaleCompleted
from terminal.db.engine import Database
from terminal.domain.approval import (
    ApprovalLimits,
    Granted,
    LineFacts,
    Need,
    line_change_needs,
    missing,
    sale_needs,
)
from terminal.services.cashiers import approve
from terminal.services.checkout import finalize_sale
from terminal.services.errors import ApprovalRequired
from terminal.services.schemas import ApprovalIn, CartItemIn, CheckoutRequest, TenderIn

PRODUCTS = {p.sku: p for p in demo_data.demo_products()}
KOPI = PRODUCTS["KOPI-001"]  # S$3.30
CASHIER = demo_data.demo_cashiers()[0].cashier_id
NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
TABLES = ("sales", "sale_lines", "payments", "loyalty_ledger", "outbox", "stock", "counters")


def snapshot(db: Database) -> dict[str, list[tuple]]:
    with closing(sqlite3.connect(db.path)) as c:
        return {t: sorted(c.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}


def sale(qty: int, discount: int, approvals: list[ApprovalIn] | None = None) -> CheckoutRequest:
    return CheckoutRequest(
        cashier_id=CASHIER,
        items=[CartItemIn(product_id=KOPI.product_id, qty=qty, discount_cents=discount)],
        tenders=[TenderIn(kind="cash", amount_cents=5000)],
        approvals=approvals or [],
    )


# ------------------------------------------------------------------------- the policy


def test_a_discount_is_judged_on_the_line_as_it_is_now() -> None:
    limits = ApprovalLimits()
    at_five = LineFacts(1, "KOPI", qty=5, unit_price_cents=330, discount_cents=330)
    assert sale_needs([at_five], 0, limits) == []  # 20% of 16.50
    at_one = LineFacts(1, "KOPI", qty=1, unit_price_cents=330, discount_cents=330)
    assert [n.action for n in sale_needs([at_one], 0, limits)] == ["discount", "discount"]


def test_line_changes_and_cover() -> None:
    limits = ApprovalLimits()
    assert line_change_needs(5, 6, limits) == []
    assert [n.action for n in line_change_needs(5, 1, limits)] == ["qty_decrease"]
    assert [n.action for n in line_change_needs(5, 0, limits)] == ["void"]
    assert line_change_needs(5, 0, ApprovalLimits(void=False)) == []
    needs = [Need("discount", 1), Need("discount", 2)]
    assert missing(needs, [Granted("discount", 1)]) == [Need("discount", 2)]
    assert missing(needs, [Granted("discount", None)]) == []
    assert missing(needs, [Granted("void", None)]) == needs


# -------------------------------------------------------------------- the checkout


async def test_over_limit_discount_without_approval_writes_nothing(till_db: Database) -> None:
    """The F6 hole: 20% at quantity 5, then quantity 1 is a free item."""
    before = snapshot(till_db)
    with pytest.raises(ApprovalRequired) as caught:
        await finalize_sale(till_db, sale(qty=1, discount=330), now=NOW)
    assert ("discount", 1) in caught.value.needs
    assert snapshot(till_db) == before


async def test_the_recorded_approval_lets_it_through(till_db: Database) -> None:
    granted = await approve(till_db, "9999", action="discount", cashier_id=CASHIER, now=NOW)
    receipt = await finalize_sale(
        till_db, sale(qty=2, discount=330, approvals=[granted.as_approval()]), now=NOW
    )
    assert receipt.total_cents == 330


async def test_a_claimed_approval_that_was_never_granted_is_refused(till_db: Database) -> None:
    granted = await approve(till_db, "9999", action="void", cashier_id=CASHIER, now=NOW)
    forged = [
        ApprovalIn(approval_id=granted.approval_id, manager_id=granted.id, action="discount"),
        ApprovalIn(
            approval_id=demo_data.demo_customers()[0].customer_id,
            manager_id=granted.id,
            action="discount",
        ),
    ]
    before = snapshot(till_db)
    with pytest.raises(ApprovalRequired):
        await finalize_sale(till_db, sale(qty=1, discount=330, approvals=forged), now=NOW)
    stale = granted.as_approval().model_copy(update={"action": "discount"})
    with pytest.raises(ApprovalRequired):
        await finalize_sale(
            till_db, sale(qty=1, discount=330, approvals=[stale]), now=NOW + timedelta(days=1)
        )
    assert snapshot(till_db) == before


async def test_a_price_override_needs_approval(till_db: Database) -> None:
    item = CartItemIn(product_id=KOPI.product_id, qty=1, unit_price_cents=100)
    req = CheckoutRequest(
        cashier_id=CASHIER, items=[item], tenders=[TenderIn(kind="nets", amount_cents=100)]
    )
    with pytest.raises(ApprovalRequired) as caught:
        await finalize_sale(till_db, req, now=NOW)
    assert caught.value.needs == [("price_override", 1)]
    granted = await approve(till_db, "9999", action="price_override", cashier_id=CASHIER, now=NOW)
    ok = req.model_copy(update={"approvals": [granted.as_approval(line_no=1)]})
    receipt = await finalize_sale(till_db, ok, now=NOW)
    assert receipt.lines[0].unit_price_cents == 100 and receipt.total_cents == 100


async def test_the_override_and_the_age_check_are_recorded_on_the_line(till_db: Database) -> None:
    """The sale line says who approved the price, what the catalog price was, and that
    the cashier confirmed the customer's age: in the event HQ is sent and in the rows."""
    beer = PRODUCTS["BEER-6"]
    granted = await approve(till_db, "9999", action="price_override", cashier_id=CASHIER, now=NOW)
    receipt = await finalize_sale(
        till_db,
        CheckoutRequest(
            cashier_id=CASHIER,
            items=[
                CartItemIn(product_id=KOPI.product_id, qty=1, unit_price_cents=100),
                CartItemIn(product_id=beer.product_id, qty=1, age_confirmed=True),
            ],
            tenders=[TenderIn(kind="nets", amount_cents=100 + beer.price_cents)],
            approvals=[granted.as_approval(line_no=1)],
        ),
        now=NOW,
    )
    with closing(sqlite3.connect(till_db.path)) as c:
        rows = c.execute(
            "SELECT line_no, list_price_cents, price_override_by, age_confirmed"
            " FROM sale_lines WHERE sale_id = ? ORDER BY line_no",
            (receipt.sale_id.hex,),
        ).fetchall()
        (payload,) = c.execute(
            "SELECT payload FROM outbox WHERE type = 'sale.completed'"
        ).fetchone()
    assert rows == [(1, 330, granted.id.hex, 0), (2, None, None, 1)]
    event = SaleCompleted.model_validate_json(payload)
    assert (event.lines[0].list_price_cents, event.lines[0].price_override_by) == (
        330,
        granted.id,
    )
    assert [ln.age_confirmed for ln in event.lines] == [False, True]
