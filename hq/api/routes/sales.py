"""A terminal looks up a synced sale to refund it (a sale made at another till)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path

from hq.api.deps import CurrentTerminal, DatabaseDep
from hq.api.errors import ApiError
from hq.sale_lookup import lookup_sale
from sync import protocol as p

router = APIRouter(prefix="/v1/sync", tags=["sync"])


def _as_uuid(ref: str) -> UUID | None:
    try:
        return UUID(ref) if len(ref) in (32, 36) else None
    except ValueError:
        return None


@router.get(
    "/sales/{ref}",
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
    ref: Annotated[
        str,
        Path(
            min_length=1,
            max_length=40,
            pattern=r"^[A-Za-z0-9_.-]+$",
            description="the sale's receipt number (OUTLET-TERMINAL-NNNNNN) or its id",
        ),
    ],
) -> p.SaleLookup:
    """A sale of any outlet of the chain, with what refunds at any till took back of it.

    The chain, not the asking terminal's outlet: a customer may bring goods back to any
    branch. Unknown (or not synced yet): 404.
    """
    sale_id = _as_uuid(ref)
    async with db.readers() as session, session.begin():
        found = await lookup_sale(
            session=session, sale_id=sale_id, receipt_no=None if sale_id else ref
        )
    if found is None:
        raise ApiError(404, "not_found", f"no sale {ref} at HQ (yet)")
    return found
