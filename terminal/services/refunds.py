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
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
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
    Product,
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


@dataclass(frozen=True, slots=True)
class Earlier:
    """What earlier refunds at this till took back of one sale."""

    lines: dict[int, tuple[int, int]]
    """line_no -> (qty, cents)."""
    tax_cents: int = 0
    rounding_cents: int = 0
    paid: dict[str, int] = field(default_factory=dict)
    """Per tender kind, what they gave back (cash without its rounding)."""
    points_reversed: int = 0
    credit_notes: tuple[str, ...] = ()


async def earlier_refunds(
    s: AsyncSession, sale_id: uuid.UUID, *, exclude: Collection[uuid.UUID] = ()
) -> Earlier:
    """This till's refunds of ``sale_id`` (but those in ``exclude``: HQ counts them)."""
    where = [Refund.original_sale_id == sale_id]
    if exclude:
        where.append(Refund.id.not_in(list(exclude)))
    lines = {
        r[0]: (int(r[1]), int(r[2]))
        for r in await s.execute(
            select(RefundLine.line_no, func.sum(RefundLine.qty), func.sum(RefundLine.total_cents))
            .join(Refund, Refund.id == RefundLine.refund_id)
            .where(*where)
            .group_by(RefundLine.line_no)
        )
    }
    if not lines:
        return Earlier(lines={})
    sums = (
        await s.execute(
            select(
                func.coalesce(func.sum(Refund.tax_cents), 0),
                func.coalesce(func.sum(Refund.rounding_cents), 0),
                func.coalesce(func.sum(Refund.points_reversed), 0),
            ).where(*where)
        )
    ).one()
    paid: dict[str, int] = defaultdict(int)
    for tender, amount in await s.execute(
        select(RefundPayment.tender, func.sum(RefundPayment.amount_cents))
        .join(Refund, Refund.id == RefundPayment.refund_id)
        .where(*where)
        .group_by(RefundPayment.tender)
    ):
        paid[tender] += int(amount)
    if "cash" in paid:
        paid["cash"] -= int(sums[1])
    notes = (
        await s.execute(select(Refund.credit_note_no).where(*where).order_by(Refund.created_at))
    ).scalars()
    return Earlier(
        lines=lines,
        tax_cents=int(sums[0]),
        rounding_cents=int(sums[1]),
        paid=dict(paid),
        points_reversed=int(sums[2]),
        credit_notes=tuple(notes),
    )


async def _payments(s: AsyncSession, sale_id: uuid.UUID) -> list[Any]:
    return list(
        (await s.execute(select(PaymentRow).where(PaymentRow.sale_id == sale_id))).scalars()
    )


async def customer_name(s: AsyncSession, customer_id: uuid.UUID | None) -> str | None:
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
        earlier = await earlier_refunds(s, sale.id)
        refunded = earlier.lines
        payments = await _payments(s, sale.id)
        customer = await customer_name(s, sale.customer_id)
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
            refunds=list(earlier.credit_notes),
        )


def sold_sale(
    sale: Any, lines: Sequence[Any], payments: Sequence[Any], earlier: Earlier
) -> SoldSale:
    """The sale as the refund rules see it: as sold, less what ``earlier`` took back.

    ``sale``, ``lines`` and ``payments`` are this till's rows or HQ's wire models of them
    (the attributes read are the same)."""
    paid: dict[str, int] = defaultdict(int)
    for pay in payments:
        paid[pay.tender] += pay.amount_cents
    if "cash" in paid:
        paid["cash"] -= sale.rounding_cents
    return SoldSale(
        lines=tuple(
            SoldLine(
                ln.line_no,
                ln.qty,
                ln.unit_price_cents,
                ln.total_cents,
                ln.tax_code,
                *earlier.lines.get(ln.line_no, (0, 0)),
            )
            for ln in lines
        ),
        total_cents=sale.total_cents,
        tax_cents=sale.tax_cents,
        gst_rate_bp=sale.gst_rate_bp,
        rounding_cents=sale.rounding_cents,
        paid=dict(paid),
        points_earned=sale.points_earned,
        refunded_tax_cents=earlier.tax_cents,
        refunded_rounding_cents=earlier.rounding_cents,
        refunded_paid=earlier.paid,
        points_reversed=earlier.points_reversed,
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
        store, cashier = await store_and_cashier(s, request.cashier_id)
        sale = await _sale_row(s, request.receipt_no)
        lines = await _lines(s, sale.id)
        sold = sold_sale(
            sale, lines, await _payments(s, sale.id), await earlier_refunds(s, sale.id)
        )
        plan = plan_or_refuse(store, sold, request)
        await require_refund_approvals(s, store, plan.total_cents, request, at=at)
        return await finish_refund(
            s,
            Refunding(
                store=store,
                cashier_name=cashier,
                request=request,
                plan=plan,
                sale_id=sale.id,
                receipt_no=sale.receipt_no,
                customer_id=sale.customer_id,
                gst_rate_bp=sale.gst_rate_bp,
                lines=[_as_wire_line(ln) for ln in lines],
                local_sale=True,
            ),
            at=at,
        )


async def store_and_cashier(s: AsyncSession, cashier_id: uuid.UUID) -> tuple[Any, str]:
    store = (await s.execute(select(StoreSettings))).scalar_one()
    cashier: str | None = (
        await s.execute(
            select(Cashier.name).where(Cashier.id == cashier_id, Cashier.active.is_(True))
        )
    ).scalar_one_or_none()
    if cashier is None:
        raise UnknownCashierError("The cashier is not known to this till (or is inactive).")
    return store, cashier


def plan_or_refuse(store: Any, sold: SoldSale, request: RefundRequest) -> RefundPlan:
    rules = LoyaltyRules(store.loyalty_cents_per_point_earned, store.loyalty_point_value_cents)
    wanted = (
        {ln.line_no: ln.qty for ln in request.lines}
        if request.lines
        else {ln.line_no: ln.qty - ln.refunded_qty for ln in sold.lines}
    )
    if len(request.lines) != len({ln.line_no for ln in request.lines}):
        raise RefundError("Each line may appear once in a refund.")
    try:
        return plan_refund(sold, wanted, rules=rules, to_cash=request.to_cash)
    except RefundRuleError as exc:
        raise RefundError(f"Cannot refund: {exc}.") from exc


async def require_refund_approvals(
    s: AsyncSession, store: Any, amount_cents: int, request: RefundRequest, *, at: datetime
) -> None:
    needs = refund_needs(
        amount_cents, to_cash=request.to_cash, limits=limits_from_json(store.approval_limits)
    )
    await require(s, needs, request.approvals, cashier_id=request.cashier_id, at=at)


def _as_wire_line(ln: Any) -> SaleLine:
    return SaleLine(
        line_no=ln.line_no,
        product_id=ln.product_id,
        sku=ln.sku,
        name=ln.name,
        qty=ln.qty,
        unit_price_cents=ln.unit_price_cents,
        discount_cents=ln.discount_cents,
        total_cents=ln.total_cents,
        tax_code=ln.tax_code,
    )


@dataclass(frozen=True, slots=True)
class Refunding:
    """A refund worked out and approved, ready to write: own sale, HQ's, or manual."""

    store: Any
    cashier_name: str
    request: RefundRequest
    plan: RefundPlan
    sale_id: uuid.UUID | None
    """The refunded sale (None: a manual return)."""
    receipt_no: str
    customer_id: uuid.UUID | None
    gst_rate_bp: int
    lines: Sequence[SaleLine]
    """The sale's lines (a manual return's are its own), by ``line_no``."""
    local_sale: bool
    """The sale is in this till's ``sales`` (else HQ's, or none)."""


async def finish_refund(s: AsyncSession, r: Refunding, *, at: datetime) -> CreditNote:
    """Number the credit note, append ``sale.refunded`` and write its rows."""
    request, plan, store = r.request, r.plan, r.store
    approved_by = next(
        (a.manager_id for a in request.approvals if a.action in ("refund", "refund_to_cash")),
        None,
    )
    count = (await s.execute(select(func.count()).select_from(Refund))).scalar_one()
    number = credit_note_no(store.outlet_code, store.terminal_code, count + 1)
    event = _event(r, number, approved_by)
    seq = await append_event(s, "sale.refunded", event, at)
    await _write(s, event, r, seq, at)
    member = r.customer_id is not None
    return CreditNote(
        refund_id=event.refund_id,
        credit_note_no=number,
        original_receipt_no=r.receipt_no,
        created_at=at,
        store_name=store.store_name,
        address=store.address,
        gst_reg_no=store.gst_reg_no,
        cashier_name=r.cashier_name,
        customer_name=await customer_name(s, r.customer_id),
        lines=[CreditNoteLine.model_validate(ln, from_attributes=True) for ln in event.lines],
        total_cents=plan.total_cents,
        tax_cents=plan.tax_cents,
        gst_rate_bp=r.gst_rate_bp,
        rounding_cents=plan.rounding_cents,
        payments=[
            ReceiptPayment(tender=p.tender, amount_cents=p.amount_cents, tendered_cents=0)
            for p in event.payments
        ],
        points_given_back=plan.points_given_back if member else 0,
        points_taken_back=plan.points_taken_back if member else 0,
        points_balance=await _balance(s, r.customer_id),
        reason=request.reason,
        manual=r.sale_id is None,
    )


def _event(r: Refunding, number: str, approved_by: uuid.UUID | None) -> SaleRefunded:
    by_no = {ln.line_no: ln for ln in r.lines}
    plan, request = r.plan, r.request
    deltas = []
    if r.customer_id is not None:
        if plan.points_taken_back:
            deltas.append(
                LoyaltyDelta(
                    entry_id=uuid.uuid4(),
                    customer_id=r.customer_id,
                    points=-plan.points_taken_back,
                    reason="refund",
                )
            )
        if plan.points_given_back:
            deltas.append(
                LoyaltyDelta(
                    entry_id=uuid.uuid4(),
                    customer_id=r.customer_id,
                    points=plan.points_given_back,
                    reason="refund",
                )
            )
    return SaleRefunded(
        refund_id=uuid.uuid4(),
        original_sale_id=r.sale_id,
        receipt_no=r.receipt_no,
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
    s: AsyncSession, event: SaleRefunded, r: Refunding, seq: int, at: datetime
) -> None:
    plan = r.plan
    await s.execute(
        insert(Refund),
        [
            {
                "id": event.refund_id,
                "original_sale_id": r.sale_id,
                "original_receipt_no": None if r.local_sale else r.receipt_no,
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
                "points_reversed": plan.points_taken_back if r.customer_id else 0,
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
    loyalty = list(event.loyalty)
    if loyalty and not r.local_sale:  # HQ's member may not have reached this till yet
        known = set(
            (await s.execute(select(Customer.id).where(Customer.id == r.customer_id))).scalars()
        )
        loyalty = [d for d in loyalty if d.customer_id in known]
    if loyalty:
        await s.execute(
            insert(LoyaltyEntry),
            [
                {
                    "id": d.entry_id,
                    "customer_id": d.customer_id,
                    "sale_id": r.sale_id if r.local_sale else None,
                    "points": d.points,
                    "reason": d.reason,
                    "created_at": at,
                    "event_seq": seq,
                    "counted_at_hq": False,
                }
                for d in loyalty
            ],
        )
    back: dict[uuid.UUID, int] = defaultdict(int)
    for ln in event.lines:
        if ln.product_id is not None:
            back[ln.product_id] += ln.qty
    if back and not r.local_sale:  # a product HQ sold may be unknown here: no stock row
        known = set((await s.execute(select(Product.id).where(Product.id.in_(back)))).scalars())
        back = defaultdict(int, {pid: q for pid, q in back.items() if pid in known})
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


__all__ = [
    "Earlier",
    "Refunding",
    "credit_note_no",
    "customer_name",
    "earlier_refunds",
    "find_sale",
    "finish_refund",
    "plan_or_refuse",
    "refund_sale",
    "require_refund_approvals",
    "sold_sale",
    "store_and_cashier",
]
