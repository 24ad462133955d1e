"""The checkout service against a real SQLite file: one transaction, or nothing."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from contextlib import closing
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError, InvalidRequestError

from sync import demo_data
from sync.protocol import SaleCompleted
from terminal.db.engine import in_driver_thread, open_database
from terminal.db.models import Sale
from terminal.services import errors
from terminal.services.checkout import finalize_sale
from terminal.services.schemas import CartItemIn, CheckoutRequest, TenderIn
from terminal.services.setup import init_till, seed_demo

PRODUCTS = {p.sku: p for p in demo_data.demo_products()}
KOPI = PRODUCTS["KOPI-001"]  # S$3.30, SR, CDC-eligible
BEER = PRODUCTS["BEER-6"]  # S$19.80, SR, not CDC-eligible
STAMP = PRODUCTS["STAMP-10"]  # S$5.00, exempt
CASHIER = demo_data.demo_cashiers()[0].cashier_id
CUSTOMER = demo_data.demo_customers()[0].customer_id
TABLES = ("sales", "sale_lines", "payments", "loyalty_ledger", "outbox", "stock", "counters")


def request(**overrides) -> CheckoutRequest:
    base = {
        "cashier_id": CASHIER,
        "items": [CartItemIn(product_id=KOPI.product_id, qty=2)],
        "tenders": [TenderIn(kind="cash", amount_cents=1000)],
    }
    return CheckoutRequest(**(base | overrides))


def snapshot(db) -> dict[str, list[tuple]]:
    """Every row of every table a sale touches (read with plain sqlite3)."""
    with closing(sqlite3.connect(db.path)) as c:
        return {t: sorted(c.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}


async def test_a_sale_writes_every_part_in_one_go(till_db):
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    receipt = await finalize_sale(
        till_db,
        request(
            customer_id=CUSTOMER,
            items=[
                CartItemIn(product_id=KOPI.product_id, qty=3, discount_cents=30),
                CartItemIn(product_id=STAMP.product_id, qty=1),
            ],
            tenders=[
                TenderIn(kind="nets", amount_cents=1000),
                TenderIn(kind="cash", amount_cents=500),
            ],
        ),
        now=at,
    )
    # 3 x 3.30 - 0.30 = 9.60 (SR) + 5.00 (ES) = 14.60; GST only on 9.60 -> 0.79
    assert receipt.receipt_no == "DEMO-T01-000001"
    assert receipt.total_cents == 1460
    assert receipt.tax_cents == 79
    assert receipt.rounding_cents == 0
    assert receipt.change_cents == 40
    assert receipt.points_earned == 14
    assert receipt.points_balance == 14
    assert receipt.gst_reg_no == "M90312345X"
    assert receipt.cashier_name == "Aisha" and receipt.customer_name == "Tan Mei Ling"

    with closing(sqlite3.connect(till_db.path)) as c:
        sale = c.execute(
            "SELECT receipt_no, receipt_seq, total_cents, tax_cents, change_cents, points_earned,"
            " created_at FROM sales"
        ).fetchall()
        assert sale == [
            ("DEMO-T01-000001", 1, 1460, 79, 40, 14, "2026-03-01T09:30:00.000000+00:00")
        ]
        lines = c.execute(
            "SELECT line_no, sku, qty, discount_cents, total_cents FROM sale_lines"
        ).fetchall()
        assert sorted(lines) == [(1, "KOPI-001", 3, 30, 960), (2, "STAMP-10", 1, 0, 500)]
        pays = c.execute("SELECT tender, amount_cents, tendered_cents FROM payments").fetchall()
        assert sorted(pays) == [("cash", 460, 500), ("nets", 1000, 1000)]
        ledger = c.execute("SELECT points, reason, counted_at_hq FROM loyalty_ledger").fetchall()
        assert ledger == [(14, "earn", 0)]
        stock = dict(c.execute("SELECT product_id, on_hand FROM stock").fetchall())
        assert stock[KOPI.product_id.hex] == 997 and stock[STAMP.product_id.hex] == 999
        seq, etype, status, payload = c.execute(
            "SELECT seq, type, status, payload FROM outbox"
        ).fetchone()
    assert (seq, etype, status) == (1, "sale.completed", "pending")
    event_ = SaleCompleted.model_validate_json(payload)
    assert event_.sale_id == receipt.sale_id and event_.receipt_no == receipt.receipt_no
    assert sum(ln.total_cents for ln in event_.lines) == event_.total_cents == 1460
    assert [d.points for d in event_.loyalty] == [14]


async def test_receipt_numbers_and_event_seqs_are_gapless(till_db):
    numbers = [(await finalize_sale(till_db, request())).receipt_no for _ in range(5)]
    assert numbers == [f"DEMO-T01-{n:06d}" for n in range(1, 6)]
    with closing(sqlite3.connect(till_db.path)) as c:
        assert [r[0] for r in c.execute("SELECT seq FROM outbox ORDER BY seq")] == [1, 2, 3, 4, 5]
        assert dict(c.execute("SELECT name, value FROM counters").fetchall()) == {
            "receipt": 5,
            "event": 5,
        }


async def test_cash_rounds_to_five_cents_and_card_does_not(till_db):
    # 7.89 + 3.30 = 11.19: cash due 11.20, card due 11.19
    items = [
        CartItemIn(product_id=PRODUCTS["MILO-400"].product_id, qty=1),
        CartItemIn(product_id=KOPI.product_id, qty=1),
    ]
    cash = await finalize_sale(
        till_db, request(items=items, tenders=[TenderIn(kind="cash", amount_cents=1120)])
    )
    assert (cash.rounding_cents, cash.change_cents, cash.payments[0].amount_cents) == (1, 0, 1120)
    card = await finalize_sale(
        till_db, request(items=items, tenders=[TenderIn(kind="card", amount_cents=1119)])
    )
    assert (card.rounding_cents, card.change_cents) == (0, 0)


async def test_points_redemption_needs_enough_balance(till_db):
    earned = await finalize_sale(
        till_db,
        request(
            customer_id=CUSTOMER,
            items=[CartItemIn(product_id=BEER.product_id, qty=1)],
            tenders=[TenderIn(kind="card", amount_cents=1980)],
        ),
    )
    assert earned.points_balance == 19
    spent = await finalize_sale(
        till_db,
        request(
            customer_id=CUSTOMER,
            tenders=[
                TenderIn(kind="points", amount_cents=10),
                TenderIn(kind="card", amount_cents=650),
            ],
        ),
    )
    assert spent.points_redeemed == 10
    assert spent.points_earned == 6  # on the 6.50 paid in money
    assert spent.points_balance == 19 - 10 + 6


BAD_REQUESTS = [
    ("empty cart", {"items": []}, errors.EmptyCartError),
    (
        "unknown product",
        {"items": [CartItemIn(product_id=uuid.uuid4(), qty=1)]},
        errors.UnknownProductError,
    ),
    (
        "negative quantity",
        {"items": [CartItemIn(product_id=KOPI.product_id, qty=-1)]},
        errors.BadQuantityError,
    ),
    (
        "zero quantity",
        {"items": [CartItemIn(product_id=KOPI.product_id, qty=0)]},
        errors.BadQuantityError,
    ),
    ("short payment", {"tenders": [TenderIn(kind="cash", amount_cents=600)]}, errors.PaymentError),
    (
        "non-cash overpayment",
        {"tenders": [TenderIn(kind="card", amount_cents=1000)]},
        errors.PaymentError,
    ),
    ("no payment", {"tenders": []}, errors.PaymentError),
    (
        "absurd quantity",
        {"items": [CartItemIn(product_id=KOPI.product_id, qty=8880000000019)]},
        errors.BadQuantityError,
    ),
    (
        "barcode scanned as cash",
        {"tenders": [TenderIn(kind="cash", amount_cents=888000000001900)]},
        errors.PaymentError,
    ),
    (
        "cash needing absurd change",
        {"tenders": [TenderIn(kind="cash", amount_cents=5_000_000)]},
        errors.PaymentError,
    ),
    ("unknown customer", {"customer_id": uuid.uuid4()}, errors.UnknownCustomerError),
    ("unknown cashier", {"cashier_id": uuid.uuid4()}, errors.UnknownCashierError),
    (
        "CDC on beer",
        {
            "items": [CartItemIn(product_id=BEER.product_id, qty=1)],
            "tenders": [TenderIn(kind="cdc", amount_cents=1980)],
        },
        errors.PaymentError,
    ),
    (
        "points beyond balance",
        {"customer_id": CUSTOMER, "tenders": [TenderIn(kind="points", amount_cents=660)]},
        errors.PaymentError,
    ),
    (
        "points without customer",
        {"tenders": [TenderIn(kind="points", amount_cents=660)]},
        errors.PaymentError,
    ),
    (
        "discount above line",
        {"items": [CartItemIn(product_id=KOPI.product_id, qty=1, discount_cents=331)]},
        errors.CheckoutError,
    ),
    ("unknown shift", {"shift_id": uuid.uuid4()}, errors.CheckoutError),
]


@pytest.mark.parametrize(
    ("case", "overrides", "error"), BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS]
)
async def test_bad_input_raises_a_specific_error_and_writes_nothing(
    till_db, case, overrides, error
):
    await finalize_sale(till_db, request())  # something already there, to prove nothing moves
    before = snapshot(till_db)
    with pytest.raises(error) as info:
        await finalize_sale(till_db, request(**overrides))
    assert info.value.message  # words for the cashier
    assert snapshot(till_db) == before


async def test_withdrawn_product_cannot_be_sold(till_db):
    async with till_db.writer() as s, s.begin():
        await s.execute(text("UPDATE products SET active = 0 WHERE sku = 'KOPI-001'"))
    before = snapshot(till_db)
    with pytest.raises(errors.UnknownProductError):
        await finalize_sale(till_db, request())
    assert snapshot(till_db) == before


async def test_relationships_refuse_lazy_loads(till_db):
    await finalize_sale(till_db, request())
    async with till_db.reader() as s, s.begin():
        sale = (await s.execute(select(Sale))).scalar_one()
        with pytest.raises(InvalidRequestError, match="lazy='raise'"):
            _ = sale.lines


async def test_database_refuses_a_gap_in_the_event_sequence(till_db):
    await finalize_sale(till_db, request())
    with pytest.raises(IntegrityError, match="event counter plus one"):
        async with till_db.writer() as s, s.begin():
            await s.execute(
                text(
                    "INSERT INTO outbox (seq, event_id, type, schema_version, occurred_at, payload,"
                    " status, attempts) VALUES (3, :id, 'x', 1, '2026-01-01', '{}', 'pending', 0)"
                ),
                {"id": uuid.uuid4().hex},
            )


async def test_connection_pragmas(till_db):
    async with till_db.reader() as s, s.begin():
        got = [
            (await s.execute(text(f"PRAGMA {p}"))).scalar()
            for p in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        ]
    assert got == ["wal", 2, 1, 5000]


async def test_full_disk_is_a_storage_error_and_loses_nothing(till_db, tmp_path):
    await finalize_sale(till_db, request())
    before = snapshot(till_db)
    with closing(sqlite3.connect(till_db.path)) as c:
        pages = c.execute("PRAGMA page_count").fetchone()[0]
    full = open_database(till_db.path)

    @event.listens_for(full.engine.sync_engine, "connect")
    def _cap(dbapi_connection, _record):  # the file may not grow: as if the disk were full
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    many = list(PRODUCTS.values())[:40]
    big = [CartItemIn(product_id=p.product_id, qty=1) for p in many]
    exact = sum(p.price_cents for p in many)
    try:
        for _ in range(50):  # fill the free pages until SQLite can't
            try:
                await finalize_sale(
                    full, request(items=big, tenders=[TenderIn(kind="card", amount_cents=exact)])
                )
            except errors.StorageError as exc:
                assert "disk is full" in exc.message and "Nothing was saved" in exc.message
                break
        else:
            pytest.fail("the capped database never filled up")
    finally:
        await full.dispose()
    after = snapshot(till_db)
    # whatever sales fitted are whole; the one that failed left nothing behind
    n = len(after["sales"])
    assert len(after["outbox"]) == n and n >= len(before["sales"])
    assert dict(after["counters"]) == {"receipt": n, "event": n}


async def test_locked_database_is_a_storage_error(tmp_path):
    db = open_database(tmp_path / "t.db", busy_timeout_ms=50)
    await init_till(db)
    await seed_demo(db)
    other = sqlite3.connect(db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(errors.StorageError, match="busy"):
            await finalize_sale(db, request())
        other.execute("ROLLBACK")
        async with db.reader() as s, s.begin():
            assert (await s.execute(text("SELECT count(*) FROM sales"))).scalar() == 0
    finally:
        other.close()
        await db.dispose()


async def test_payload_is_valid_json_with_dashed_uuids(till_db):
    await finalize_sale(till_db, request())
    with closing(sqlite3.connect(till_db.path)) as c:
        payload = json.loads(c.execute("SELECT payload FROM outbox").fetchone()[0])
        sale_id = c.execute("SELECT id FROM sales").fetchone()[0]
    assert uuid.UUID(payload["sale_id"]).hex == sale_id


async def test_a_sale_costs_one_hand_off(till_db, monkeypatch):
    """The checkout's speed is its number of trips to the aiosqlite thread: one, the whole
    unit of work (it was eight through the session: BEGIN through the adapter, each read,
    the write, the commit and the pool's unconditional reset)."""
    import aiosqlite.core

    calls = []
    original = aiosqlite.core.Connection._execute

    async def counted(self, fn, *args, **kwargs):
        calls.append(fn)
        return await original(self, fn, *args, **kwargs)

    await finalize_sale(till_db, request())  # warm the pool
    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counted)
    await finalize_sale(till_db, request(customer_id=CUSTOMER))
    assert len(calls) == 1


async def test_a_sale_takes_no_connection_from_the_pool(till_db):
    """The checkout keeps its own connection (the database's write lane): taking one from
    SQLAlchemy's async pool and giving it back cost as much as the hand-off itself."""
    await finalize_sale(till_db, request())  # the lane is opened by the first sale
    checkouts = []
    event.listen(till_db.engine.sync_engine, "checkout", lambda *a: checkouts.append(a))
    for _ in range(3):
        await finalize_sale(till_db, request(customer_id=CUSTOMER))
    assert checkouts == []


async def test_sales_queued_on_the_lane_at_once_are_each_whole(till_db):
    """Units of work on the lane run one after another on its thread, each from
    ``BEGIN IMMEDIATE`` to ``COMMIT``: sales begun together all land, gapless."""
    receipts = await asyncio.gather(*(finalize_sale(till_db, request()) for _ in range(8)))
    assert sorted(int(r.receipt_no.rsplit("-", 1)[1]) for r in receipts) == list(range(1, 9))
    assert dict(snapshot(till_db)["counters"]) == {"receipt": 8, "event": 8}


async def test_the_lane_rolls_back_a_transaction_left_open_and_sells(till_db):
    """Should a ROLLBACK ever fail and leave the lane's connection inside a transaction
    (the pool used to roll such a one back on check-in), the next unit of work ends it
    first instead of failing on ``BEGIN IMMEDIATE`` for the rest of the day."""
    await finalize_sale(till_db, request())
    driver = till_db.lane.driver
    assert driver is not None
    await in_driver_thread(driver, lambda raw: raw.execute("BEGIN IMMEDIATE"))
    assert driver.in_transaction
    receipt = await finalize_sale(till_db, request())
    assert receipt.receipt_no.endswith("2")
    assert _write_lock_is_free(till_db.path)


async def test_dispose_closes_the_lane_and_a_later_sale_opens_another(tmp_path):
    db = open_database(tmp_path / "t.db")
    await init_till(db)
    await seed_demo(db)
    await finalize_sale(db, request())
    first = db.lane.driver
    assert first is not None
    await db.dispose()
    assert db.lane.driver is None
    assert not first._running  # its thread was told to stop: nothing left behind
    try:
        receipt = await finalize_sale(db, request())
        assert receipt.receipt_no.endswith("2")
        assert db.lane.driver is not None and db.lane.driver is not first
    finally:
        await db.dispose()


def _write_lock_is_free(path) -> bool:
    """Whether another process could start writing right now (no wait)."""
    with closing(sqlite3.connect(path, isolation_level=None, timeout=0)) as c:
        try:
            c.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return False
        c.execute("ROLLBACK")
        return True


async def test_a_refusal_inside_the_one_trip_rolls_back_and_frees_the_till(till_db):
    """The refusal is raised between BEGIN IMMEDIATE and COMMIT on the driver's thread:
    the transaction is rolled back there, the write lock is free again at once, and the
    pooled connection sells the next sale."""
    await finalize_sale(till_db, request())
    async with till_db.writer() as s, s.begin():
        await s.execute(text("UPDATE products SET active = 0 WHERE sku = 'BEER-6'"))
    before = snapshot(till_db)
    with pytest.raises(errors.UnknownProductError):
        await finalize_sale(till_db, request(items=[CartItemIn(product_id=BEER.product_id, qty=1)]))
    assert snapshot(till_db) == before
    assert _write_lock_is_free(till_db.path)
    receipt = await finalize_sale(till_db, request())
    assert receipt.receipt_no.endswith("2")
    assert len(snapshot(till_db)["sales"]) == 2


async def test_a_connection_returned_inside_a_transaction_is_rolled_back(till_db):
    """The pool resets only connections that come back inside a transaction (the
    unconditional rollback was a trip per unit of work); such a one still is."""
    async with till_db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        await driver.execute("BEGIN IMMEDIATE")
        await driver.execute("UPDATE counters SET value = value + 0 WHERE name = 'receipt'")
        assert driver.in_transaction
        assert not _write_lock_is_free(till_db.path)
    assert _write_lock_is_free(till_db.path)
    await finalize_sale(till_db, request())


async def test_a_constraint_the_database_refuses_is_a_storage_error(till_db):
    """A damaged counter (here: wound back by hand) would reuse a receipt number."""
    await finalize_sale(till_db, request())
    async with till_db.writer() as s, s.begin():
        await s.execute(text("UPDATE counters SET value = 0 WHERE name = 'receipt'"))
    before = snapshot(till_db)
    with pytest.raises(errors.StorageError, match="Nothing was saved"):
        await finalize_sale(till_db, request())
    assert snapshot(till_db) == before


async def test_a_tender_the_shop_does_not_take_is_refused_and_nothing_written(till_db):
    from terminal.services.tenders import refused_tender_kinds

    assert await refused_tender_kinds(till_db) == frozenset()
    with closing(sqlite3.connect(till_db.path)) as c, c:
        c.execute("UPDATE tenders SET active = 0 WHERE kind = 'paynow'")
    assert await refused_tender_kinds(till_db) == frozenset({"paynow"})
    before = snapshot(till_db)
    with pytest.raises(errors.PaymentError, match="does not take PayNow"):
        await finalize_sale(till_db, request(tenders=[TenderIn(kind="paynow", amount_cents=660)]))
    assert snapshot(till_db) == before
    # The other tenders, and a kind HQ never named ("voucher"), are still taken.
    await finalize_sale(till_db, request(tenders=[TenderIn(kind="nets", amount_cents=660)]))
    await finalize_sale(till_db, request(tenders=[TenderIn(kind="voucher", amount_cents=660)]))
