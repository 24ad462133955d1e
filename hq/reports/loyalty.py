"""Loyalty: what the points outstanding are worth, each member's balance, one member's ledger.

Points are a liability of the chain, not of an outlet (a member spends them at any till),
so these figures are chain-wide for every role. The liability counts positive balances
only: a balance below zero (points redeemed offline at two tills beyond what the member
had; see :mod:`hq.reports.overspend`) is owed by nobody and is shown apart. Its S$ value
is at the redeem rate in HQ's store settings (``loyalty_point_value_cents``).

A member's balance is the sum of their ledger; the report shows both, so a balance that
ever disagreed with its ledger would be visible at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.reports.sales import cents

PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
CSV_ROWS = 100_000
LEDGER_ROWS = 5000


class Liability(BaseModel):
    point_value_cents: int
    """S$ value of one point when redeemed (store settings; 0 when HQ has none yet)."""
    members: int
    members_with_points: int
    outstanding_points: int
    """Sum of the positive balances: what the chain owes its members."""
    outstanding_cents: int
    negative_members: int
    negative_points: int
    """Sum of the balances below zero (as a negative number)."""


class MemberBalance(BaseModel):
    customer_id: uuid.UUID
    name: str
    phone: str | None
    balance: int
    value_cents: int
    entries: int
    last_activity: datetime | None


class LoyaltyReport(BaseModel):
    liability: Liability
    search: str
    page: int
    pages: int
    size: int
    matching: int
    rows: list[MemberBalance]

    def table(self) -> tuple[list[str], list[list[Any]]]:
        head = ["customer_id", "name", "phone", "balance_points", "value", "entries",
                "last_activity"]  # fmt: skip
        return head, [
            [str(r.customer_id), r.name, r.phone or "", r.balance, cents(r.value_cents), r.entries,
             r.last_activity.isoformat() if r.last_activity else ""]
            for r in self.rows
        ]  # fmt: skip


class LedgerRow(BaseModel):
    entry_id: uuid.UUID
    occurred_at: datetime
    received_at: datetime
    points: int
    """The signed delta."""
    reason: str
    """earn, redeem, refund or adjust (an adjustment made at HQ has no event)."""
    event_id: uuid.UUID | None
    event_type: str | None
    terminal_id: str | None
    terminal_seq: int | None
    balance_after: int
    """The running balance in the order HQ applied the deltas."""


class MemberLedger(BaseModel):
    customer_id: uuid.UUID
    name: str
    phone: str | None
    balance: int
    """The member's stored balance."""
    ledger_sum: int
    """The sum of every delta; equal to ``balance`` unless the store is damaged."""
    value_cents: int
    rows: list[LedgerRow]
    """Oldest first, in the order HQ applied them."""
    truncated: bool

    def table(self) -> tuple[list[str], list[list[Any]]]:
        head = ["entry_id", "occurred_at", "received_at", "points", "reason", "event_id",
                "event_type", "terminal", "seq", "balance_after"]  # fmt: skip
        return head, [
            [str(r.entry_id), r.occurred_at.isoformat(), r.received_at.isoformat(), r.points,
             r.reason, str(r.event_id or ""), r.event_type or "", r.terminal_id or "",
             "" if r.terminal_seq is None else r.terminal_seq, r.balance_after]
            for r in self.rows
        ]  # fmt: skip


class UnknownMember(LookupError):
    pass


async def point_value_cents(session: AsyncSession) -> int:
    value = (
        await session.execute(select(m.StoreSettings.loyalty_point_value_cents).limit(1))
    ).scalar_one_or_none()
    return int(value or 0)


async def liability(*, session: AsyncSession) -> Liability:
    bal = m.Customer.loyalty_balance
    row = (
        await session.execute(
            select(
                func.count(),
                func.sum(case((bal > 0, 1), else_=0)),
                func.sum(case((bal > 0, bal), else_=0)),
                func.sum(case((bal < 0, 1), else_=0)),
                func.sum(case((bal < 0, bal), else_=0)),
            ).select_from(m.Customer)
        )
    ).one()
    value = await point_value_cents(session)
    outstanding = int(row[2] or 0)
    return Liability(
        point_value_cents=value,
        members=int(row[0] or 0),
        members_with_points=int(row[1] or 0),
        outstanding_points=outstanding,
        outstanding_cents=outstanding * value,
        negative_members=int(row[3] or 0),
        negative_points=int(row[4] or 0),
    )


def _matching(search: str) -> Any:
    needle = search.strip().lower()
    if not needle:
        return None
    like = f"%{needle}%"
    return or_(
        func.lower(m.Customer.name).like(like),
        m.Customer.phone.like(like),
        func.lower(func.coalesce(m.Customer.email, "")).like(like),
    )


async def loyalty(
    *, session: AsyncSession, search: str = "", page: int = 1, size: int = PAGE_SIZE
) -> LoyaltyReport:
    """The liability, and one page of members (largest balance first) matching ``search``
    in name, phone or email."""
    found = await liability(session=session)
    where = _matching(search)
    kept = m.Customer.merged_into.is_(None)  # a merged duplicate lives on in its survivor
    count = select(func.count()).select_from(m.Customer).where(kept)
    if where is not None:
        count = count.where(where)
    matching = int((await session.execute(count)).scalar_one())
    size = min(max(size, 1), CSV_ROWS)
    pages = max(1, -(-matching // size))
    page = min(max(page, 1), pages)
    entries = (
        select(
            m.LoyaltyEntry.customer_id,
            func.count().label("n"),
            func.max(m.LoyaltyEntry.occurred_at).label("last"),
        )
        .group_by(m.LoyaltyEntry.customer_id)
        .subquery()
    )
    stmt = (
        select(
            m.Customer.customer_id,
            m.Customer.name,
            m.Customer.phone,
            m.Customer.loyalty_balance,
            entries.c.n,
            entries.c.last,
        )
        .outerjoin(entries, entries.c.customer_id == m.Customer.customer_id)
        .where(kept)
        .order_by(m.Customer.loyalty_balance.desc(), m.Customer.name, m.Customer.customer_id)
        .offset((page - 1) * size)
        .limit(size)
    )
    if where is not None:
        stmt = stmt.where(where)
    rows = [
        MemberBalance(
            customer_id=r.customer_id,
            name=r.name,
            phone=r.phone,
            balance=int(r.loyalty_balance),
            value_cents=int(r.loyalty_balance) * found.point_value_cents,
            entries=int(r.n or 0),
            last_activity=r.last,
        )
        for r in await session.execute(stmt)
    ]
    return LoyaltyReport(
        liability=found,
        search=search.strip(),
        page=page,
        pages=pages,
        size=size,
        matching=matching,
        rows=rows,
    )


def applied_order() -> tuple[Any, ...]:
    """The order HQ applied ledger deltas: by when they arrived, then each terminal's own
    sequence; within one event, additions before deductions (one event moves a balance
    in one step, so its intermediate order must never show a dip that did not happen)."""
    return (
        m.LoyaltyEntry.received_at,
        func.coalesce(m.LoyaltyEntry.terminal_id, ""),
        func.coalesce(m.Event.terminal_seq, 0),
        m.LoyaltyEntry.points.desc(),
        m.LoyaltyEntry.entry_id,
    )


async def member_ledger(*, session: AsyncSession, customer_id: uuid.UUID) -> MemberLedger:
    member = await session.get(m.Customer, customer_id)
    if member is None:
        raise UnknownMember(f"no member {customer_id}")
    value = await point_value_cents(session)
    stmt = (
        select(m.LoyaltyEntry, m.Event.type, m.Event.terminal_seq)
        .outerjoin(m.Event, m.Event.event_id == m.LoyaltyEntry.event_id)
        .where(m.LoyaltyEntry.customer_id == customer_id)
        .order_by(*applied_order())
    )
    rows: list[LedgerRow] = []
    running = 0
    for r in await session.execute(stmt):
        e = r.LoyaltyEntry
        running += e.points
        rows.append(
            LedgerRow(
                entry_id=e.entry_id,
                occurred_at=e.occurred_at,
                received_at=e.received_at,
                points=e.points,
                reason=e.reason,
                event_id=e.event_id,
                event_type=r.type,
                terminal_id=e.terminal_id,
                terminal_seq=r.terminal_seq,
                balance_after=running,
            )
        )
    truncated = len(rows) > LEDGER_ROWS
    return MemberLedger(
        customer_id=member.customer_id,
        name=member.name,
        phone=member.phone,
        balance=member.loyalty_balance,
        ledger_sum=running,
        value_cents=member.loyalty_balance * value,
        rows=rows[-LEDGER_ROWS:],
        truncated=truncated,
    )
