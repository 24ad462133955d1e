"""Parking a cart (customer walks off to fetch something) and recalling it later.

A parked cart stores product ids, quantities, line discounts, price overrides, the
manager approvals of both and the age checks: on recall the products are re-read from
the catalog, so a price HQ changed meanwhile is the price charged (unless the line's
price was overridden: that price was approved and stays), and a product withdrawn
meanwhile is named rather than silently sold. Carts parked before the overrides,
approvals and age checks were stored recall without them.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select

from terminal.db.engine import Database
from terminal.db.models import Customer, ParkedSale
from terminal.services.catalog import products_in
from terminal.services.customers import customer_in
from terminal.services.errors import EmptyCartError, NotFoundError, TillError
from terminal.services.schemas import (
    ApprovalView,
    CustomerView,
    ParkedCart,
    ParkedItem,
    ParkedSaleView,
)
from terminal.services.uow import reading, writing


class ParkedSaleError(TillError):
    code = "parked_sale"


async def park_sale(
    db: Database,
    *,
    cashier_id: uuid.UUID,
    items: list[ParkedItem],
    customer: CustomerView | None = None,
    label: str = "",
    now: datetime | None = None,
    sale_approval: ApprovalView | None = None,
    sale_discount_approved: int = 0,
) -> ParkedSaleView:
    """Store the cart; the caller clears its screen only after this returns.

    ``sale_approval``: a manager's approval of the sale's discounts over the sale limit,
    up to ``sale_discount_approved`` cents; it is recalled with the cart."""
    if not items:
        raise EmptyCartError("The cart is empty: there is nothing to park.")
    at = now or datetime.now(UTC)
    parked_id = uuid.uuid4()
    total = sum(i.qty * i.unit_price_cents - i.discount_cents for i in items)
    first = items[0].product.name
    text = label.strip() or (first if len(items) == 1 else f"{first} +{len(items) - 1}")
    body = {
        "customer_id": str(customer.id) if customer else None,
        "total_cents": total,
        "sale_approval": _approval_json(sale_approval),
        "sale_discount_approved": sale_discount_approved if sale_approval is not None else 0,
        "items": [
            {
                "product_id": str(i.product.id),
                "sku": i.product.sku,
                "qty": i.qty,
                "discount_cents": i.discount_cents,
                "approval": _approval_json(i.approval),
                "override_cents": i.override_cents,
                "override_approval": _approval_json(i.override_approval),
                "age_checked": i.age_checked,
            }
            for i in items
        ],
    }
    async with writing(db) as s:
        await s.execute(
            insert(ParkedSale),
            [
                {
                    "id": parked_id,
                    "cashier_id": cashier_id,
                    "parked_at": at,
                    "label": text[:100],
                    "cart_json": json.dumps(body),
                }
            ],
        )
    return ParkedSaleView(
        id=parked_id,
        label=text[:100],
        parked_at=at,
        cashier_id=cashier_id,
        item_count=sum(i.qty for i in items),
        total_cents=total,
        customer_name=customer.name if customer else None,
    )


async def list_parked(db: Database) -> list[ParkedSaleView]:
    """Every parked cart on this till, oldest first."""
    async with reading(db) as s:
        rows = (
            await s.execute(
                select(
                    ParkedSale.id,
                    ParkedSale.label,
                    ParkedSale.parked_at,
                    ParkedSale.cashier_id,
                    ParkedSale.cart_json,
                ).order_by(ParkedSale.parked_at)
            )
        ).all()
        bodies = [json.loads(r.cart_json) for r in rows]
        member_ids = {uuid.UUID(b["customer_id"]) for b in bodies if b.get("customer_id")}
        names: dict[uuid.UUID, str] = {}
        if member_ids:
            query = select(Customer.id, Customer.name).where(Customer.id.in_(member_ids))
            names = {r.id: r.name for r in await s.execute(query)}
    out = []
    for r, body in zip(rows, bodies, strict=True):
        member = body.get("customer_id")
        out.append(
            ParkedSaleView(
                id=r.id,
                label=r.label,
                parked_at=r.parked_at,
                cashier_id=r.cashier_id,
                item_count=sum(int(i["qty"]) for i in body["items"]),
                total_cents=int(body["total_cents"]),
                customer_name=names.get(uuid.UUID(member)) if member else None,
            )
        )
    return out


async def recall_sale(db: Database, parked_id: uuid.UUID) -> ParkedCart:
    """Take a parked cart back: read it, its products and customer, and remove it.

    All in ONE unit of work: if anything fails (or the caller is cancelled) before
    COMMIT, the parked sale is still there to recall again; after COMMIT the caller
    has the whole cart in hand.
    """
    async with writing(db) as s:
        row = (
            await s.execute(
                select(ParkedSale.label, ParkedSale.cart_json).where(ParkedSale.id == parked_id)
            )
        ).first()
        if row is None:
            raise NotFoundError("That parked sale was already recalled.")
        try:
            body = json.loads(row.cart_json)
            wanted = [_stored_line(i) for i in body["items"]]
            customer_id = uuid.UUID(body["customer_id"]) if body.get("customer_id") else None
            sale_approval = body.get("sale_approval")  # absent in carts parked before
            approved = ApprovalView.model_validate(sale_approval) if sale_approval else None
            approved_cents = int(body.get("sale_discount_approved") or 0)
        except (ValueError, KeyError, TypeError) as exc:
            raise ParkedSaleError(
                "That parked sale is damaged and cannot be recalled: scan the items again."
            ) from exc
        products = await products_in(s, [w.product_id for w in wanted])
        customer = await customer_in(s, customer_id) if customer_id is not None else None
        await s.execute(delete(ParkedSale).where(ParkedSale.id == parked_id))
    items: list[ParkedItem] = []
    missing: list[str] = []
    for line in wanted:
        product = products.get(line.product_id)
        if product is None:
            missing.append(line.sku)
            continue
        items.append(
            ParkedItem(
                product=product,
                qty=line.qty,
                discount_cents=line.discount_cents,
                approval=line.approval,
                override_cents=line.override_cents,
                override_approval=line.override_approval,
                age_checked=line.age_checked,
            )
        )
    return ParkedCart(
        id=parked_id,
        label=row.label,
        customer=customer,
        items=items,
        missing=missing,
        sale_approval=approved,
        sale_discount_approved=approved_cents if approved is not None else 0,
    )


@dataclass(frozen=True, slots=True)
class _StoredLine:
    """One line of a parked cart as stored, before its product is read again."""

    product_id: uuid.UUID
    sku: str
    qty: int
    discount_cents: int
    approval: ApprovalView | None
    override_cents: int | None
    override_approval: ApprovalView | None
    age_checked: bool


def _approval_json(approval: ApprovalView | None) -> dict[str, Any] | None:
    return approval.model_dump(mode="json") if approval is not None else None


def _stored_line(item: dict[str, Any]) -> _StoredLine:
    """A stored line; the keys after ``discount_cents`` are absent in older parked carts.

    Raises ValueError, KeyError or TypeError for a line that is not one.
    """
    approval = item.get("approval")
    override = item.get("override_cents")
    override_approval = item.get("override_approval")
    return _StoredLine(
        product_id=uuid.UUID(item["product_id"]),
        sku=str(item["sku"]),
        qty=int(item["qty"]),
        discount_cents=int(item["discount_cents"]),
        approval=ApprovalView.model_validate(approval) if approval is not None else None,
        override_cents=int(override) if override is not None else None,
        override_approval=(
            ApprovalView.model_validate(override_approval)
            if override_approval is not None
            else None
        ),
        age_checked=bool(item.get("age_checked", False)),
    )
