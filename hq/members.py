"""Members (loyalty customers) at HQ: search, create, edit details, adjust points, merge.

A points adjustment is a signed delta in the loyalty ledger (reason ``adjust``), moving
the balance by an atomic increment like every till's delta: never an absolute overwrite,
so a till's delta arriving at the same time is never lost. The admin's reason goes to the
audit trail with the delta. Email and address stay at HQ (the feed never carries them).

A new member's phone must be free, as at the tills (a merged member's phone is free).
Every write takes its change seq first: that locks the change counter, so HQ's own member
writes run one at a time (two creates cannot both take a phone) and lock customer rows
after the counter, in the same order as ingest, never in a cycle with it.

Merging duplicate B into A, in one transaction: B's balance moves to A by two signed
ledger entries (``merged out`` on B, ``merged in`` on A) and atomic increments; HQ's
sales and refunds naming B name A; B keeps its row, marked ``merged_into`` A, hidden from
search and sent to the tills as "(merged)" without a phone (:func:`hq.changes.customer_record`).
A till's later events naming B are accepted and land on A (:mod:`hq.ingest`).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hq import fields
from hq import models as m
from hq.auth import audit
from hq.sqlutil import allocate_change_seqs

MAX_ADJUST = 10_000_000
PAGE = 100


_PHONE = re.compile(r"^\+?\d[\d ]{5,30}$")
"""The tills' rule for a member's phone (terminal.services.customers)."""


class MemberError(ValueError):
    """A request the admin can fix."""


class PhoneTaken(MemberError):
    """The phone already belongs to a member (named, so the page can link to them)."""

    def __init__(self, phone: str, owner_id: uuid.UUID, owner_name: str) -> None:
        super().__init__(f"phone {phone} already belongs to {owner_name}")
        self.owner_id = owner_id
        self.owner_name = owner_name


class MergeResult(BaseModel):
    points: int
    """B's balance, moved to A."""
    sales: int
    """HQ's sales and refunds re-pointed from B to A."""


class MemberView(BaseModel):
    customer_id: uuid.UUID
    name: str
    phone: str | None
    email: str | None
    address: str | None
    loyalty_balance: int
    merged_into: uuid.UUID | None = None


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
        merged_into=r.merged_into,
    )


def normalise_phone(phone: str) -> str:
    """As the tills store it: no spaces, no +65."""
    number = phone.replace(" ", "").removeprefix("+65")
    if not _PHONE.match(number):
        raise MemberError(f"{number[:40]!r} is not a phone number: type digits, e.g. 91234567")
    return number


async def _refuse_taken(
    session: AsyncSession, phone: str, *, other_than: uuid.UUID | None = None
) -> None:
    query = select(m.Customer.customer_id, m.Customer.name).where(
        m.Customer.phone == phone, m.Customer.merged_into.is_(None)
    )
    if other_than is not None:
        query = query.where(m.Customer.customer_id != other_than)
    found = (await session.execute(query.order_by(m.Customer.name).limit(1))).first()
    if found is not None:
        raise PhoneTaken(phone, found.customer_id, found.name)


async def search(session: AsyncSession, text: str) -> list[MemberView]:
    """Members whose name, phone or email contains ``text`` (all, by name, when empty);
    never a member merged into another."""
    query = (
        select(m.Customer)
        .where(m.Customer.merged_into.is_(None))
        .order_by(m.Customer.name)
        .limit(PAGE)
    )
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


async def _live(session: AsyncSession, customer_id: uuid.UUID) -> m.Customer:
    """The member's row, locked; refused if unknown or merged into another."""
    row = await session.get(m.Customer, customer_id, with_for_update=True)
    if row is None:
        raise MemberError("no such member")
    if row.merged_into is not None:
        raise MemberError("this member was merged into another: change that one")
    return row


def _clean(value: str, limit: int) -> str | None:
    value = value.strip()
    if len(value) > limit:
        raise MemberError(f"{value[:20]!r}... is longer than {limit} characters")
    return value or None


def _email(value: str, *, was: str | None) -> str | None:
    """The typed email, checked unless it is the one already on file (kept as it is)."""
    if value.strip() == (was or ""):
        return was
    try:
        return fields.email(value)
    except fields.FieldError as exc:
        raise MemberError(str(exc)) from None


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
    clean_name = _clean(name, 200)
    if clean_name is None:
        raise MemberError("a member needs a name")
    # Name and phone reach the tills; email and address do not, but a new seq is harmless.
    (seq,) = await allocate_change_seqs(session, 1)
    row = await _live(session, customer_id)
    typed = _clean(phone, 32)
    if typed is None and row.phone is not None:
        raise MemberError("a member keeps a phone: the tills find members by it")
    number = None if typed is None else normalise_phone(typed)
    new = (clean_name, number, _email(email, was=row.email), _clean(address, 2000))
    if new == (row.name, row.phone, row.email, row.address):
        return
    if new[1] is not None and new[1] != row.phone:
        await _refuse_taken(session, new[1], other_than=customer_id)
    row.name, row.phone, row.email, row.address = new
    row.change_seq = seq
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
    (seq,) = await allocate_change_seqs(session, 1)
    row = await _live(session, customer_id)
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


async def create(
    session: AsyncSession, *, name: str, phone: str, email: str, actor: str
) -> uuid.UUID:
    """A new member with a free phone and a zero balance, sent to every till at its next
    pull (a fresh change seq). Returns the new member's id."""
    clean_name = " ".join(name.split())
    if not clean_name:
        raise MemberError("a member needs a name")
    if len(clean_name) > 200:
        raise MemberError("a name is at most 200 characters")
    number = normalise_phone(phone)
    clean_email = _email(email, was=None)
    (seq,) = await allocate_change_seqs(session, 1)
    await _refuse_taken(session, number)
    customer_id = uuid.uuid4()
    session.add(
        m.Customer(
            customer_id=customer_id,
            name=clean_name,
            phone=number,
            email=clean_email,
            address=None,
            loyalty_balance=0,
            placeholder=False,
            change_seq=seq,
            merged_into=None,
        )
    )
    await audit.record(
        session=session,
        username=actor,
        action="member.create",
        target=str(customer_id),
        detail=clean_name,
    )
    return customer_id


async def find_target(session: AsyncSession, text: str, *, source_id: uuid.UUID) -> uuid.UUID:
    """The member to merge into, by id or by phone (not ``source_id``, not merged)."""
    needle = text.strip()
    if not needle:
        raise MemberError("say which member to merge into: their phone, or pick them")
    try:
        return uuid.UUID(needle)
    except ValueError:
        pass
    number = normalise_phone(needle)
    found = list(
        (
            await session.execute(
                select(m.Customer.customer_id).where(
                    m.Customer.phone == number,
                    m.Customer.merged_into.is_(None),
                    m.Customer.customer_id != source_id,
                )
            )
        ).scalars()
    )
    if not found:
        raise MemberError(f"no other member has phone {number}")
    if len(found) > 1:
        raise MemberError(f"{len(found)} members have phone {number}: pick one from the search")
    return found[0]


async def merge(
    session: AsyncSession, *, source_id: uuid.UUID, target_id: uuid.UUID, actor: str
) -> MergeResult:
    """Merge duplicate ``source_id`` (B) into ``target_id`` (A), in the caller's
    transaction: B's balance moves to A by signed ledger entries, HQ's sales naming B name
    A, B is marked merged. A's balance after is exactly A's before plus B's before."""
    if source_id == target_id:
        raise MemberError("a member cannot be merged into itself")
    seq_a, seq_b = await allocate_change_seqs(session, 2)
    rows = {
        r.customer_id: r
        for r in (
            await session.execute(
                select(m.Customer)
                .where(m.Customer.customer_id.in_([source_id, target_id]))
                .order_by(m.Customer.customer_id)
                .with_for_update()
            )
        ).scalars()
    }
    source, target = rows.get(source_id), rows.get(target_id)
    if source is None or target is None:
        raise MemberError("no such member")
    if source.merged_into is not None:
        raise MemberError("this member was already merged into another")
    if target.merged_into is not None:
        raise MemberError(f"{target.name} was itself merged into another member: pick that one")
    points, a_before = source.loyalty_balance, target.loyalty_balance
    now = datetime.now(UTC)
    if points:
        for customer_id, delta, reason in (
            (source_id, -points, "merged out"),
            (target_id, points, "merged in"),
        ):
            session.add(
                m.LoyaltyEntry(
                    entry_id=uuid.uuid4(), customer_id=customer_id, points=delta,
                    reason=reason, event_id=None, terminal_id=None, occurred_at=now,
                    received_at=now,
                )
            )  # fmt: skip
    sales = int(
        await session.scalar(
            select(func.count()).select_from(m.Sale).where(m.Sale.customer_id == source_id)
        )
        or 0
    )
    for customer_id, delta, seq, merged_into in (
        (target_id, points, seq_a, None),
        (source_id, -points, seq_b, target_id),
    ):
        await session.execute(
            update(m.Customer)
            .where(m.Customer.customer_id == customer_id)
            .values(
                loyalty_balance=m.Customer.loyalty_balance + delta,
                change_seq=seq,
                merged_into=merged_into,
            )
            .execution_options(synchronize_session=False)
        )
    # Members merged into B earlier now point at A, so a till's event naming them lands
    # on A in one step.
    await session.execute(
        update(m.Customer)
        .where(m.Customer.merged_into == source_id)
        .values(merged_into=target_id)
        .execution_options(synchronize_session=False)
    )
    if sales:
        await session.execute(
            update(m.Sale)
            .where(m.Sale.customer_id == source_id)
            .values(customer_id=target_id)
            .execution_options(synchronize_session=False)
        )
    await audit.record(
        session=session,
        username=actor,
        action="member.merge",
        target=str(target_id),
        detail=(
            f"{source_id} ({source.name[:100]}) merged into {target_id} ({target.name[:100]}): "
            f"{points:+d} points moved, balances {points} and {a_before} before, 0 and "
            f"{a_before + points} after; {sales} sales re-pointed"
        ),
    )
    return MergeResult(points=points, sales=sales)
