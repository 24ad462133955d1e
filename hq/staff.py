"""Staff at HQ: cashiers and managers per outlet, their PINs, and the approval limits.

PINs are hashed here with the slow hash the tills check (:mod:`sync.pins`); only the hash
is stored or sent. Every change stamps a fresh change_seq so the tills pull it, and is
written to the admin audit trail in the same unit of work. Reassigning a person to another
outlet also records a :class:`~hq.models.FeedRemoval` for the old scope, at a lower seq
than the person's new state, so the old outlet's tills drop them.
"""

from __future__ import annotations

import asyncio
import uuid

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.auth import audit
from hq.sqlutil import allocate_change_seqs
from sync import protocol as p
from sync.pins import hash_pin, verify_pin

ROLES = ("cashier", "manager")
MIN_PIN = {"cashier": 4, "manager": 6}
MAX_PIN = 12


class StaffError(ValueError):
    """A request the admin can fix (bad PIN, unknown outlet or person)."""


class StaffView(BaseModel):
    cashier_id: uuid.UUID
    name: str
    role: str
    outlet_code: str | None
    active: bool


def check_pin(pin: str, role: str) -> None:
    if role not in ROLES:
        raise StaffError(f"role must be one of {', '.join(ROLES)}")
    if not pin.isascii() or not pin.isdigit():
        raise StaffError("a PIN is digits only")
    if not MIN_PIN[role] <= len(pin) <= MAX_PIN:
        raise StaffError(f"a {role}'s PIN has {MIN_PIN[role]} to {MAX_PIN} digits")


async def _refuse_taken_pin(
    session: AsyncSession, pin: str, outlet_code: str | None, cashier_id: uuid.UUID | None = None
) -> None:
    """Refuse a PIN another active person on the same tills already has.

    A till tells people apart by PIN alone, so two people sharing one would each log in
    as whichever the till checks first, and sales and approvals would carry the wrong
    name. The people on the same tills as ``outlet_code`` are that outlet's and those of
    every outlet (all people, for someone of every outlet). Each stored hash is slow to
    check (~40 ms, in a thread), which an admin setting a PIN can wait for. The person
    who has it is not named: the admin choosing a PIN needs no one else's.
    """
    query = select(m.Cashier.pin_hash).where(m.Cashier.active.is_(True))
    if outlet_code is not None:
        query = query.where(
            or_(m.Cashier.outlet_code == outlet_code, m.Cashier.outlet_code.is_(None))
        )
    if cashier_id is not None:
        query = query.where(m.Cashier.cashier_id != cashier_id)
    hashes = list((await session.execute(query)).scalars())
    if await asyncio.to_thread(lambda: any(verify_pin(pin, h) for h in hashes)):
        where = f"at {outlet_code}" if outlet_code else "on the same tills"
        raise StaffError(
            f"another person {where} already has this PIN: choose another (a till tells "
            "people apart by their PIN)"
        )


def _view(row: m.Cashier) -> StaffView:
    return StaffView(
        cashier_id=row.cashier_id,
        name=row.name,
        role=row.role,
        outlet_code=row.outlet_code,
        active=row.active,
    )


async def _outlet_exists(session: AsyncSession, code: str | None) -> None:
    if code is not None and await session.get(m.Outlet, code) is None:
        raise StaffError(f"no outlet {code!r}")


async def _get(session: AsyncSession, cashier_id: uuid.UUID) -> m.Cashier:
    row = await session.get(m.Cashier, cashier_id, with_for_update=True)
    if row is None:
        raise StaffError("no such cashier")
    return row


async def list_staff(session: AsyncSession, *, outlet_code: str | None = None) -> list[StaffView]:
    query = select(m.Cashier).order_by(m.Cashier.outlet_code, m.Cashier.name)
    if outlet_code is not None:
        query = query.where(m.Cashier.outlet_code == outlet_code)
    return [_view(r) for r in (await session.execute(query)).scalars()]


async def get_staff(session: AsyncSession, cashier_id: uuid.UUID) -> StaffView:
    row = await session.get(m.Cashier, cashier_id)
    if row is None:
        raise StaffError("no such cashier")
    return _view(row)


async def create_staff(
    session: AsyncSession, *, name: str, role: str, outlet_code: str | None, pin: str, actor: str
) -> StaffView:
    name = name.strip()
    if not name or len(name) > 100:
        raise StaffError("a name has 1 to 100 characters")
    check_pin(pin, role)
    await _outlet_exists(session, outlet_code)
    await _refuse_taken_pin(session, pin, outlet_code)
    pin_hash = await asyncio.to_thread(hash_pin, pin)
    (seq,) = await allocate_change_seqs(session, 1)
    row = m.Cashier(
        cashier_id=uuid.uuid4(),
        name=name,
        role=role,
        pin_hash=pin_hash,
        active=True,
        outlet_code=outlet_code,
        change_seq=seq,
    )
    session.add(row)
    await audit.record(
        session=session,
        username=actor,
        action="staff.create",
        target=str(row.cashier_id),
        detail=f"{name} ({role}) at {outlet_code or 'every outlet'}",
    )
    return _view(row)


async def set_pin(session: AsyncSession, *, cashier_id: uuid.UUID, pin: str, actor: str) -> None:
    """Set or reset a PIN (never shown again; the tills get the new hash)."""
    row = await _get(session, cashier_id)
    check_pin(pin, row.role)
    await _refuse_taken_pin(session, pin, row.outlet_code, cashier_id)
    row.pin_hash = await asyncio.to_thread(hash_pin, pin)
    (row.change_seq,) = await allocate_change_seqs(session, 1)
    await audit.record(session=session, username=actor, action="staff.pin", target=str(cashier_id))


_NEEDS_PIN = (
    "{what} needs a PIN for them{where}: a till tells people apart by PIN alone, and HQ "
    "can only check a PIN it is given against the others (it may be their old one)"
)


async def _fresh_pin(
    session: AsyncSession, row: m.Cashier, pin: str | None, outlet_code: str | None, what: str
) -> str:
    """The hash of the PIN ``row`` will have among the people of ``outlet_code``'s tills.

    Moving a person or bringing them back puts their PIN beside PINs it was never checked
    against, and a stored hash cannot be compared with another without the PIN, so both
    take the PIN they will use (the old one will do, if no one there has it)."""
    if not pin:
        where = f" at {outlet_code}" if outlet_code else " on every outlet's tills"
        raise StaffError(_NEEDS_PIN.format(what=what, where=where))
    check_pin(pin, row.role)
    await _refuse_taken_pin(session, pin, outlet_code, row.cashier_id)
    return await asyncio.to_thread(hash_pin, pin)


async def set_active(
    session: AsyncSession,
    *,
    cashier_id: uuid.UUID,
    active: bool,
    actor: str,
    pin: str | None = None,
) -> None:
    """Deactivate a person, or bring them back with ``pin`` (checked as any new PIN)."""
    row = await _get(session, cashier_id)
    if row.active == active:
        return
    if active:
        row.pin_hash = await _fresh_pin(session, row, pin, row.outlet_code, "Reactivating")
    row.active = active
    (row.change_seq,) = await allocate_change_seqs(session, 1)
    await audit.record(
        session=session,
        username=actor,
        action="staff.activate" if active else "staff.deactivate",
        target=str(cashier_id),
    )


async def reassign(
    session: AsyncSession,
    *,
    cashier_id: uuid.UUID,
    outlet_code: str | None,
    actor: str,
    pin: str | None = None,
) -> None:
    """Move a person to ``outlet_code`` (None: every outlet); the old outlet's tills drop
    them (a removal for the old scope, then the new state at a higher seq). An active
    person moves with ``pin``, checked against the people there; an inactive one is
    checked when brought back."""
    row = await _get(session, cashier_id)
    await _outlet_exists(session, outlet_code)
    old = row.outlet_code
    if old == outlet_code:
        return
    if row.active:
        row.pin_hash = await _fresh_pin(session, row, pin, outlet_code, "Moving someone active")
    removal_seq, row.change_seq = await allocate_change_seqs(session, 2)
    session.add(
        m.FeedRemoval(kind="cashier", key=str(cashier_id), outlet_code=old, change_seq=removal_seq)
    )
    row.outlet_code = outlet_code
    await audit.record(
        session=session,
        username=actor,
        action="staff.reassign",
        target=str(cashier_id),
        detail=f"{old or 'every outlet'} -> {outlet_code or 'every outlet'}",
    )


async def approval_limits(session: AsyncSession) -> p.ApprovalLimits:
    row = await session.get(m.StoreSettings, 1)
    return p.ApprovalLimits.model_validate((row.approval_limits if row else None) or {})


async def set_approval_limits(
    session: AsyncSession, *, limits: p.ApprovalLimits, actor: str
) -> None:
    """Store the limits in the settings row the tills pull (a new change_seq)."""
    row = await session.get(m.StoreSettings, 1, with_for_update=True)
    if row is None:
        raise StaffError("HQ has no store settings yet (seed or import them first)")
    row.approval_limits = limits.model_dump(mode="json")
    (row.change_seq,) = await allocate_change_seqs(session, 1)
    await audit.record(
        session=session,
        username=actor,
        action="settings.approval_limits",
        target="settings",
        detail=limits.model_dump_json(),
    )
