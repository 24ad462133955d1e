"""A completed sale as rows: the outbox event and its projection, from one event object.

:func:`write_sale` stores a :class:`~sync.protocol.SaleCompleted` in the outbox exactly as
HQ will be sent it, and writes the sale, its lines, payments, loyalty ledger entries and
the stock decrement from that same object, so the till's local facts equal what HQ
receives. A new sale field is a column (model and migration) plus a line here, and a
payload that does not fit the tables fails with a Python frame.

It is a plain function on a ``sqlite3`` connection, run inside the caller's transaction:
the checkout runs it on the aiosqlite thread inside its one-trip unit of work, so
its six statements (one per table, the repeated rows batched with ``executemany``) cost
what the one outbox INSERT of migration 0001's trigger did. The database keeps only cheap
invariants: the outbox ``seq`` and the sale's ``receipt_seq`` are each their counter plus
one, and ``receipt_no`` is the outlet-terminal-sequence that ``receipt_seq`` names
(migration 0002).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections import Counter
from datetime import datetime

from sync.protocol import SCHEMA_VERSION, SaleCompleted
from terminal.db.models import db_time

SALE_COMPLETED = "sale.completed"

_OUTBOX_SQL = """
INSERT INTO outbox (seq, event_id, type, schema_version, occurred_at, payload, status, attempts)
VALUES (?, ?, ?, ?, ?, ?, 'pending', 0)
"""

_SALE_SQL = """
INSERT INTO sales (
    id, receipt_no, receipt_seq, created_at, cashier_id, customer_id, shift_id,
    subtotal_cents, discount_cents, total_cents, tax_cents, gst_rate_bp,
    rounding_cents, change_cents, points_earned, points_redeemed, event_seq)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

_LINE_SQL = """
INSERT INTO sale_lines (
    sale_id, line_no, product_id, sku, name, qty, unit_price_cents, discount_cents,
    total_cents, tax_code, list_price_cents, price_override_by, age_confirmed)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

_PAYMENT_SQL = """
INSERT INTO payments (id, sale_id, tender, amount_cents, tendered_cents, reference)
VALUES (?, ?, ?, ?, ?, ?)
"""

_LEDGER_SQL = """
INSERT INTO loyalty_ledger (
    id, customer_id, sale_id, points, reason, created_at, event_seq, counted_at_hq)
VALUES (?, ?, ?, ?, ?, ?, ?, 0)
"""

_STOCK_SQL = """
INSERT INTO stock (product_id, on_hand) VALUES (?, ?)
ON CONFLICT (product_id) DO UPDATE SET on_hand = on_hand + excluded.on_hand
"""


def _hex(value: uuid.UUID | None) -> str | None:
    """How SQLAlchemy's ``Uuid`` stores a UUID on SQLite (32 hex digits), or NULL."""
    return None if value is None else value.hex


def write_sale(
    conn: sqlite3.Connection,
    sale: SaleCompleted,
    *,
    event_seq: int,
    receipt_seq: int,
    at: datetime,
    event_id: uuid.UUID | None = None,
) -> None:
    """Write ``sale``'s outbox event and its sale, lines, payments, ledger and stock rows.

    Runs inside the caller's open transaction and commits nothing. ``event_seq`` must be
    the event counter plus one and ``receipt_seq`` the receipt counter plus one, with
    ``sale.receipt_no`` printing that number: the database refuses anything else, and
    then the caller's transaction rolls back whole.
    """
    occurred_at = db_time(at)
    sale_id = sale.sale_id.hex
    earned = sum(d.points for d in sale.loyalty if d.reason == "earn")
    redeemed = -sum(d.points for d in sale.loyalty if d.reason == "redeem")
    sold: Counter[str] = Counter()
    for line in sale.lines:
        if line.product_id is not None:
            sold[line.product_id.hex] += line.qty

    conn.execute(
        _OUTBOX_SQL,
        (
            event_seq,
            (event_id or uuid.uuid4()).hex,
            SALE_COMPLETED,
            SCHEMA_VERSION,
            occurred_at,
            sale.model_dump_json(),
        ),
    )
    conn.execute(
        _SALE_SQL,
        (
            sale_id,
            sale.receipt_no,
            receipt_seq,
            occurred_at,
            sale.cashier_id.hex,
            _hex(sale.customer_id),
            _hex(sale.shift_id),
            sale.subtotal_cents,
            sale.discount_cents,
            sale.total_cents,
            sale.tax_cents,
            sale.gst_rate_bp,
            sale.rounding_cents,
            sale.change_cents,
            earned,
            redeemed,
            event_seq,
        ),
    )
    conn.executemany(
        _LINE_SQL,
        [
            (
                sale_id,
                ln.line_no,
                _hex(ln.product_id),
                ln.sku,
                ln.name,
                ln.qty,
                ln.unit_price_cents,
                ln.discount_cents,
                ln.total_cents,
                ln.tax_code,
                ln.list_price_cents,
                _hex(ln.price_override_by),
                ln.age_confirmed,
            )
            for ln in sale.lines
        ],
    )
    conn.executemany(
        _PAYMENT_SQL,
        [
            (p.payment_id.hex, sale_id, p.tender, p.amount_cents, p.tendered_cents, p.reference)
            for p in sale.payments
        ],
    )
    if sale.loyalty:
        conn.executemany(
            _LEDGER_SQL,
            [
                (
                    d.entry_id.hex,
                    d.customer_id.hex,
                    sale_id,
                    d.points,
                    d.reason,
                    occurred_at,
                    event_seq,
                )
                for d in sale.loyalty
            ],
        )
    if sold:
        conn.executemany(_STOCK_SQL, [(product, -qty) for product, qty in sold.items()])
