"""Finalizing a sale: the till's hot path and its most important transaction.

One ``BEGIN IMMEDIATE`` unit of work writes the sale, its lines, payments, loyalty
deltas, the stock decrement, the next receipt number and the outbox event, or nothing.
It is shaped for few hand-offs to the aiosqlite thread (each costs ~0.5 ms through
SQLAlchemy): one query reads the store settings with both counters, one reads every
product/cashier/customer/shift the request names, and one INSERT of the outbox event:
triggers (migration 0001) project the event into the sale tables, the ledger and stock
and move the gapless counters, in that same statement. So a sale is five hand-offs
(BEGIN, two reads, one write, COMMIT) and the local facts are, by construction, exactly
what HQ is sent. Everything in between is pure domain arithmetic.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, func, insert, literal, null, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from sync.protocol import LoyaltyDelta, Payment, SaleCompleted, SaleLine
from terminal.db.engine import Database
from terminal.db.models import (
    Cashier,
    Counter,
    Customer,
    GstRateRow,
    LoyaltyEntry,
    OutboxEvent,
    Product,
    Shift,
    StoreSettings,
    table_of,
)
from terminal.domain.cart import CartError, CartLine, Totals, price_cart
from terminal.domain.gst import GstRate, NoGstRateError, rate_on
from terminal.domain.loyalty import (
    LoyaltyError,
    LoyaltyRules,
    check_redeem,
    points_earned,
    points_for_cents,
)
from terminal.domain.receipt_no import format_receipt_no
from terminal.domain.tender import Settlement, TenderError, TenderInput, settle
from terminal.services.errors import (
    BadQuantityError,
    CheckoutError,
    EmptyCartError,
    NotInitialisedError,
    PaymentError,
    UnknownCashierError,
    UnknownCustomerError,
    UnknownProductError,
)
from terminal.services.outbox import event_row
from terminal.services.schemas import (
    CheckoutRequest,
    Receipt,
    ReceiptLine,
    ReceiptPayment,
)
from terminal.services.uow import writing


@dataclass(frozen=True, slots=True)
class StoreContext:
    """Store settings and both counters, read in the sale's own transaction."""

    outlet_code: str
    terminal_code: str
    store_name: str
    address: str
    gst_reg_no: str
    rules: LoyaltyRules
    gst_rates: tuple[GstRate, ...]
    last_receipt: int
    last_event: int


@dataclass(frozen=True, slots=True)
class Refs:
    """What the request names, as found in the store."""

    products: dict[uuid.UUID, Any]
    cashier_name: str | None
    customer_name: str | None
    customer_balance: int
    shift_found: bool


async def finalize_sale(
    db: Database, request: CheckoutRequest, *, now: datetime | None = None
) -> Receipt:
    """Write one sale atomically and return its receipt; raise a CheckoutError if it can't.

    On any error nothing is written (the transaction rolls back) and the caller keeps
    its cart.
    """
    at = now or datetime.now(UTC)
    _check_shape(request)
    async with writing(db) as session:
        ctx = await load_store_context(session)
        refs = await _load_refs(session, request)
        sale = _build_sale(request, ctx, refs, at)
        await _write_sale(session, sale)
    return sale.receipt


def _check_shape(request: CheckoutRequest) -> None:
    if not request.items:
        raise EmptyCartError("The cart is empty: scan an item first.")
    for item in request.items:
        if item.qty <= 0:
            raise BadQuantityError(f"Quantity {item.qty} is not allowed: use 1 or more.")
    if not request.tenders:
        raise PaymentError("No payment was taken.")


async def load_store_context(session: AsyncSession) -> StoreContext:
    receipt = select(Counter.value).where(Counter.name == "receipt").scalar_subquery()
    event = select(Counter.value).where(Counter.name == "event").scalar_subquery()
    rows = (
        await session.execute(
            select(
                StoreSettings.outlet_code,
                StoreSettings.terminal_code,
                StoreSettings.store_name,
                StoreSettings.address,
                StoreSettings.gst_reg_no,
                StoreSettings.loyalty_cents_per_point_earned,
                StoreSettings.loyalty_point_value_cents,
                GstRateRow.effective_from,
                GstRateRow.rate_bp,
                receipt.label("last_receipt"),
                event.label("last_event"),
            ).outerjoin(GstRateRow, true())
        )
    ).all()
    if not rows:
        raise NotInitialisedError("This till has no store settings: run `kedai-till init`.")
    first = rows[0]
    return StoreContext(
        outlet_code=first.outlet_code,
        terminal_code=first.terminal_code,
        store_name=first.store_name,
        address=first.address,
        gst_reg_no=first.gst_reg_no,
        rules=LoyaltyRules(first.loyalty_cents_per_point_earned, first.loyalty_point_value_cents),
        gst_rates=tuple(
            GstRate(r.effective_from, r.rate_bp) for r in rows if r.effective_from is not None
        ),
        last_receipt=first.last_receipt,
        last_event=first.last_event,
    )


async def _load_refs(session: AsyncSession, request: CheckoutRequest) -> Refs:
    ids = {item.product_id for item in request.items}
    parts: list[Select[*tuple[Any, ...]]] = [
        select(
            literal("p").label("kind"),
            Product.id,
            Product.sku,
            Product.name,
            Product.price_cents.label("amount"),
            Product.tax_code,
            Product.cdc_eligible,
            Product.active,
        ).where(Product.id.in_(ids)),
        select(
            literal("c"),
            Cashier.id,
            null(),
            Cashier.name,
            literal(0),
            null(),
            literal(False),
            Cashier.active,
        ).where(Cashier.id == request.cashier_id),
    ]
    if request.customer_id is not None:
        uncounted = (
            select(func.coalesce(func.sum(LoyaltyEntry.points), 0))
            .where(LoyaltyEntry.customer_id == Customer.id, LoyaltyEntry.counted_at_hq.is_(False))
            .scalar_subquery()
        )
        parts.append(
            select(
                literal("u"),
                Customer.id,
                null(),
                Customer.name,
                Customer.hq_balance + uncounted,
                null(),
                literal(False),
                literal(True),
            ).where(Customer.id == request.customer_id)
        )
    if request.shift_id is not None:
        parts.append(
            select(
                literal("s"),
                Shift.id,
                null(),
                null(),
                literal(0),
                null(),
                literal(False),
                Shift.closed_at.is_(None),
            ).where(Shift.id == request.shift_id)
        )
    rows = (await session.execute(union_all(*parts))).all()
    by_kind: dict[str, list[Any]] = {"p": [], "c": [], "u": [], "s": []}
    for row in rows:
        by_kind[row[0]].append(row)
    cashier = by_kind["c"][0] if by_kind["c"] else None
    customer = by_kind["u"][0] if by_kind["u"] else None
    return Refs(
        products={r[1]: r for r in by_kind["p"]},
        cashier_name=cashier[3] if cashier is not None and cashier[7] else None,
        customer_name=customer[3] if customer is not None else None,
        customer_balance=customer[4] if customer is not None else 0,
        shift_found=bool(by_kind["s"] and by_kind["s"][0][7]),
    )


@dataclass(frozen=True, slots=True)
class _SaleRows:
    outbox: dict[str, Any]
    receipt: Receipt


def _cart_lines(request: CheckoutRequest, refs: Refs) -> list[CartLine]:
    lines = []
    for item in request.items:
        row = refs.products.get(item.product_id)
        if row is None or not row[7]:
            raise UnknownProductError(
                f"Product {item.product_id} is not in this till's catalog (or was withdrawn)."
            )
        lines.append(
            CartLine(
                product_id=item.product_id,
                sku=row[2],
                name=row[3],
                qty=item.qty,
                unit_price_cents=row[4],
                tax_code=row[5],
                cdc_eligible=bool(row[6]),
                discount_cents=item.discount_cents,
            )
        )
    return lines


def _price(request: CheckoutRequest, ctx: StoreContext, refs: Refs, day: date) -> Totals:
    try:
        rate = rate_on(day, ctx.gst_rates)
        return price_cart(
            _cart_lines(request, refs),
            cart_discount_cents=request.cart_discount_cents,
            gst_rate_bp=rate,
        )
    except NoGstRateError as exc:
        raise NotInitialisedError(f"{exc}: HQ must send the GST rates.") from exc
    except CartError as exc:
        raise CheckoutError(str(exc)) from exc


def _settle(request: CheckoutRequest, totals: Totals) -> Settlement:
    try:
        return settle(
            totals.total_cents,
            [TenderInput(t.kind, t.amount_cents, t.reference) for t in request.tenders],
            cdc_eligible_cents=totals.cdc_eligible_cents,
        )
    except TenderError as exc:
        raise PaymentError(str(exc)) from exc


def _build_sale(request: CheckoutRequest, ctx: StoreContext, refs: Refs, at: datetime) -> _SaleRows:
    if refs.cashier_name is None:
        raise UnknownCashierError("The cashier is not known to this till (or is inactive).")
    if request.customer_id is not None and refs.customer_name is None:
        raise UnknownCustomerError("That loyalty customer is not known to this till.")
    if request.shift_id is not None and not refs.shift_found:
        raise CheckoutError("The shift is not open on this till: open a shift first.")
    totals = _price(request, ctx, refs, at.date())
    settlement = _settle(request, totals)

    points_paid = sum(t.amount_cents for t in settlement.tenders if t.kind == "points")
    redeemed = earned = 0
    try:
        if points_paid:
            if request.customer_id is None:
                raise LoyaltyError("attach a loyalty customer to pay with points")
            redeemed = points_for_cents(points_paid, ctx.rules)
            check_redeem(redeemed, refs.customer_balance)
        if request.customer_id is not None:
            earned = points_earned(totals.total_cents - points_paid, ctx.rules)
    except LoyaltyError as exc:
        raise PaymentError(str(exc)) from exc

    sale_id = uuid.uuid4()
    event_seq = ctx.last_event + 1
    receipt_no = format_receipt_no(ctx.outlet_code, ctx.terminal_code, ctx.last_receipt + 1)
    wire_lines = [
        SaleLine(
            line_no=i,
            product_id=p.line.product_id,
            sku=p.line.sku,
            name=p.line.name,
            qty=p.line.qty,
            unit_price_cents=p.line.unit_price_cents,
            discount_cents=p.discount_cents,
            total_cents=p.total_cents,
            tax_code=p.line.tax_code,  # type: ignore[arg-type]
        )
        for i, p in enumerate(totals.lines, start=1)
    ]
    wire_payments = [
        Payment(
            payment_id=uuid.uuid4(),
            tender=t.kind,  # type: ignore[arg-type]
            amount_cents=t.amount_cents,
            tendered_cents=t.tendered_cents,
            reference=t.reference,
        )
        for t in settlement.tenders
    ]
    deltas: list[LoyaltyDelta] = []
    if request.customer_id is not None:
        if redeemed:
            deltas.append(
                LoyaltyDelta(
                    entry_id=uuid.uuid4(),
                    customer_id=request.customer_id,
                    points=-redeemed,
                    reason="redeem",
                )
            )
        if earned:
            deltas.append(
                LoyaltyDelta(
                    entry_id=uuid.uuid4(),
                    customer_id=request.customer_id,
                    points=earned,
                    reason="earn",
                )
            )
    event = SaleCompleted(
        sale_id=sale_id,
        receipt_no=receipt_no,
        cashier_id=request.cashier_id,
        customer_id=request.customer_id,
        shift_id=request.shift_id,
        lines=wire_lines,
        payments=wire_payments,
        loyalty=deltas,
        subtotal_cents=totals.subtotal_cents,
        discount_cents=totals.discount_cents,
        total_cents=totals.total_cents,
        tax_cents=totals.tax_cents,
        gst_rate_bp=totals.gst_rate_bp,
        rounding_cents=settlement.rounding_cents,
        change_cents=settlement.change_cents,
    )
    receipt = Receipt(
        sale_id=sale_id,
        receipt_no=receipt_no,
        created_at=at,
        store_name=ctx.store_name,
        address=ctx.address,
        gst_reg_no=ctx.gst_reg_no,
        cashier_name=refs.cashier_name,
        customer_name=refs.customer_name,
        lines=[
            ReceiptLine.model_validate(ln.model_dump(exclude={"product_id"})) for ln in wire_lines
        ],
        subtotal_cents=totals.subtotal_cents,
        discount_cents=totals.discount_cents,
        total_cents=totals.total_cents,
        tax_cents=totals.tax_cents,
        gst_rate_bp=totals.gst_rate_bp,
        rounding_cents=settlement.rounding_cents,
        payments=[
            ReceiptPayment(
                tender=p.tender,
                amount_cents=p.amount_cents,
                tendered_cents=p.tendered_cents,
                reference=p.reference,
            )
            for p in wire_payments
        ],
        change_cents=settlement.change_cents,
        points_earned=earned,
        points_redeemed=redeemed,
        points_balance=(
            refs.customer_balance + earned - redeemed if request.customer_id is not None else None
        ),
    )
    return _SaleRows(
        outbox=event_row(event_seq, "sale.completed", event, at),
        receipt=receipt,
    )


async def _write_sale(session: AsyncSession, rows: _SaleRows) -> None:
    """One INSERT: the ``sale_completed_projection`` trigger writes the sale, lines,
    payments, loyalty ledger and stock decrement from the event, in this statement."""
    await session.execute(insert(table_of(OutboxEvent)), [rows.outbox])
