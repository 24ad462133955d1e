"""Realistic random sales, for demos, soak tests and benchmarks.

Requests are generated here and finalized by the same checkout service the UI uses, so
a simulated sale is a real sale in every respect but who chose the items.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from terminal.db.engine import Database
from terminal.domain.cart import CartLine, price_cart
from terminal.domain.tender import cash_due
from terminal.services.cashiers import record_own_approval
from terminal.services.catalog import list_products
from terminal.services.checkout import finalize_sale
from terminal.services.customers import create_customer, get_customer
from terminal.services.errors import RefundError
from terminal.services.refunds import find_sale, refund_sale
from terminal.services.schemas import (
    CartItemIn,
    CheckoutRequest,
    ProductView,
    RefundLineIn,
    RefundRequest,
    TenderIn,
)
from terminal.services.shifts import close_shift, open_shift, x_report
from terminal.services.till_ops import cancel_sale

_NOTES = (500, 1000, 2000, 5000, 10000)


def random_request(
    rng: random.Random,
    products: Sequence[ProductView],
    *,
    cashier_id: UUID,
    customer_ids: Sequence[UUID] = (),
    gst_rate_bp: int = 900,
) -> CheckoutRequest:
    """A basket of 1-8 distinct items paid by a plausible mix of tenders."""
    picked = rng.sample(list(products), k=min(len(products), rng.randint(1, 8)))
    items = [
        CartItemIn(
            product_id=p.id,
            qty=rng.choice((1, 1, 1, 2, 3)),
            discount_cents=(p.price_cents // 10 if rng.random() < 0.05 else 0),
        )
        for p in picked
    ]
    totals = price_cart(
        [
            CartLine(
                p.id,
                p.sku,
                p.name,
                i.qty,
                p.price_cents,
                p.tax_code,
                p.cdc_eligible,
                i.discount_cents,
            )
            for p, i in zip(picked, items, strict=True)
        ],
        gst_rate_bp=gst_rate_bp,
    )
    due = totals.total_cents
    roll = rng.random()
    tenders: list[TenderIn]
    if roll < 0.45:
        cash = cash_due(due)
        handed = next((n for n in _NOTES if n >= cash), cash) if rng.random() < 0.7 else cash
        tenders = [TenderIn(kind="cash", amount_cents=handed)]
    elif roll < 0.85:
        tenders = [TenderIn(kind=rng.choice(("nets", "card", "paynow")), amount_cents=due)]
    elif due > 200:
        part = rng.randint(1, due - 100)
        tenders = [
            TenderIn(kind="card", amount_cents=part),
            TenderIn(kind="cash", amount_cents=cash_due(due - part) or 5),
        ]
    else:
        tenders = [TenderIn(kind="nets", amount_cents=due)]
    customer = rng.choice(customer_ids) if customer_ids and rng.random() < 0.4 else None
    return CheckoutRequest(
        cashier_id=cashier_id, customer_id=customer, items=items, tenders=tenders
    )


@dataclass(frozen=True, slots=True)
class DayRates:
    """How often each till operation happens per sale (0 to 1)."""

    refund: float = 0.0
    redeem: float = 0.0
    new_customer: float = 0.0
    cancel: float = 0.0


@dataclass
class DayTally:
    sales: int = 0
    refunds: int = 0
    refunds_cents: int = 0
    redeemed_points: int = 0
    new_customers: int = 0
    cancels: int = 0
    shifts_closed: int = 0
    z_reports: list[UUID] = field(default_factory=list)


async def simulate_day(
    db: Database,
    rng: random.Random,
    *,
    sales: int,
    cashier_id: UUID,
    manager_id: UUID,
    customer_ids: Sequence[UUID] = (),
    rates: DayRates = DayRates(),
    shifts: int = 0,
    now: Callable[[], datetime] | None = None,
) -> DayTally:
    """A scripted day through the same services a cashier uses.

    Sales are spread over ``shifts`` shifts (each opened with a float and closed with a
    counted cash that is off by a little, producing a Z report), or made outside any
    shift when ``shifts`` is 0. Refunds, cancels and points redemptions are approved by
    ``manager_id`` (audited like any approval).
    """
    clock = now or (lambda: datetime.now(UTC))
    products = await list_products(db)
    customers = list(customer_ids)
    tally = DayTally()
    receipts: list[str] = []
    per_shift = [sales // shifts + (1 if i < sales % shifts else 0) for i in range(shifts)]
    plan: list[int | None] = [*per_shift] if shifts else [None]
    for count in plan:
        shift_id = None
        if count is not None:
            shift = await open_shift(db, cashier_id, float_cents=rng.choice((5000, 10000, 20000)))
            shift_id = shift.id
        for _ in range(sales if count is None else count):
            await _one_sale(db, rng, products, cashier_id, manager_id, customers, rates,
                            shift_id, tally, receipts, clock)  # fmt: skip
        if shift_id is not None:
            report = await x_report(db, shift_id)
            counted = max(0, report.expected_cash_cents + rng.choice((0, 0, 0, -5, 5, -100)))
            await close_shift(db, shift_id, counted_cash_cents=counted)
            tally.shifts_closed += 1
            tally.z_reports.append(shift_id)
    return tally


async def _one_sale(
    db: Database,
    rng: random.Random,
    products: Sequence[ProductView],
    cashier_id: UUID,
    manager_id: UUID,
    customers: list[UUID],
    rates: DayRates,
    shift_id: UUID | None,
    tally: DayTally,
    receipts: list[str],
    clock: Callable[[], datetime],
) -> None:
    if rates.new_customer and rng.random() < rates.new_customer:
        made = await create_customer(
            db, name=f"Sim Customer {rng.randrange(10**6)}", phone=f"9{rng.randrange(10**7):07d}"
        )
        customers.append(made.id)
        tally.new_customers += 1
    request = random_request(rng, products, cashier_id=cashier_id, customer_ids=customers)
    request = request.model_copy(update={"shift_id": shift_id})
    if rates.cancel and rng.random() < rates.cancel:
        prices = {p.id: p.price_cents for p in products}
        total = sum(i.qty * prices[i.product_id] - i.discount_cents for i in request.items)
        ok = await record_own_approval(db, action="cancel", manager_id=manager_id)
        await cancel_sale(
            db,
            cashier_id=cashier_id,
            line_count=len(request.items),
            total_cents=total,
            shift_id=shift_id,
            reason="customer left",
            approvals=[ok.as_approval()],
        )
        tally.cancels += 1
        return
    if request.customer_id is not None and rates.redeem and rng.random() < rates.redeem:
        request = await _with_points(db, rng, request, tally)
    receipt = await finalize_sale(db, request, now=clock())
    receipts.append(receipt.receipt_no)
    tally.sales += 1
    if receipts and rates.refund and rng.random() < rates.refund:
        await _refund_one(db, rng, receipts, cashier_id, manager_id, shift_id, tally, clock)


async def _with_points(
    db: Database, rng: random.Random, request: CheckoutRequest, tally: DayTally
) -> CheckoutRequest:
    """Pay part of the sale with points, never more than the balance the till sees."""
    assert request.customer_id is not None
    balance = (await get_customer(db, request.customer_id)).balance
    due = sum(t.amount_cents for t in request.tenders if t.kind != "cash")
    cash = [t for t in request.tenders if t.kind == "cash"]
    if balance <= 0 or cash or due <= 1:
        return request
    points = rng.randint(1, min(balance, due - 1))
    rest = [
        t.model_copy(update={"amount_cents": t.amount_cents - points}) if i == 0 else t
        for i, t in enumerate(request.tenders)
    ]
    if rest[0].amount_cents <= 0:
        return request
    tally.redeemed_points += points
    return request.model_copy(
        update={"tenders": [TenderIn(kind="points", amount_cents=points), *rest]}
    )


async def _refund_one(
    db: Database,
    rng: random.Random,
    receipts: list[str],
    cashier_id: UUID,
    manager_id: UUID,
    shift_id: UUID | None,
    tally: DayTally,
    clock: Callable[[], datetime],
) -> None:
    number = rng.choice(receipts)
    sale = await find_sale(db, number)
    left = [(ln.line_no, ln.qty - ln.refunded_qty) for ln in sale.lines if ln.qty > ln.refunded_qty]
    if not left:
        return
    whole = rng.random() < 0.5
    lines = [] if whole else [
        RefundLineIn(line_no=no, qty=rng.randint(1, q)) for no, q in rng.sample(left, k=1)
    ]  # fmt: skip
    ok = await record_own_approval(db, action="refund", manager_id=manager_id)
    try:
        note = await refund_sale(
            db,
            RefundRequest(
                receipt_no=number,
                cashier_id=cashier_id,
                shift_id=shift_id,
                lines=lines,
                reason="simulated return",
                approvals=[ok.as_approval()],
            ),
            now=clock(),
        )
    except RefundError:
        return  # e.g. points that cannot be split: a real cashier refunds to cash
    tally.refunds += 1
    tally.refunds_cents += note.total_cents
