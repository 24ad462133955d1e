"""Approvals where data is written: the store's limits, and checking what a request carries.

Each service that writes works out what its action needs from the pure policy
(:mod:`terminal.domain.approval`) and calls :func:`require` inside its own unit of work
before writing anything. An approval counts only if it was recorded at this till by a
manager's PIN (a row in ``approvals``, written with its ``approval.granted`` event) for
the same action and the same cashier, so a caller cannot simply claim one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sync.protocol import ApprovalLimits as WireLimits
from terminal.db.engine import Database
from terminal.db.models import ApprovalRow, StoreSettings
from terminal.domain.approval import ApprovalLimits, Granted, Need, missing
from terminal.services.errors import ApprovalRequired
from terminal.services.schemas import ApprovalIn
from terminal.services.uow import reading

APPROVAL_VALID_FOR = timedelta(hours=12)
"""An approval is for the action in hand, not for tomorrow: older ones are not honoured."""


Recorded = dict[uuid.UUID, tuple[str, uuid.UUID, uuid.UUID, datetime]]
"""Approvals found at this till: id -> (action, manager, cashier, when)."""


def limits_from_json(text: str | None) -> ApprovalLimits:
    """The stored limits (HQ's :class:`~sync.protocol.ApprovalLimits` JSON) as the domain's."""
    wire = WireLimits.model_validate_json(text or "{}")
    return ApprovalLimits(**{f.name: getattr(wire, f.name) for f in fields(ApprovalLimits)})


async def load_limits(session: AsyncSession) -> ApprovalLimits:
    text = (
        await session.execute(select(StoreSettings.approval_limits).where(StoreSettings.id == 1))
    ).scalar_one_or_none()
    return limits_from_json(text)


async def current_limits(db: Database) -> ApprovalLimits:
    """The limits in force (for a screen that warns before the service refuses)."""
    async with reading(db) as s:
        return await load_limits(s)


def _refuse(gaps: Sequence[Need]) -> ApprovalRequired:
    what = "; ".join(sorted({n.why for n in gaps}))
    return ApprovalRequired(
        f"A manager's approval is needed ({what}). Nothing was saved.",
        [(n.action, n.line_no) for n in gaps],
    )


def _granted(
    carried: Sequence[ApprovalIn],
    recorded: Recorded,
    cashier_id: uuid.UUID,
    at: datetime,
) -> list[Granted]:
    out = []
    for a in carried:
        row = recorded.get(a.approval_id)
        if row is None:
            continue
        action, manager_id, for_cashier, created_at = row
        if (
            action == a.action
            and manager_id == a.manager_id
            and for_cashier in (cashier_id, manager_id)
            and at - APPROVAL_VALID_FOR <= created_at <= at + APPROVAL_VALID_FOR
        ):
            out.append(Granted(a.action, a.line_no))
    return out


async def require(
    session: AsyncSession,
    needs: Sequence[Need],
    carried: Sequence[ApprovalIn],
    *,
    cashier_id: uuid.UUID,
    at: datetime,
) -> None:
    """Raise :class:`ApprovalRequired` unless every need is covered by a recorded approval."""
    if not needs:
        return
    recorded: Recorded = {}
    if carried:
        rows = await session.execute(
            select(
                ApprovalRow.id,
                ApprovalRow.action,
                ApprovalRow.manager_id,
                ApprovalRow.cashier_id,
                ApprovalRow.created_at,
            ).where(ApprovalRow.id.in_([a.approval_id for a in carried]))
        )
        recorded = {r.id: (r.action, r.manager_id, r.cashier_id, r.created_at) for r in rows}
    check_recorded(needs, carried, recorded, cashier_id=cashier_id, at=at)


def check_recorded(
    needs: Sequence[Need],
    carried: Sequence[ApprovalIn],
    recorded: Recorded,
    *,
    cashier_id: uuid.UUID,
    at: datetime,
) -> None:
    """:func:`require` with the recorded approvals already read (the checkout reads them
    in the statement that reads everything else the request names)."""
    gaps = missing(needs, _granted(carried, recorded, cashier_id, at))
    if gaps:
        raise _refuse(gaps)
