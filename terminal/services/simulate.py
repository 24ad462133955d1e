"""Realistic random sales, for demos, soak tests and benchmarks.

Requests are generated here and finalized by the same checkout service the UI uses, so
a simulated sale is a real sale in every respect but who chose the items.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from uuid import UUID

from terminal.domain.cart import CartLine, price_cart
from terminal.domain.tender import cash_due
from terminal.services.schemas import CartItemIn, CheckoutRequest, ProductView, TenderIn

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
