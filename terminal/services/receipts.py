"""Past receipts: find them by number, day or member, and rebuild one for a reprint.

A reprint is rebuilt from the sale's own rows (what the checkout wrote from the event
HQ was sent), so it shows exactly what was sold; the printer marks it a copy. Days are
Singapore days (receipts show Singapore time; the store keeps UTC).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone

from sqlalchemy import func, select

from terminal.db.engine import Database
from terminal.db.models import (
    Cashier,
    Customer,
    PaymentRow,
    Refund,
    Sale,
    SaleLineRow,
    StoreSettings,
)
from terminal.services.errors import NotFoundError
from terminal.services.schemas import Receipt, ReceiptLine, ReceiptPayment, ReceiptSummary
from terminal.services.uow import reading

SGT = timezone(timedelta(hours=8), "SGT")


async def find_receipts(
    db: Database,
    *,
    receipt_no: str | None = None,
    day: date | None = None,
    customer_id: uuid.UUID | None = None,
    limit: int = 50,
) -> list[ReceiptSummary]:
    """Newest first; every filter given must match."""
    refunded = (
        select(func.coalesce(func.sum(Refund.total_cents), 0))
        .where(Refund.original_sale_id == Sale.id)
        .scalar_subquery()
    )
    query = (
        select(Sale.id, Sale.receipt_no, Sale.created_at, Customer.name, Sale.total_cents, refunded)
        .outerjoin(Customer, Customer.id == Sale.customer_id)
        .order_by(Sale.receipt_seq.desc())
        .limit(limit)
    )
    if receipt_no:
        query = query.where(Sale.receipt_no == receipt_no.strip().upper())
    if customer_id is not None:
        query = query.where(Sale.customer_id == customer_id)
    if day is not None:
        start = datetime.combine(day, time(), SGT).astimezone(UTC)
        query = query.where(Sale.created_at >= start, Sale.created_at < start + timedelta(days=1))
    async with reading(db) as s:
        rows = (await s.execute(query)).all()
    return [
        ReceiptSummary(
            sale_id=r[0],
            receipt_no=r[1],
            created_at=r[2],
            customer_name=r[3],
            total_cents=r[4],
            refunded_cents=int(r[5]),
        )
        for r in rows
    ]


async def receipt_copy(db: Database, receipt_no: str) -> Receipt:
    """The receipt of a past sale, for a reprint (the balance shown is today's)."""
    async with reading(db) as s:
        sale = (
            await s.execute(select(Sale).where(Sale.receipt_no == receipt_no.strip().upper()))
        ).scalar_one_or_none()
        if sale is None:
            raise NotFoundError(f"No sale {receipt_no} in this till's history.")
        store = (await s.execute(select(StoreSettings))).scalar_one()
        cashier = (
            await s.execute(select(Cashier.name).where(Cashier.id == sale.cashier_id))
        ).scalar_one()
        customer = None
        if sale.customer_id is not None:
            customer = (
                await s.execute(select(Customer.name).where(Customer.id == sale.customer_id))
            ).scalar_one_or_none()
        lines = (
            (
                await s.execute(
                    select(SaleLineRow)
                    .where(SaleLineRow.sale_id == sale.id)
                    .order_by(SaleLineRow.line_no)
                )
            )
            .scalars()
            .all()
        )
        payments = (
            (await s.execute(select(PaymentRow).where(PaymentRow.sale_id == sale.id)))
            .scalars()
            .all()
        )
        return Receipt(
            sale_id=sale.id,
            receipt_no=sale.receipt_no,
            created_at=sale.created_at,
            store_name=store.store_name,
            address=store.address,
            gst_reg_no=store.gst_reg_no,
            cashier_name=cashier,
            customer_name=customer,
            lines=[ReceiptLine.model_validate(ln, from_attributes=True) for ln in lines],
            subtotal_cents=sale.subtotal_cents,
            discount_cents=sale.discount_cents,
            total_cents=sale.total_cents,
            tax_cents=sale.tax_cents,
            gst_rate_bp=sale.gst_rate_bp,
            rounding_cents=sale.rounding_cents,
            payments=[
                ReceiptPayment(
                    tender=p.tender,
                    amount_cents=p.amount_cents,
                    tendered_cents=p.tendered_cents,
                    reference=p.reference,
                )
                for p in payments
            ],
            change_cents=sale.change_cents,
            points_earned=sale.points_earned,
            points_redeemed=sale.points_redeemed,
            points_balance=None,
        )
