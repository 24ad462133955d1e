"""Members (loyalty customers) at HQ: search, edit details, adjust points.

A points adjustment is a signed delta in the loyalty ledger (reason ``adjust``), moving
the balance by an atomic increment like every till's delta: never an absolute overwrite,
so a till's delta arriving at the same time is never lost. The admin's reason goes to the
audit trail with the delta. Email and address stay at HQ (the feed never carries them).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.auth import audit
from hq.sqlutil import allocate_change_seqs

MAX_ADJUST = 10_000_000
PAGE = 100


class MemberError(ValueError):
    """A request the admin can fix."""


class MemberView(BaseModel):
    customer_id: uuid.UUID
    name: str
    phone: str | None
    email: str | None
    address: str | None
    loyalty_balance: int


class LedgerLine(BaseModel):
    occurred_at: datetime
    points: int
    reason: str
    terminal_id: str | None


def _view(r: m.Customer) -> MemberView:
    return MemberView(
        customer_id=r.customer_id,
        name=r.name,
        phone=r.phone,
        email=r.email,
        address=r.address,
        loyalty_balance=r.loyalty_balance,
    )


async def search(session: AsyncSession, text: str) -> list[MemberView]:
    """Members whose name, phone or email contains ``text`` (all, by name, when empty)."""
    query = select(m.Customer).order_by(m.Customer.name).limit(PAGE)
    needle = text.strip()
    if needle:
        like = f"%{needle.lower()}%"
        query = query.where(
            or_(
                m.Customer.name.ilike(like),
                m.Customer.phone.ilike(like),
                m.Customer.email.ilike(like),
            )
        )
    return [_view(r) for r in (await session.execute(query)).scalars()]


async def get(session: AsyncSession, customer_id: uuid.UUID) -> MemberView:
    row = await session.get(m.Customer, customer_id)
    if row is None:
        raise MemberError("no such member")
    return _view(row)


async def ledger(session: AsyncSession, customer_id: uuid.UUID) -> list[LedgerLine]:
    rows = await session.execute(
        select(m.LoyaltyEntry)
        .where(m.LoyaltyEntry.customer_id == customer_id)
        .order_by(m.LoyaltyEntry.occurred_at.desc())
        .limit(500)
    )
    return [
        LedgerLine(
            occurred_at=r.occurred_at, points=r.points, reason=r.reason, terminal_id=r.terminal_id
        )
        for r in rows.scalars()
    ]


def _clean(value: str, limit: int) -> str | None:
    value = value.strip()
    if len(value) > limit:
        raise MemberError(f"{value[:20]!r}... is longer than {limit} characters")
    return value or None


async def edit(
    session: AsyncSession,
    *,
    customer_id: uuid.UUID,
    name: str,
    phone: str,
    email: str,
    address: str,
    actor: str,
) -> None:
    row = await session.get(m.Customer, customer_id, with_for_update=True)
    if row is None:
        raise MemberError("no such member")
    clean_name = _clean(name, 200)
    if clean_name is None:
        raise MemberError("a member needs a name")
    new = (clean_name, _clean(phone, 32), _clean(email, 200), _clean(address, 2000))
    if new == (row.name, row.phone, row.email, row.address):
        return
    row.name, row.phone, row.email, row.address = new
    # Name and phone reach the tills; email and address do not, but a new seq is harmless.
    (row.change_seq,) = await allocate_change_seqs(session, 1)
    await audit.record(
        session=session, username=actor, action="member.edit", target=str(customer_id)
    )


async def adjust_points(
    session: AsyncSession, *, customer_id: uuid.UUID, points: int, reason: str, actor: str
) -> int:
    """Add a signed delta with a reason; return the new balance. A balance never goes
    below zero by an adjustment."""
    reason = reason.strip()
    if not reason:
        raise MemberError("say why the points change")
    if points == 0 or abs(points) > MAX_ADJUST:
        raise MemberError(f"an adjustment is a non-zero number of points up to {MAX_ADJUST:,}")
    row = await session.get(m.Customer, customer_id, with_for_update=True)
    if row is None:
        raise MemberError("no such member")
    if row.loyalty_balance + points < 0:
        raise MemberError(f"the balance is {row.loyalty_balance}: it cannot go below zero")
    now = datetime.now(UTC)
    session.add(
        m.LoyaltyEntry(
            entry_id=uuid.uuid4(),
            customer_id=customer_id,
            points=points,
            reason="adjust",
            event_id=None,
            terminal_id=None,
            occurred_at=now,
            received_at=now,
        )
    )
    (seq,) = await allocate_change_seqs(session, 1)
    balance = (
        await session.execute(
            update(m.Customer)
            .where(m.Customer.customer_id == customer_id)
            .values(loyalty_balance=m.Customer.loyalty_balance + points, change_seq=seq)
            .returning(m.Customer.loyalty_balance)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one()
    await audit.record(
        session=session,
        username=actor,
        action="member.points",
        target=str(customer_id),
        detail=f"{points:+d} points: {reason[:500]}",
    )
    return int(balance)
