"""A price HQ scheduled for a moment applies at the till at that moment, with no HQ in
sight: a real till database (SQLite file) with the demo store, the change applied as the
sync agent applies a pulled page, then sales on either side of the moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync import demo_data
from sync import protocol as p
from terminal.db.engine import Database
from terminal.services.catalog import lookup_code
from terminal.services.checkout import finalize_sale
from terminal.services.reference import apply_changes
from terminal.services.schemas import CartItemIn, CheckoutRequest, TenderIn
from terminal.services.uow import writing

KOPI = next(x for x in demo_data.demo_products() if x.sku == "KOPI-001")  # S$3.30
CASHIER = demo_data.demo_cashiers()[0].cashier_id
MONDAY = datetime(2026, 3, 2, 0, 0, tzinfo=UTC) - timedelta(hours=8)  # 00:00 in Singapore


async def _apply(db: Database, record: p.ProductRecord, seq: int) -> None:
    async with writing(db) as s:
        await apply_changes(s, [p.ProductChange(seq=seq, data=record)])


async def _sell(db: Database, at: datetime) -> int:
    receipt = await finalize_sale(
        db,
        CheckoutRequest(
            cashier_id=CASHIER,
            items=[CartItemIn(product_id=KOPI.product_id, qty=1)],
            tenders=[TenderIn(kind="cash", amount_cents=1000)],
        ),
        now=at,
    )
    return receipt.lines[0].unit_price_cents


def _with(*steps: tuple[datetime, int]) -> p.ProductRecord:
    return KOPI.model_copy(
        update={"prices": [p.ScheduledPrice(effective_from=t, price_cents=c) for t, c in steps]}
    )


async def test_the_price_changes_at_the_moment_not_before(till_db: Database) -> None:
    await _apply(till_db, _with((MONDAY, 350), (MONDAY + timedelta(days=7), 360)), seq=1)
    assert await _sell(till_db, MONDAY - timedelta(seconds=1)) == 330
    assert await _sell(till_db, MONDAY) == 350
    assert await _sell(till_db, MONDAY + timedelta(days=7, seconds=1)) == 360


async def test_a_new_record_replaces_the_schedule(till_db: Database) -> None:
    await _apply(till_db, _with((MONDAY, 350)), seq=1)
    await _apply(till_db, _with(), seq=2)  # HQ withdrew the step
    assert await _sell(till_db, MONDAY + timedelta(days=1)) == 330


async def test_the_catalog_shows_the_price_in_effect_now(till_db: Database) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    future = datetime.now(UTC) + timedelta(days=1)
    await _apply(till_db, _with((past, 340), (future, 999)), seq=1)
    assert (await lookup_code(till_db, KOPI.sku)).price_cents == 340
