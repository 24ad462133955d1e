"""A sale's rows are written from its event by Python; the database only checks counters."""

from __future__ import annotations

import sqlite3
import uuid
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings

from sync.protocol import SaleCompleted
from terminal.db.models import db_time
from terminal.db.projection import write_sale
from terminal.services import checkout, errors
from terminal.services.checkout import finalize_sale
from tests.unit.sale_rows import dump, read_sale, sale_events, small_sale, stock
from tests.unit.test_checkout import CUSTOMER, request

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
SHIFT = uuid.UUID("00000000-0000-4000-8000-00000000abcd")
FIRST = "DEMO-T01-000001"


def _connect(db) -> sqlite3.Connection:
    conn = sqlite3.connect(db.path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def _open_shift(conn: sqlite3.Connection) -> None:
    (cashier,) = conn.execute("SELECT id FROM cashiers LIMIT 1").fetchone()
    conn.execute(
        "INSERT INTO shifts (id, cashier_id, opened_at, opening_float_cents) VALUES (?, ?, ?, 0)",
        (SHIFT.hex, cashier, db_time(AT)),
    )


async def test_any_sale_round_trips_through_its_rows(till_db):
    """Whatever valid SaleCompleted is written, its rows read back into an equal event."""
    with closing(_connect(till_db)) as conn:
        _open_shift(conn)
        opening = stock(conn)

        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(sale=sale_events(FIRST, [SHIFT]))
        def round_trip(sale: SaleCompleted) -> None:
            event_id = uuid.uuid4()
            conn.execute("BEGIN IMMEDIATE")
            try:
                write_sale(conn, sale, event_seq=1, receipt_seq=1, at=AT, event_id=event_id)
                assert read_sale(conn, sale.sale_id) == sale
                outbox = conn.execute(
                    "SELECT seq, event_id, type, schema_version, occurred_at, payload, status"
                    " FROM outbox"
                ).fetchall()
                assert outbox[0][:5] == (1, event_id.hex, "sale.completed", 1, db_time(AT))
                assert outbox[0][6] == "pending" and len(outbox) == 1
                assert SaleCompleted.model_validate_json(outbox[0][5]) == sale
                earned = sum(d.points for d in sale.loyalty if d.reason == "earn")
                redeemed = -sum(d.points for d in sale.loyalty if d.reason == "redeem")
                assert conn.execute(
                    "SELECT receipt_seq, created_at, points_earned, points_redeemed, event_seq"
                    " FROM sales"
                ).fetchall() == [(1, db_time(AT), earned, redeemed, 1)]
                assert conn.execute(
                    "SELECT DISTINCT created_at, event_seq, counted_at_hq FROM loyalty_ledger"
                ).fetchall() == ([(db_time(AT), 1, 0)] if sale.loyalty else [])
                sold = Counter[str]()
                for line in sale.lines:
                    if line.product_id is not None:
                        sold[line.product_id.hex] += line.qty
                assert stock(conn) == {p: n - sold[p] for p, n in opening.items()}
                assert dict(conn.execute("SELECT name, value FROM counters")) == {
                    "receipt": 1,
                    "event": 1,
                }
            finally:
                conn.execute("ROLLBACK")

        round_trip()


REFUSED = [
    ("number of another sequence", "DEMO-T01-000002", 1, "receipt_no must be"),
    ("another outlet's number", "ELSE-T01-000001", 1, "receipt_no must be"),
    ("unpadded number", "DEMO-T01-1", 1, "receipt_no must be"),
    ("gap in the sequence", "DEMO-T01-000002", 2, "receipt counter plus one"),
    ("reused sequence", "DEMO-T01-000000", 0, "receipt counter plus one"),
]


@pytest.mark.parametrize(
    ("case", "receipt_no", "receipt_seq", "message"), REFUSED, ids=[c[0] for c in REFUSED]
)
async def test_database_refuses_a_receipt_number_its_sequence_did_not_allocate(
    till_db, case, receipt_no, receipt_seq, message
):
    with closing(_connect(till_db)) as conn:
        before = dump(conn)
        conn.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.IntegrityError, match=message):
            write_sale(
                conn, small_sale(conn, receipt_no), event_seq=1, receipt_seq=receipt_seq, at=AT
            )
        conn.execute("ROLLBACK")
        assert dump(conn) == before
        conn.execute("BEGIN IMMEDIATE")  # the right number still goes through
        write_sale(conn, small_sale(conn, FIRST), event_seq=1, receipt_seq=1, at=AT)
        conn.execute("COMMIT")
        assert conn.execute("SELECT receipt_no, receipt_seq FROM sales").fetchall() == [(FIRST, 1)]


async def test_a_checkout_printing_an_unallocated_number_saves_nothing(till_db, monkeypatch):
    """Were the checkout to print a number off its sequence, the sale would not commit."""
    await finalize_sale(till_db, request())
    with closing(_connect(till_db)) as conn:
        before = dump(conn)
    monkeypatch.setattr(
        checkout,
        "format_receipt_no",
        lambda outlet, terminal, n: f"{outlet}-{terminal}-{n + 1:06d}",
    )
    with pytest.raises(errors.StorageError, match="receipt_no must be"):
        await finalize_sale(till_db, request(customer_id=CUSTOMER))
    with closing(_connect(till_db)) as conn:
        assert dump(conn) == before


async def test_the_checkout_writes_its_rows_from_the_event_it_sends(till_db):
    receipts = [
        await finalize_sale(till_db, request(customer_id=CUSTOMER), now=AT) for _ in range(3)
    ]
    with closing(_connect(till_db)) as conn:
        payloads = [p for (p,) in conn.execute("SELECT payload FROM outbox ORDER BY seq")]
        for receipt, payload in zip(receipts, payloads, strict=True):
            sent = SaleCompleted.model_validate_json(payload)
            assert sent.sale_id == receipt.sale_id
            assert read_sale(conn, receipt.sale_id) == sent
        assert conn.execute("SELECT receipt_no, receipt_seq, event_seq FROM sales").fetchall() == [
            (f"DEMO-T01-{n:06d}", n, n) for n in (1, 2, 3)
        ]
