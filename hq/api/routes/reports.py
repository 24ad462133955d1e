"""Reports for head office (admin login)."""

from __future__ import annotations

from fastapi import APIRouter

from hq import reports
from hq.api.deps import CurrentAdmin, DatabaseDep
from sync import protocol as p

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get("/summary", response_model=reports.Summary, responses={401: {"model": p.ErrorBody}})
async def summary(admin: CurrentAdmin, db: DatabaseDep) -> reports.Summary:
    """Sales, loyalty points outstanding and each terminal's sync state."""
    async with db.readers() as session, session.begin():
        return await reports.summary(session=session)
