"""Outlets and their terminals at HQ: create and edit outlets, enroll, re-enroll and
revoke terminals from the back office (each audited). A new token is returned once, to be
shown once; only its hash is kept."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import enroll, fields
from hq import models as m
from hq.auth import audit

_CODE = re.compile(r"^[A-Z0-9]{1,16}$")


class OutletError(ValueError):
    """A request the admin can fix."""


class TerminalView(BaseModel):
    terminal_id: str
    terminal_code: str
    revoked: bool
    enrolled_at: datetime
    last_seen_at: datetime | None
    contiguous_seq: int


class OutletView(BaseModel):
    code: str
    name: str
    address: str | None
    gst_reg_no: str | None
    opening_hours: str | None
    terminals: list[TerminalView]


async def list_outlets(session: AsyncSession) -> list[OutletView]:
    terminals: dict[str, list[TerminalView]] = {}
    for t in (await session.execute(select(m.Terminal).order_by(m.Terminal.terminal_id))).scalars():
        terminals.setdefault(t.outlet_code, []).append(
            TerminalView(
                terminal_id=t.terminal_id,
                terminal_code=t.terminal_code,
                revoked=t.revoked,
                enrolled_at=t.enrolled_at,
                last_seen_at=t.last_seen_at,
                contiguous_seq=t.contiguous_seq,
            )
        )
    return [
        OutletView(
            code=o.code,
            name=o.name,
            address=o.address,
            gst_reg_no=o.gst_reg_no,
            opening_hours=o.opening_hours,
            terminals=terminals.get(o.code, []),
        )
        for o in (await session.execute(select(m.Outlet).order_by(m.Outlet.code))).scalars()
    ]


def _opt(value: str, limit: int) -> str | None:
    value = value.strip()
    if len(value) > limit:
        raise OutletError(f"{value[:20]!r}... is longer than {limit} characters")
    return value or None


async def save_outlet(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    address: str,
    gst_reg_no: str,
    opening_hours: str,
    actor: str,
) -> bool:
    """Create the outlet ``code`` or update its details; True when it was created."""
    code = code.strip().upper()
    if not _CODE.match(code):
        raise OutletError("an outlet code is 1 to 16 letters or digits")
    clean_name = _opt(name, 200)
    if clean_name is None:
        raise OutletError("an outlet needs a name")
    row = await session.get(m.Outlet, code, with_for_update=True)
    created = row is None
    if row is None:
        row = m.Outlet(code=code, name=clean_name)
        session.add(row)
    row.name = clean_name
    row.address = _opt(address, 2000)
    try:
        row.gst_reg_no = fields.gst_reg_no(gst_reg_no)
    except fields.FieldError as exc:
        raise OutletError(str(exc)) from None
    row.opening_hours = _opt(opening_hours, 200)
    await audit.record(
        session=session,
        username=actor,
        action="outlet.create" if created else "outlet.edit",
        target=code,
    )
    return created


async def enroll_terminal(
    session: AsyncSession, *, outlet_code: str, terminal_code: str, replace: bool, actor: str
) -> enroll.EnrolledTerminal:
    """Enroll (or, with ``replace``, re-enroll) a terminal of an existing outlet."""
    if await session.get(m.Outlet, outlet_code) is None:
        raise OutletError(f"no outlet {outlet_code!r}")
    try:
        done = await enroll.enroll_terminal(
            session=session,
            outlet_code=outlet_code,
            terminal_code=terminal_code.strip(),
            replace=replace,
        )
    except enroll.EnrollmentError as exc:
        raise OutletError(str(exc)) from exc
    await audit.record(
        session=session,
        username=actor,
        action="terminal.reenroll" if replace else "terminal.enroll",
        target=done.terminal_id,
    )
    return done


async def revoke_terminal(session: AsyncSession, *, terminal_id: str, actor: str) -> None:
    if not await enroll.revoke_terminal(session=session, terminal_id=terminal_id):
        raise OutletError(f"no terminal {terminal_id!r}")
    await audit.record(
        session=session, username=actor, action="terminal.revoke", target=terminal_id
    )
