"""Finalizing a sale: the till's hot path and its most important transaction.

One ``BEGIN IMMEDIATE`` unit of work writes the sale, its lines, payments, loyalty
deltas, the stock decrement, the next receipt number and the outbox event, or nothing.
Its speed is set by hand-offs to the aiosqlite thread (each a thread wake-up), so the
whole unit of work is one: :func:`terminal.services.uow.writing_in_one_trip` runs it on
the driver's thread between ``BEGIN IMMEDIATE`` and ``COMMIT``. In it one statement reads
the store settings with both counters, one reads every product/cashier/customer/shift
the request names, the sale is priced and checked (pure domain arithmetic), and
:func:`terminal.db.projection.write_sale` stores the outbox event and writes the sale
tables, the ledger and stock from that same ``SaleCompleted`` object (six batched
statements; the counter triggers of migrations 0001/0002 move the gapless counters and
check the receipt number). The local facts are, by construction, exactly what HQ is
sent. A refusal raised anywhere in it rolls the transaction back.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sync.protocol import LoyaltyDelta, Payment, SaleCompleted, SaleLine
from terminal.db.engine import Database
from terminal.db.models import db_uuid
from terminal.db.projection import write_sale
from terminal.domain.approval import ApprovalLimits, LineFacts, sale_needs
from terminal.domain.cart import MAX_QTY, CartError, CartLine, Totals, price_cart
from terminal.domain.gst import GstRate, NoGstRateError, rate_on
from terminal.domain.loyalty import (
    LoyaltyError,
    LoyaltyRules,
    check_redeem,
    points_earned,
    points_for_cents,
)
from terminal.domain.money import MAX_AMOUNT_CENTS, format_cents
from terminal.domain.receipt_no import format_receipt_no
from terminal.domain.tender import Settlement, TenderError, TenderInput, settle
from terminal.services.approvals import Recorded, check_recorded, limits_from_json
from terminal.services.catalog import price_at_sql
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
from terminal.services.schemas import (
    CartItemIn,
    CheckoutRequest,
    Receipt,
    ReceiptLine,
    ReceiptPayment,
)
from terminal.services.uow import writing_in_one_trip

if TYPE_CHECKING:
    import sqlite3


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
    approval_limits: ApprovalLimits = ApprovalLimits()
    refused_tenders: frozenset[str] = frozenset()
    """Tender kinds the shop does not take: HQ sent every tender of that kind inactive."""


@dataclass(frozen=True, slots=True)
class Refs:
    """What the request names, as found in the store."""

    products: dict[uuid.UUID, Any]
    cashier_name: str | None
    customer_name: str | None
    customer_balance: int
    shift_found: bool
    approvals: Recorded


async def finalize_sale(
    db: Database, request: CheckoutRequest, *, now: datetime | None = None
) -> Receipt:
    """Write one sale atomically and return its receipt; raise a CheckoutError if it can't.

    On any error nothing is written (the transaction rolls back) and the caller keeps
    its cart.
    """
    at = now or datetime.now(UTC)
    _check_shape(request)

    def unit(conn: sqlite3.Connection) -> Receipt:
        ctx = load_store_context(conn)
        refs = _load_refs(conn, request, at)
        _require_approvals(request, ctx, refs, at)
        sale = _build_sale(request, ctx, refs, at)
        write_sale(
            conn,
            sale.event,
            event_seq=ctx.last_event + 1,
            receipt_seq=ctx.last_receipt + 1,
            at=at,
        )
        return sale.receipt

    return await writing_in_one_trip(db, unit)


def _check_shape(request: CheckoutRequest) -> None:
    if not request.items:
        raise EmptyCartError("The cart is empty: scan an item first.")
    for item in request.items:
        if not 0 < item.qty <= MAX_QTY:
            raise BadQuantityError(f"Quantity {item.qty} is not allowed: use 1 to {MAX_QTY}.")
    if not request.tenders:
        raise PaymentError("No payment was taken.")
    for tender in request.tenders:
        if tender.amount_cents > MAX_AMOUNT_CENTS:
            raise PaymentError(
                f"S${format_cents(tender.amount_cents)} {tender.kind} is more than any one "
                "payment can be: was a barcode scanned into the amount?"
            )


_STORE_SQL = """
SELECT s.outlet_code, s.terminal_code, s.store_name, s.address, s.gst_reg_no,
       s.loyalty_cents_per_point_earned, s.loyalty_point_value_cents,
       g.effective_from, g.rate_bp,
       (SELECT value FROM counters WHERE name = 'receipt'),
       (SELECT value FROM counters WHERE name = 'event'),
       s.approval_limits,
       (SELECT group_concat(kind) FROM
            (SELECT kind FROM tenders GROUP BY kind HAVING max(active) = 0))
FROM store_settings AS s LEFT JOIN gst_rates AS g ON 1
"""

# Everything the request names, in one statement: products ('p'), the cashier ('c'),
# the customer with the balance the till knows ('u') and the shift ('s'). Product ids
# come as one JSON array so the SQL text (and SQLite's statement cache) never varies.
# A product's price is the last scheduled step begun by the sale's moment (?6, unix
# seconds), else its own price.
_REFS_SQL = f"""
SELECT 'p', id, sku, name, {price_at_sql("?6")}, tax_code, cdc_eligible, active
    FROM products WHERE id IN (SELECT value FROM json_each(?1))
UNION ALL
SELECT 'c', id, NULL, name, 0, NULL, 0, active FROM cashiers WHERE id = ?2
UNION ALL
SELECT 'u', id, NULL, name,
       hq_balance + (SELECT coalesce(sum(points), 0) FROM loyalty_ledger
                     WHERE customer_id = customers.id AND counted_at_hq = 0),
       NULL, 0, 1
    FROM customers WHERE id = ?3
UNION ALL
SELECT 's', id, NULL, NULL, 0, NULL, 0, closed_at IS NULL FROM shifts WHERE id = ?4
UNION ALL
SELECT 'a', id, action, manager_id, 0, cashier_id, created_at, 1
    FROM approvals WHERE id IN (SELECT value FROM json_each(?5))
"""


def load_store_context(conn: sqlite3.Connection) -> StoreContext:
    rows = conn.execute(_STORE_SQL).fetchall()
    if not rows:
        raise NotInitialisedError("This till has no store settings: run `kedai-till init`.")
    first = rows[0]
    return StoreContext(
        outlet_code=first[0],
        terminal_code=first[1],
        store_name=first[2],
        address=first[3],
        gst_reg_no=first[4],
        rules=LoyaltyRules(first[5], first[6]),
        gst_rates=tuple(GstRate(date.fromisoformat(r[7]), r[8]) for r in rows if r[7] is not None),
        last_receipt=first[9],
        last_event=first[10],
        approval_limits=limits_from_json(first[11]),
        refused_tenders=frozenset(first[12].split(",")) if first[12] else frozenset(),
    )


def _load_refs(conn: sqlite3.Connection, request: CheckoutRequest, at: datetime) -> Refs:
    ids = json.dumps(sorted({db_uuid(item.product_id) for item in request.items}))
    params = (
        ids,
        db_uuid(request.cashier_id),
        db_uuid(request.customer_id) if request.customer_id else None,
        db_uuid(request.shift_id) if request.shift_id else None,
        json.dumps([db_uuid(a.approval_id) for a in request.approvals]),
        int(at.timestamp()),
    )
    by_kind: dict[str, list[Any]] = {"p": [], "c": [], "u": [], "s": [], "a": []}
    for row in conn.execute(_REFS_SQL, params):
        by_kind[row[0]].append(row)
    cashier = by_kind["c"][0] if by_kind["c"] else None
    customer = by_kind["u"][0] if by_kind["u"] else None
    return Refs(
        products={uuid.UUID(hex=r[1]): r for r in by_kind["p"]},
        cashier_name=cashier[3] if cashier is not None and cashier[7] else None,
        customer_name=customer[3] if customer is not None else None,
        customer_balance=customer[4] if customer is not None else 0,
        shift_found=bool(by_kind["s"] and by_kind["s"][0][7]),
        approvals={
            uuid.UUID(hex=r[1]): (
                r[2],
                uuid.UUID(hex=r[3]),
                uuid.UUID(hex=r[5]),
                datetime.fromisoformat(r[6]),
            )
            for r in by_kind["a"]
        },
    )


def _require_approvals(
    request: CheckoutRequest, ctx: StoreContext, refs: Refs, at: datetime
) -> None:
    """Every discount is judged on the line as it is now, whoever built the request.

    Lines the pricing will refuse anyway (a discount above the line) are left to it.
    """
    facts = [
        LineFacts(
            line_no=i,
            sku=row[2],
            qty=item.qty,
            unit_price_cents=_unit_price(item, row),
            discount_cents=item.discount_cents,
            list_price_cents=row[4] if item.unit_price_cents is not None else None,
        )
        for i, item in enumerate(request.items, start=1)
        if (row := refs.products.get(item.product_id)) is not None
        and item.discount_cents <= item.qty * _unit_price(item, row)
    ]
    check_recorded(
        sale_needs(
            facts,
            request.cart_discount_cents,
            ctx.approval_limits,
            approved_lines={
                a.line_no
                for a in request.approvals
                if a.action == "discount" and a.line_no is not None
            },
        ),
        request.approvals,
        refs.approvals,
        cashier_id=request.cashier_id,
        at=at,
    )


def _line_facts(
    item: CartItemIn, row: Any, line_no: int, overridden_by: dict[int | None, uuid.UUID]
) -> dict[str, Any]:
    """What a line records beyond its price: an override (the catalog price and the
    manager who approved it) and the cashier's age check."""
    facts: dict[str, Any] = {"age_confirmed": item.age_confirmed}
    if item.unit_price_cents is not None and item.unit_price_cents != row[4]:
        facts["list_price_cents"] = row[4]
        facts["price_override_by"] = overridden_by.get(line_no, overridden_by.get(None))
    return facts


def _unit_price(item: CartItemIn, row: Any) -> int:
    return row[4] if item.unit_price_cents is None else item.unit_price_cents


@dataclass(frozen=True, slots=True)
class _SaleRows:
    event: SaleCompleted
    """What the outbox carries and the sale tables are written from."""
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
                unit_price_cents=_unit_price(item, row),
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


def _settle(request: CheckoutRequest, totals: Totals, refused: frozenset[str]) -> Settlement:
    try:
        return settle(
            totals.total_cents,
            [TenderInput(t.kind, t.amount_cents, t.reference) for t in request.tenders],
            cdc_eligible_cents=totals.cdc_eligible_cents,
            refused_kinds=refused,
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
    settlement = _settle(request, totals, ctx.refused_tenders)

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
    receipt_no = format_receipt_no(ctx.outlet_code, ctx.terminal_code, ctx.last_receipt + 1)
    overridden_by = {
        a.line_no: a.manager_id for a in request.approvals if a.action == "price_override"
    }
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
            **_line_facts(item, refs.products[item.product_id], i, overridden_by),
        )
        for i, (p, item) in enumerate(zip(totals.lines, request.items, strict=True), start=1)
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
        lines=[ReceiptLine.model_validate(ln, from_attributes=True) for ln in wire_lines],
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
    return _SaleRows(event=event, receipt=receipt)
