"""Reading a sale's rows back into the event they were written from, and events to write.

Shared by the projection and the till-upgrade tests. ``read_sale`` is the inverse of
``terminal.db.projection.write_sale`` (and of migration 0001's trigger): lines in
``line_no`` order, payments and ledger entries in the order they were inserted (rowid).
``sale_events`` draws any ``SaleCompleted`` this till can store: every id it names is one
the demo store has (the foreign keys hold), within the wire contract's bounds.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

from hypothesis import strategies as st

from sync import demo_data
from sync.protocol import (
    MAX_QTY,
    WIRE_MAX_CENTS,
    LoyaltyDelta,
    Payment,
    SaleCompleted,
    SaleLine,
)

SALE_TABLES = ("outbox", "sales", "sale_lines", "payments", "loyalty_ledger", "stock", "counters")

PRODUCT_IDS = [p.product_id for p in demo_data.demo_products()]
CASHIER_IDS = [c.cashier_id for c in demo_data.demo_cashiers()]
CUSTOMER_IDS = [c.customer_id for c in demo_data.demo_customers()]


def _uuid(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(hex=value)


def _line_facts(conn: sqlite3.Connection) -> str:
    """The line's override and age columns (migration 0006), or their defaults before it."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(sale_lines)")}
    if "age_confirmed" in columns:
        return "list_price_cents, price_override_by, age_confirmed"
    return "NULL, NULL, 0"


def read_sale(conn: sqlite3.Connection, sale_id: uuid.UUID) -> SaleCompleted:
    """The ``SaleCompleted`` that a sale's rows say, read with plain SQL."""
    key = sale_id.hex
    (sale,) = conn.execute(
        "SELECT receipt_no, cashier_id, customer_id, shift_id, subtotal_cents, discount_cents,"
        " total_cents, tax_cents, gst_rate_bp, rounding_cents, change_cents"
        " FROM sales WHERE id = ?",
        (key,),
    ).fetchall()
    lines = conn.execute(
        "SELECT line_no, product_id, sku, name, qty, unit_price_cents, discount_cents,"
        f" total_cents, tax_code, {_line_facts(conn)}"
        " FROM sale_lines WHERE sale_id = ? ORDER BY line_no",
        (key,),
    ).fetchall()
    payments = conn.execute(
        "SELECT id, tender, amount_cents, tendered_cents, reference FROM payments"
        " WHERE sale_id = ? ORDER BY rowid",
        (key,),
    ).fetchall()
    ledger = conn.execute(
        "SELECT id, customer_id, points, reason FROM loyalty_ledger"
        " WHERE sale_id = ? ORDER BY rowid",
        (key,),
    ).fetchall()
    return SaleCompleted(
        sale_id=sale_id,
        receipt_no=sale[0],
        cashier_id=uuid.UUID(hex=sale[1]),
        customer_id=_uuid(sale[2]),
        shift_id=_uuid(sale[3]),
        subtotal_cents=sale[4],
        discount_cents=sale[5],
        total_cents=sale[6],
        tax_cents=sale[7],
        gst_rate_bp=sale[8],
        rounding_cents=sale[9],
        change_cents=sale[10],
        lines=[
            SaleLine(
                line_no=r[0],
                product_id=_uuid(r[1]),
                sku=r[2],
                name=r[3],
                qty=r[4],
                unit_price_cents=r[5],
                discount_cents=r[6],
                total_cents=r[7],
                tax_code=r[8],
                list_price_cents=r[9],
                price_override_by=_uuid(r[10]),
                age_confirmed=bool(r[11]),
            )
            for r in lines
        ],
        payments=[
            Payment(
                payment_id=uuid.UUID(hex=r[0]),
                tender=r[1],
                amount_cents=r[2],
                tendered_cents=r[3],
                reference=r[4],
            )
            for r in payments
        ],
        loyalty=[
            LoyaltyDelta(
                entry_id=uuid.UUID(hex=r[0]),
                customer_id=uuid.UUID(hex=r[1]),
                points=r[2],
                reason=r[3],
            )
            for r in ledger
        ],
    )


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a sale touches, in a stable order."""
    return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in SALE_TABLES}


def stock(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT product_id, on_hand FROM stock").fetchall())


# ------------------------------------------------------------------ events to write


def small_sale(conn: sqlite3.Connection, receipt_no: str) -> SaleCompleted:
    """A small valid sale (one of the demo store's products, paid by card)."""
    product, sku, name, price = conn.execute(
        "SELECT id, sku, name, price_cents FROM products ORDER BY sku LIMIT 1"
    ).fetchone()
    (cashier,) = conn.execute("SELECT id FROM cashiers LIMIT 1").fetchone()
    return SaleCompleted.model_validate(
        {
            "sale_id": uuid.uuid4(),
            "receipt_no": receipt_no,
            "cashier_id": uuid.UUID(hex=cashier),
            "customer_id": None,
            "lines": [
                {
                    "line_no": 1,
                    "product_id": uuid.UUID(hex=product),
                    "sku": sku,
                    "name": name,
                    "qty": 1,
                    "unit_price_cents": price,
                    "discount_cents": 0,
                    "total_cents": price,
                    "tax_code": "SR",
                }
            ],
            "payments": [
                {
                    "payment_id": uuid.uuid4(),
                    "tender": "card",
                    "amount_cents": price,
                    "tendered_cents": price,
                }
            ],
            "subtotal_cents": price,
            "discount_cents": 0,
            "total_cents": price,
            "tax_cents": 0,
            "gst_rate_bp": 900,
            "rounding_cents": 0,
            "change_cents": 0,
        },
        strict=False,
    )


cents = st.integers(-WIRE_MAX_CENTS, WIRE_MAX_CENTS)
non_neg_cents = st.integers(0, WIRE_MAX_CENTS)


@st.composite
def _lines(draw: st.DrawFn, text: st.SearchStrategy[str]) -> list[SaleLine]:
    numbers = sorted(draw(st.sets(st.integers(1, 10_000), min_size=1, max_size=8)))
    return [
        SaleLine(
            line_no=n,
            product_id=draw(st.none() | st.sampled_from(PRODUCT_IDS)),
            sku=draw(text),
            name=draw(text),
            qty=draw(st.integers(1, MAX_QTY)),
            unit_price_cents=draw(non_neg_cents),
            discount_cents=draw(non_neg_cents),
            total_cents=draw(non_neg_cents),
            tax_code=draw(st.sampled_from(["SR", "ZR", "ES"])),
            list_price_cents=draw(st.none() | non_neg_cents),
            price_override_by=draw(st.none() | st.uuids()),
            age_confirmed=draw(st.booleans()),
        )
        for n in numbers
    ]


def _payments(text: st.SearchStrategy[str]) -> st.SearchStrategy[Payment]:
    return st.builds(
        Payment,
        payment_id=st.uuids(),
        tender=st.sampled_from(["cash", "nets", "card", "paynow", "cdc", "voucher", "points"]),
        amount_cents=non_neg_cents,
        tendered_cents=non_neg_cents,
        reference=st.none() | text,
    )


deltas = st.builds(
    LoyaltyDelta,
    entry_id=st.uuids(),
    customer_id=st.sampled_from(CUSTOMER_IDS),
    points=cents,
    reason=st.sampled_from(["earn", "redeem", "refund", "adjust"]),
)


def sale_events(
    receipt_no: str, shift_ids: list[uuid.UUID], *, nul: bool = True
) -> st.SearchStrategy[SaleCompleted]:
    """Any ``SaleCompleted`` with this receipt number that the demo store's keys allow
    (its text with or without NUL characters)."""
    text = (
        st.text(max_size=40)
        if nul
        else st.text(
            st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=40
        )
    )
    return st.builds(
        SaleCompleted,
        sale_id=st.uuids(),
        receipt_no=st.just(receipt_no),
        cashier_id=st.sampled_from(CASHIER_IDS),
        customer_id=st.none() | st.sampled_from(CUSTOMER_IDS),
        shift_id=st.none() | st.sampled_from(shift_ids) if shift_ids else st.none(),
        lines=_lines(text),
        payments=st.lists(
            _payments(text), min_size=1, max_size=4, unique_by=lambda p: p.payment_id
        ),
        loyalty=st.lists(deltas, max_size=3, unique_by=lambda d: d.entry_id),
        subtotal_cents=cents,
        discount_cents=cents,
        total_cents=cents,
        tax_cents=cents,
        gst_rate_bp=st.integers(0, 10_000),
        rounding_cents=cents,
        change_cents=cents,
    )
