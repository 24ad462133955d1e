"""The admin audit trail as JSON (owners only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hq.api.admin import AdminDep
from hq.api.deps import DatabaseDep
from hq.api.errors import ApiError
from hq.auth import audit
from sync import protocol as p

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.get(
    "/audit",
    response_model=list[audit.AuditEntry],
    responses={401: {"model": p.ErrorBody}, 403: {"model": p.ErrorBody}},
)
async def audit_trail(
    admin: AdminDep, db: DatabaseDep, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[audit.AuditEntry]:
    """The newest admin actions first: log-ins (failed too), log-outs, password changes,
    exports and quarantine decisions."""
    if admin.profile.role != "owner":
        raise ApiError(403, "forbidden", "only an owner reads the audit trail")
    async with db.readers() as session, session.begin():
        return await audit.recent(session=session, limit=limit)
