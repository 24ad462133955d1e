"""Returns of sales this till did not make: a sale looked up at HQ, or a manual return.

A sale made at another till of the chain is refunded from HQ's copy of it
(:class:`~sync.protocol.SaleLookup`) exactly as this till refunds its own: the same
plan (:func:`terminal.domain.refund.plan_refund`), approvals, credit note and
``sale.refunded`` event naming the original sale, so HQ's over-refund guard still sees
every till's refunds of it. What HQ counts as refunded is HQ's answer plus this till's
own refunds of that sale HQ has not received yet (those not in ``refund_ids``).

When HQ cannot be asked (offline) or does not have the sale (its till has not synced),
the cashier makes a **manual return**: products, quantities and prices chosen at the
till, a reason, and always a manager's approval, with the money back in cash or the
tender the cashier names. Its event has no ``original_sale_id``; the customer's receipt
number, if any, travels as ``receipt_no`` and is printed on the credit note. Either way
the stock comes back and the GST is reversed, in one unit of work with the event.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select

from sync.protocol import SaleLine, SaleLookup
from terminal.db.engine import Database
from terminal.db.models import GstRateRow
from terminal.domain.approval import manual_return_needs
from terminal.domain.gst import SINGAPORE_GST_RATES, GstRate, NoGstRateError, rate_on
from terminal.domain.refund import (
    RefundRuleError,
    ReturnedItem,
    SoldSale,
    plan_manual_return,
)
from terminal.services.approvals import require
from terminal.services.catalog import products_in
from terminal.services.errors import NotFoundError, RefundError
from terminal.services.refunds import (
    Earlier,
    Refunding,
    customer_name,
    earlier_refunds,
    finish_refund,
    plan_or_refuse,
    require_refund_approvals,
    sold_sale,
    store_and_cashier,
)
from terminal.services.schemas import (
    CreditNote,
    ManualReturnRequest,
    PastSale,
    ReceiptPayment,
    RefundRequest,
    SoldLineView,
)
from terminal.services.uow import reading, writing


def _with_hq(sale: SaleLookup, local: Earlier) -> Earlier:
    """What HQ counts as refunded, plus this till's refunds HQ has not received yet."""
    lines: dict[int, tuple[int, int]] = {r.line_no: (r.qty, r.total_cents) for r in sale.refunded}
    for no, (qty, cents) in local.lines.items():
        held = lines.get(no, (0, 0))
        lines[no] = (held[0] + qty, held[1] + cents)
    paid: dict[str, int] = defaultdict(int)
    for t in sale.refunded_tenders:
        paid[t.tender] += t.amount_cents
    for kind, amount in local.paid.items():
        paid[kind] += amount
    return Earlier(
        lines=lines,
        tax_cents=sale.refunded_tax_cents + local.tax_cents,
        rounding_cents=sale.refunded_rounding_cents + local.rounding_cents,
        paid=dict(paid),
        points_reversed=sale.points_reversed + local.points_reversed,
        credit_notes=local.credit_notes,
    )


async def hq_sale_view(db: Database, sale: SaleLookup) -> PastSale:
    """HQ's copy of another till's sale as the refund screen shows it."""
    async with reading(db) as s:
        earlier = _with_hq(sale, await earlier_refunds(s, sale.sale_id, exclude=sale.refund_ids))
        member = await customer_name(s, sale.customer_id)
    return PastSale(
        sale_id=sale.sale_id,
        receipt_no=sale.receipt_no,
        created_at=sale.occurred_at,
        cashier_id=sale.cashier_id,
        customer_id=sale.customer_id,
        customer_name=member,
        total_cents=sale.total_cents,
        tax_cents=sale.tax_cents,
        rounding_cents=sale.rounding_cents,
        lines=[
            SoldLineView(
                line_no=ln.line_no,
                sku=ln.sku,
                name=ln.name,
                qty=ln.qty,
                unit_price_cents=ln.unit_price_cents,
                total_cents=ln.total_cents,
                tax_code=ln.tax_code,
                refunded_qty=earlier.lines.get(ln.line_no, (0, 0))[0],
            )
            for ln in sale.lines
        ],
        payments=[
            ReceiptPayment(
                tender=p.tender,
                amount_cents=p.amount_cents,
                tendered_cents=p.tendered_cents,
                reference=p.reference,
            )
            for p in sale.payments
        ],
        refunds=list(earlier.credit_notes),
        at_hq=True,
    )


async def refund_hq_sale(
    db: Database, request: RefundRequest, sale: SaleLookup, *, now: datetime | None = None
) -> CreditNote:
    """Refund (part of) another till's sale, as HQ sent it; all or nothing.

    Raises what :func:`terminal.services.refunds.refund_sale` raises.
    """
    at = now or datetime.now(UTC)
    async with writing(db) as s:
        store, cashier = await store_and_cashier(s, request.cashier_id)
        local = await earlier_refunds(s, sale.sale_id, exclude=sale.refund_ids)
        sold: SoldSale = sold_sale(sale, sale.lines, sale.payments, _with_hq(sale, local))
        plan = plan_or_refuse(store, sold, request)
        await require_refund_approvals(s, store, plan.total_cents, request, at=at)
        return await finish_refund(
            s,
            Refunding(
                store=store,
                cashier_name=cashier,
                request=request,
                plan=plan,
                sale_id=sale.sale_id,
                receipt_no=sale.receipt_no,
                customer_id=sale.customer_id,
                gst_rate_bp=sale.gst_rate_bp,
                lines=sale.lines,
                local_sale=False,
            ),
            at=at,
        )


async def manual_return(
    db: Database, request: ManualReturnRequest, *, now: datetime | None = None
) -> CreditNote:
    """Take goods back without a sale: a reason and a manager's approval, always.

    Raises :class:`RefundError` (no reason, nothing returned, points as the tender),
    :class:`NotFoundError` (a product not sold here) or :class:`ApprovalRequired`;
    then nothing was written.
    """
    at = now or datetime.now(UTC)
    reason = request.reason.strip()
    if not reason:
        raise RefundError("A manual return needs a reason. Nothing was saved.")
    async with writing(db) as s:
        store, cashier = await store_and_cashier(s, request.cashier_id)
        products = await products_in(s, [ln.product_id for ln in request.lines])
        unknown = [ln.product_id for ln in request.lines if ln.product_id not in products]
        if unknown:
            raise NotFoundError(f"Product {unknown[0]} is not sold at this till.")
        stored = [
            GstRate(r.effective_from, r.rate_bp)
            for r in (await s.execute(select(GstRateRow))).scalars()
        ]
        try:
            rate = rate_on(at.date(), stored or SINGAPORE_GST_RATES)
        except NoGstRateError as exc:
            raise RefundError(f"No GST rate is in force today: {exc}.") from exc
        items = [
            ReturnedItem(
                i,
                ln.qty,
                products[ln.product_id].price_cents
                if ln.unit_price_cents is None
                else ln.unit_price_cents,
                products[ln.product_id].tax_code,
            )
            for i, ln in enumerate(request.lines, start=1)
        ]
        try:
            plan = plan_manual_return(items, gst_rate_bp=rate, tender=request.tender)
        except RefundRuleError as exc:
            raise RefundError(f"Cannot take it back: {exc}.") from exc
        await require(
            s, manual_return_needs(), request.approvals, cashier_id=request.cashier_id, at=at
        )
        lines = [
            SaleLine(
                line_no=item.line_no,
                product_id=ln.product_id,
                sku=products[ln.product_id].sku,
                name=products[ln.product_id].name,
                qty=item.qty,
                unit_price_cents=item.unit_price_cents,
                discount_cents=0,
                total_cents=item.qty * item.unit_price_cents,
                tax_code=products[ln.product_id].tax_code,
            )
            for item, ln in zip(items, request.lines, strict=True)
        ]
        as_refund = RefundRequest(
            receipt_no=request.receipt_no.strip().upper(),
            cashier_id=request.cashier_id,
            shift_id=request.shift_id,
            to_cash=request.tender == "cash",
            reason=reason,
            approvals=request.approvals,
        )
        return await finish_refund(
            s,
            Refunding(
                store=store,
                cashier_name=cashier,
                request=as_refund,
                plan=plan,
                sale_id=None,
                receipt_no=as_refund.receipt_no,
                customer_id=None,
                gst_rate_bp=rate,
                lines=lines,
                local_sale=False,
            ),
            at=at,
        )


__all__ = ["hq_sale_view", "manual_return", "refund_hq_sale"]
