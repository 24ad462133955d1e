"""Refunds by receipt number, from this till's own history (offline).

One unit of work reads the sale and what earlier refunds took from it, plans the refund
with the pure :mod:`terminal.domain.refund` rules, checks the approvals it needs, and
writes the refund, its lines and payments, the stock coming back, the loyalty deltas
(earned points reversed, redeemed points returned) and the ``sale.refunded`` event, or
nothing. A sale can never be refunded beyond what it sold: the quantities already taken
are read in the same ``BEGIN IMMEDIATE`` transaction that writes, so two refunds at this
till cannot both take the last item (HQ catches two tills doing it offline).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sync.protocol import LoyaltyDelta, Payment, SaleLine, SaleRefunded
from terminal.db.engine import Database
from terminal.db.models import (
    Cashier,
    Customer,
    LoyaltyEntry,
    PaymentRow,
    Refund,
    RefundLine,
    RefundPayment,
    Sale,
    SaleLineRow,
    Stock,
    StoreSettings,
)
from terminal.domain.approval import refund_needs
from terminal.domain.loyalty import LoyaltyRules
from terminal.domain.refund import RefundPlan, RefundRuleError, SoldLine, SoldSale, plan_refund
from terminal.services.approvals import limits_from_json, require
from terminal.services.errors import NotFoundError, RefundError, UnknownCashierError
from terminal.services.outbox import append_event
from terminal.services.schemas import (
    CreditNote,
    CreditNoteLine,
    PastSale,
    ReceiptPayment,
    RefundRequest,
    SoldLineView,
)
from terminal.services.uow import reading, writing


def credit_note_no(outlet: str, terminal: str, n: int) -> str:
    return f"{outlet}-{terminal}-CN{n:06d}"


async def _sale_row(s: AsyncSession, receipt_no: str) -> Any:
    row = (
        await s.execute(select(Sale).where(Sale.receipt_no == receipt_no.strip().upper()))
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError(
            f"No sale {receipt_no} in this till's history: check the number, or make a "
            "manual return with a manager."
        )
    return row


async def _lines(s: AsyncSession, sale_id: uuid.UUID) -> list[Any]:
    return list(
        (
            await s.execute(
                select(SaleLineRow).where(SaleLineRow.sale_id == sale_id).order_by("line_no")
            )
        ).scalars()
    )


async def _refunded(s: AsyncSession, sale_id: uuid.UUID) -> dict[int, tuple[int, int]]:
    rows = await s.execute(
        select(RefundLine.line_no, func.sum(RefundLine.qty), func.sum(RefundLine.total_cents))
        .join(Refund, Refund.id == RefundLine.refund_id)
        .where(Refund.original_sale_id == sale_id)
        .group_by(RefundLine.line_no)
    )
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


async def _payments(s: AsyncSession, sale_id: uuid.UUID) -> list[Any]:
    return list(
        (await s.execute(select(PaymentRow).where(PaymentRow.sale_id == sale_id))).scalars()
    )


async def _customer_name(s: AsyncSession, customer_id: uuid.UUID | None) -> str | None:
    if customer_id is None:
        return None
    name: str | None = (
        await s.execute(select(Customer.name).where(Customer.id == customer_id))
    ).scalar_one_or_none()
    return name


async def find_sale(db: Database, receipt_no: str) -> PastSale:
    """A sale of this till by receipt number, with what is left to refund of each line."""
    async with reading(db) as s:
        sale = await _sale_row(s, receipt_no)
        lines = await _lines(s, sale.id)
        refunded = await _refunded(s, sale.id)
        payments = await _payments(s, sale.id)
        customer = await _customer_name(s, sale.customer_id)
        notes = (
            await s.execute(
                select(Refund.credit_note_no)
                .where(Refund.original_sale_id == sale.id)
                .order_by(Refund.created_at)
            )
        ).scalars()
        return PastSale(
            sale_id=sale.id,
            receipt_no=sale.receipt_no,
            created_at=sale.created_at,
            cashier_id=sale.cashier_id,
            customer_id=sale.customer_id,
            customer_name=customer,
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
                    refunded_qty=refunded.get(ln.line_no, (0, 0))[0],
                )
                for ln in lines
            ],
            payments=[
                ReceiptPayment(
                    tender=p.tender,
                    amount_cents=p.amount_cents,
                    tendered_cents=p.tendered_cents,
                    reference=p.reference,
                )
                for p in payments
            ],
            refunds=list(notes),
        )


async def _sold(s: AsyncSession, sale: Any, lines: list[Any]) -> SoldSale:
    refunded = await _refunded(s, sale.id)
    paid: dict[str, int] = defaultdict(int)
    for p in await _payments(s, sale.id):
        paid[p.tender] += p.amount_cents
    if "cash" in paid:
        paid["cash"] -= sale.rounding_cents
    earlier = (
        await s.execute(
            select(
                func.coalesce(func.sum(Refund.tax_cents), 0),
                func.coalesce(func.sum(Refund.rounding_cents), 0),
                func.coalesce(func.sum(Refund.points_reversed), 0),
            ).where(Refund.original_sale_id == sale.id)
        )
    ).one()
    refunded_paid: dict[str, int] = defaultdict(int)
    for tender, amount in await s.execute(
        select(RefundPayment.tender, func.sum(RefundPayment.amount_cents))
        .join(Refund, Refund.id == RefundPayment.refund_id)
        .where(Refund.original_sale_id == sale.id)
        .group_by(RefundPayment.tender)
    ):
        refunded_paid[tender] += int(amount)
    if "cash" in refunded_paid:
        refunded_paid["cash"] -= int(earlier[1])
    return SoldSale(
        lines=tuple(
            SoldLine(
                ln.line_no,
                ln.qty,
                ln.unit_price_cents,
                ln.total_cents,
                ln.tax_code,
                *refunded.get(ln.line_no, (0, 0)),
            )
            for ln in lines
        ),
        total_cents=sale.total_cents,
        tax_cents=sale.tax_cents,
        gst_rate_bp=sale.gst_rate_bp,
        rounding_cents=sale.rounding_cents,
        paid=dict(paid),
        points_earned=sale.points_earned,
        refunded_tax_cents=int(earlier[0]),
        refunded_rounding_cents=int(earlier[1]),
        refunded_paid=dict(refunded_paid),
        points_reversed=int(earlier[2]),
    )


async def refund_sale(
    db: Database, request: RefundRequest, *, now: datetime | None = None
) -> CreditNote:
    """Refund (part of) a sale of this till; return its credit note. All or nothing.

    Raises :class:`RefundError` (over-refund, nothing to refund, tenders that cannot take
    it back), :class:`ApprovalRequired` (a refund over the limit or to cash) or
    :class:`NotFoundError` (no such receipt here).
    """
    at = now or datetime.now(UTC)
    async with writing(db) as s:
        store = (await s.execute(select(StoreSettings))).scalar_one()
        cashier = (
            await s.execute(
                select(Cashier.name).where(
                    Cashier.id == request.cashier_id, Cashier.active.is_(True)
                )
            )
        ).scalar_one_or_none()
        if cashier is None:
            raise UnknownCashierError("The cashier is not known to this till (or is inactive).")
        sale = await _sale_row(s, request.receipt_no)
        lines = await _lines(s, sale.id)
        sold = await _sold(s, sale, lines)
        rules = LoyaltyRules(store.loyalty_cents_per_point_earned, store.loyalty_point_value_cents)
        wanted = (
            {ln.line_no: ln.qty for ln in request.lines}
            if request.lines
            else {ln.line_no: ln.qty - ln.refunded_qty for ln in sold.lines}
        )
        if len(request.lines) != len({ln.line_no for ln in request.lines}):
            raise RefundError("Each line may appear once in a refund.")
        try:
            plan = plan_refund(sold, wanted, rules=rules, to_cash=request.to_cash)
        except RefundRuleError as exc:
            raise RefundError(f"Cannot refund: {exc}.") from exc
        needs = refund_needs(
            plan.total_cents,
            to_cash=request.to_cash,
            limits=limits_from_json(store.approval_limits),
        )
        await require(s, needs, request.approvals, cashier_id=request.cashier_id, at=at)
        approved_by = next(
            (a.manager_id for a in request.approvals if a.action in ("refund", "refund_to_cash")),
            None,
        )
        count = (await s.execute(select(func.count()).select_from(Refund))).scalar_one()
        number = credit_note_no(store.outlet_code, store.terminal_code, count + 1)
        event = _event(request, sale, lines, plan, number, approved_by)
        seq = await append_event(s, "sale.refunded", event, at)
        await _write(s, event, plan, sale, seq, at)
        balance = await _balance(s, sale.customer_id)
        return CreditNote(
            refund_id=event.refund_id,
            credit_note_no=number,
            original_receipt_no=sale.receipt_no,
            created_at=at,
            store_name=store.store_name,
            address=store.address,
            gst_reg_no=store.gst_reg_no,
            cashier_name=cashier,
            customer_name=await _customer_name(s, sale.customer_id),
            lines=[
                CreditNoteLine(
                    line_no=ln.line_no,
                    sku=ln.sku,
                    name=ln.name,
                    qty=ln.qty,
                    unit_price_cents=ln.unit_price_cents,
                    discount_cents=ln.discount_cents,
                    total_cents=ln.total_cents,
                    tax_code=ln.tax_code,
                )
                for ln in event.lines
            ],
            total_cents=plan.total_cents,
            tax_cents=plan.tax_cents,
            gst_rate_bp=sale.gst_rate_bp,
            rounding_cents=plan.rounding_cents,
            payments=[
                ReceiptPayment(tender=p.tender, amount_cents=p.amount_cents, tendered_cents=0)
                for p in event.payments
            ],
            points_given_back=plan.points_given_back if sale.customer_id else 0,
            points_taken_back=plan.points_taken_back if sale.customer_id else 0,
            points_balance=balance,
            reason=request.reason,
        )


def _event(
    request: RefundRequest,
    sale: Any,
    lines: list[Any],
    plan: RefundPlan,
    number: str,
    approved_by: uuid.UUID | None,
) -> SaleRefunded:
    by_no = {ln.line_no: ln for ln in lines}
    deltas = []
    if sale.customer_id is not None:
        if plan.points_taken_back:
            deltas.append(
                LoyaltyDelta(
                    entry_id=uuid.uuid4(),
                    customer_id=sale.customer_id,
                    points=-plan.points_taken_back,
                    reason="refund",
                )
            )
        if plan.points_given_back:
            deltas.append(
                LoyaltyDelta(
                    entry_id=uuid.uuid4(),
                    customer_id=sale.customer_id,
                    points=plan.points_given_back,
                    reason="refund",
                )
            )
    return SaleRefunded(
        refund_id=uuid.uuid4(),
        original_sale_id=sale.id,
        receipt_no=sale.receipt_no,
        cashier_id=request.cashier_id,
        approved_by=approved_by,
        lines=[
            SaleLine(
                line_no=ln.line_no,
                product_id=by_no[ln.line_no].product_id,
                sku=by_no[ln.line_no].sku,
                name=by_no[ln.line_no].name,
                qty=ln.qty,
                unit_price_cents=by_no[ln.line_no].unit_price_cents,
                discount_cents=ln.discount_cents,
                total_cents=ln.total_cents,
                tax_code=ln.tax_code,  # type: ignore[arg-type]
            )
            for ln in plan.lines
        ],
        payments=[
            Payment(
                payment_id=uuid.uuid4(),
                tender=kind,  # type: ignore[arg-type]
                amount_cents=amount,
                tendered_cents=amount,
            )
            for kind, amount in plan.tenders
        ],
        loyalty=deltas,
        total_cents=plan.total_cents,
        tax_cents=plan.tax_cents,
        reason=request.reason,
        shift_id=request.shift_id,
        credit_note_no=number,
        rounding_cents=plan.rounding_cents,
        to_cash=request.to_cash,
    )


async def _write(
    s: AsyncSession, event: SaleRefunded, plan: RefundPlan, sale: Any, seq: int, at: datetime
) -> None:
    await s.execute(
        insert(Refund),
        [
            {
                "id": event.refund_id,
                "original_sale_id": sale.id,
                "credit_note_no": event.credit_note_no,
                "created_at": at,
                "cashier_id": event.cashier_id,
                "shift_id": event.shift_id,
                "approved_by": event.approved_by,
                "total_cents": plan.total_cents,
                "tax_cents": plan.tax_cents,
                "rounding_cents": plan.rounding_cents,
                "to_cash": event.to_cash,
                "reason": event.reason,
                "points_reversed": plan.points_taken_back if sale.customer_id else 0,
                "event_seq": seq,
            }
        ],
    )
    await s.execute(
        insert(RefundLine),
        [
            {
                "refund_id": event.refund_id,
                "line_no": ln.line_no,
                "qty": ln.qty,
                "discount_cents": ln.discount_cents,
                "total_cents": ln.total_cents,
                "tax_code": ln.tax_code,
            }
            for ln in event.lines
        ],
    )
    await s.execute(
        insert(RefundPayment),
        [
            {
                "id": p.payment_id,
                "refund_id": event.refund_id,
                "tender": p.tender,
                "amount_cents": p.amount_cents,
            }
            for p in event.payments
        ],
    )
    if event.loyalty:
        await s.execute(
            insert(LoyaltyEntry),
            [
                {
                    "id": d.entry_id,
                    "customer_id": d.customer_id,
                    "sale_id": sale.id,
                    "points": d.points,
                    "reason": d.reason,
                    "created_at": at,
                    "event_seq": seq,
                    "counted_at_hq": False,
                }
                for d in event.loyalty
            ],
        )
    back: dict[uuid.UUID, int] = defaultdict(int)
    for ln in event.lines:
        if ln.product_id is not None:
            back[ln.product_id] += ln.qty
    if back:
        stmt = sqlite_insert(Stock)
        await s.execute(
            stmt.on_conflict_do_update(
                index_elements=[Stock.product_id],
                set_={"on_hand": Stock.on_hand + stmt.excluded.on_hand},
            ),
            [{"product_id": pid, "on_hand": qty} for pid, qty in back.items()],
        )


async def _balance(s: AsyncSession, customer_id: uuid.UUID | None) -> int | None:
    if customer_id is None:
        return None
    uncounted = (
        select(func.coalesce(func.sum(LoyaltyEntry.points), 0))
        .where(LoyaltyEntry.customer_id == customer_id, LoyaltyEntry.counted_at_hq.is_(False))
        .scalar_subquery()
    )
    balance: int = (
        await s.execute(select(Customer.hq_balance + uncounted).where(Customer.id == customer_id))
    ).scalar_one()
    return balance


__all__ = ["credit_note_no", "find_sale", "refund_sale"]
