"""The admin audit trail: one row per admin action, written in that action's transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m


class AuditEntry(BaseModel):
    at: datetime
    username: str
    action: str
    target: str | None
    detail: str | None
    ip: str | None


async def record(
    *,
    session: AsyncSession,
    username: str,
    action: str,
    target: str | None = None,
    detail: str | None = None,
    ip: str | None = None,
) -> None:
    session.add(
        m.AdminAudit(
            at=datetime.now(UTC),
            username=username[:64],
            action=action,
            target=target[:200] if target else None,
            detail=detail,
            ip=ip[:64] if ip else None,
        )
    )
    await session.flush()


async def recent(*, session: AsyncSession, limit: int = 200) -> list[AuditEntry]:
    rows = await session.execute(
        select(m.AdminAudit).order_by(m.AdminAudit.audit_id.desc()).limit(limit)
    )
    return [
        AuditEntry(
            at=a.at, username=a.username, action=a.action, target=a.target, detail=a.detail, ip=a.ip
        )
        for a in rows.scalars()
    ]
