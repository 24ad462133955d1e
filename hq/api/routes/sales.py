"""A terminal looks up a synced sale to refund it (a sale made at another till)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from hq.api.deps import CurrentTerminal, DatabaseDep
from hq.api.errors import ApiError
from hq.sale_lookup import lookup_sale
from sync import protocol as p

router = APIRouter(prefix="/v1/sync", tags=["sync"])


@router.get(
    "/sale",
    response_model=p.SaleLookup,
    responses={
        401: {"model": p.ErrorBody},
        404: {"model": p.ErrorBody},
        422: {"model": p.ErrorBody},
    },
)
async def sale(
    terminal: CurrentTerminal,
    db: DatabaseDep,
    receipt_no: Annotated[
        str | None,
        Query(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$", description="receipt"),
    ] = None,
    sale_id: Annotated[UUID | None, Query(description="or the sale's id")] = None,
) -> p.SaleLookup:
    """A sale of any outlet of the chain, with what refunds at any till took back of it."""
    if (receipt_no is None) == (sale_id is None):
        raise ApiError(422, "validation_error", "give exactly one of receipt_no and sale_id")
    async with db.readers() as session, session.begin():
        found = await lookup_sale(session=session, receipt_no=receipt_no, sale_id=sale_id)
    if found is None:
        raise ApiError(404, "not_found", f"no sale {receipt_no or sale_id} at HQ (yet)")
    return found
