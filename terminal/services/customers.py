"""Loyalty customers at the till: find by phone or name, create, show a balance.

A balance is never stored as truth here (DESIGN invariant 5): it is HQ's last pulled
balance plus this till's ledger deltas HQ has not counted yet.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from sqlalchemy import Select, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from sync.protocol import CustomerCreated
from terminal.db.engine import Database
from terminal.db.models import Customer, LoyaltyEntry, StoreSettings
from terminal.services.errors import NotFoundError, TillError
from terminal.services.outbox import append_event
from terminal.services.schemas import CustomerView, PointsAccount
from terminal.services.uow import reading, writing

_PHONE = re.compile(r"^\+?\d[\d ]{5,30}$")
"""At most 32 characters: the wire's bound on a phone (sync.protocol)."""
MAX_NAME = 200
"""The wire's bound on a name (sync.protocol): a longer one would be refused at HQ."""


class CustomerInputError(TillError):
    """What was typed for a new member is wrong; ``field`` says which ("name", "phone")."""

    code = "customer_input"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def _balance() -> ColumnElement[int]:
    uncounted = (
        select(func.coalesce(func.sum(LoyaltyEntry.points), 0))
        .where(LoyaltyEntry.customer_id == Customer.id, LoyaltyEntry.counted_at_hq.is_(False))
        .scalar_subquery()
    )
    return (Customer.hq_balance + uncounted).label("balance")


def _select() -> Select[uuid.UUID, str, str | None, int]:
    return select(Customer.id, Customer.name, Customer.phone, _balance())


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def find_customers(db: Database, text: str, *, limit: int = 20) -> list[CustomerView]:
    """Customers whose phone starts with ``text`` (digits) or whose name contains it."""
    needle = text.strip()
    if not needle:
        return []
    digits = needle.replace(" ", "").removeprefix("+65")
    cond: ColumnElement[bool]
    if digits.isdigit():
        cond = Customer.phone.like(f"{_like(digits)}%", escape="\\")
    else:
        cond = Customer.search_name.like(f"%{_like(needle.lower())}%", escape="\\")
    async with reading(db) as s:
        rows = (await s.execute(_select().where(cond).order_by(Customer.name).limit(limit))).all()
    return [CustomerView.model_validate(r, from_attributes=True) for r in rows]


async def get_customer(db: Database, customer_id: uuid.UUID) -> CustomerView:
    async with reading(db) as s:
        customer = await customer_in(s, customer_id)
    if customer is None:
        raise NotFoundError("That loyalty customer is not known to this till.")
    return customer


async def points_account(db: Database, customer_id: uuid.UUID) -> PointsAccount:
    """The member's balance as of now and the store's redeem rate, in one read.

    Read when payment starts rather than taken from the member attached earlier: a
    sale or refund for the same member since then has moved the balance.
    """
    async with reading(db) as s:
        customer = await customer_in(s, customer_id)
        value = (
            await s.execute(select(StoreSettings.loyalty_point_value_cents))
        ).scalar_one_or_none()
    if customer is None:
        raise NotFoundError("That loyalty customer is not known to this till.")
    return PointsAccount(customer=customer, point_value_cents=value or 1)


async def customer_in(s: AsyncSession, customer_id: uuid.UUID) -> CustomerView | None:
    """The customer (with balance) read in the caller's unit of work, or None."""
    row = (await s.execute(_select().where(Customer.id == customer_id))).first()
    return None if row is None else CustomerView.model_validate(row, from_attributes=True)


async def create_customer(
    db: Database, *, name: str, phone: str, now: datetime | None = None
) -> CustomerView:
    """Create a customer at the till and queue ``customer.created`` for HQ, atomically."""
    at = now or datetime.now(UTC)
    name = " ".join(name.split())
    phone = phone.replace(" ", "").removeprefix("+65")
    if not name:
        raise CustomerInputError("Type the customer's name.", field="name")
    if len(name) > MAX_NAME:
        raise CustomerInputError(f"A name is at most {MAX_NAME} characters.", field="name")
    if not _PHONE.match(phone):
        raise CustomerInputError(
            f"{phone!r} is not a phone number: type digits, e.g. 91234567.", field="phone"
        )
    async with writing(db) as s:
        taken = (
            await s.execute(select(Customer.name).where(Customer.phone == phone))
        ).scalar_one_or_none()
        if taken is not None:
            raise CustomerInputError(
                f"Phone {phone} already belongs to {taken}: Esc, then find them with F3.",
                field="phone",
            )
        customer_id = uuid.uuid4()
        await s.execute(
            insert(Customer),
            [
                {
                    "id": customer_id,
                    "name": name,
                    "search_name": name.lower(),
                    "phone": phone,
                    "email": None,
                    "hq_balance": 0,
                }
            ],
        )
        await append_event(
            s,
            "customer.created",
            CustomerCreated(customer_id=customer_id, name=name, phone=phone),
            at,
        )
    return CustomerView(id=customer_id, name=name, phone=phone, balance=0)
