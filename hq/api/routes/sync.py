"""The till-facing API: push events up, pull changes down, ask who a token is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from hq.api.deps import CurrentTerminal, DatabaseDep, SettingsDep, unauthorized
from hq.api.errors import ApiError
from hq.changes import read_changes_json
from hq.ingest import TerminalNotAllowed, TillReport, ingest_batch
from hq.wire import push_request_schema, read_push
from sync import protocol as p

router = APIRouter(prefix="/v1/sync", tags=["sync"])


@router.post(
    "/push",
    response_model=p.PushResponse,
    responses={
        400: {"model": p.ErrorBody},
        401: {"model": p.ErrorBody},
        403: {"model": p.ErrorBody},
        413: {"model": p.ErrorBody},
        422: {"model": p.ErrorBody},
    },
    openapi_extra={"requestBody": push_request_schema()},
)
async def push(request: Request, terminal: CurrentTerminal, db: DatabaseDep) -> Response:
    """Apply a batch of the terminal's events exactly once; answer per event.

    The body is a :class:`~sync.protocol.PushRequest`, read from its bytes by
    :func:`~hq.wire.read_push` rather than by FastAPI (see there why).
    Every event must be the authenticated terminal's own: one foreign event refuses the
    whole batch (403), since it means a misconfigured or compromised till.
    """
    batch = read_push(await request.body())
    foreign = {e.terminal_id for e in batch.events} | {batch.terminal_id}
    foreign -= {terminal.terminal_id, ""}  # "": a malformed envelope, refused on its own
    if foreign:
        raise ApiError(
            403,
            "wrong_terminal",
            f"token belongs to {terminal.terminal_id}, not {', '.join(sorted(foreign))}",
        )
    try:
        async with db.sessions() as session, session.begin():
            answer = await ingest_batch(
                session=session,
                terminal_id=terminal.terminal_id,
                events=batch.events,
                till=till_report(request),
            )
    except TerminalNotAllowed:
        raise unauthorized("token revoked") from None
    # Serialised directly: the model was built here, re-validating it would only cost time.
    return Response(answer.model_dump_json(), media_type="application/json")


@router.get("/changes", response_model=p.ChangePage, responses={401: {"model": p.ErrorBody}})
async def changes(
    terminal: CurrentTerminal,
    db: DatabaseDep,
    settings: SettingsDep,
    since: Annotated[
        int, Query(ge=0, le=p.MAX_SEQ, description="cursor: the last seq applied")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=100_000, description="page size (capped by HQ)")] = 500,
) -> Response:
    """Latest state of every product/customer/cashier/tender/settings changed after
    ``since``, scoped to the terminal's outlet (its own cashiers; members without email)."""
    async with db.readers() as session, session.begin():
        body = await read_changes_json(
            session=session,
            since=since,
            limit=min(limit, settings.changes_page_max),
            max_bytes=settings.changes_page_max_bytes,
            outlet_code=terminal.outlet_code,
            contiguous_seq=terminal.contiguous_seq,
        )
    # Each change was serialised once while sizing the page; the page is those texts.
    return Response(body, media_type="application/json")


@router.get("/whoami", response_model=p.WhoAmI, responses={401: {"model": p.ErrorBody}})
async def whoami(terminal: CurrentTerminal) -> p.WhoAmI:
    """Which terminal this token is, and HQ's contiguous mark for it."""
    return p.WhoAmI(
        terminal_id=terminal.terminal_id,
        outlet_code=terminal.outlet_code,
        terminal_code=terminal.terminal_code,
        contiguous_seq=terminal.contiguous_seq,
    )


def till_report(request: Request) -> TillReport:
    """The pending count (``X-Kedai-Pending``) and version (``User-Agent: kedai-till/X``)
    a till sends with a push; anything malformed is ignored, never an error."""
    raw = request.headers.get("x-kedai-pending", "")
    pending = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None
    agent = request.headers.get("user-agent", "")
    version = agent.removeprefix("kedai-till/") if agent.startswith("kedai-till/") else ""
    ok = version and len(version) <= 40 and all(c.isalnum() or c in ".+-_" for c in version)
    return TillReport(pending=pending, version=version if ok else None)
