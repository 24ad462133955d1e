"""Dependencies routes declare as ``Annotated`` aliases (``DatabaseDep``, ``CurrentTerminal``;
admin sessions are in ``hq.api.admin``).

Authentication opens its own short read unit of work; the route then opens the one unit
of work it needs. The terminal is checked again under its row lock during ingest, so a
token revoked between the two is still refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hq.api.errors import ApiError
from hq.config import Settings
from hq.db import Database
from hq.enroll import TerminalIdentity, authenticate

_bearer = HTTPBearer(auto_error=False, description="The terminal's enrollment token")


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DatabaseDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


async def current_terminal(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AsyncIterator[TerminalIdentity]:
    """The terminal a bearer token belongs to, holding one of its request slots.

    Runs before the request body is read (the body middleware reads it lazily), so an
    unknown token costs HQ no body. One terminal may have at most
    ``terminal_concurrency`` requests in progress per worker (429 beyond): a till sends
    one at a time, so more means a loop gone wrong or a stolen token, and each slot may
    hold a whole push body in memory.
    """
    if credentials is None:
        raise unauthorized("missing bearer token")
    async with db.readers() as session, session.begin():
        identity = await authenticate(session=session, token=credentials.credentials)
    if identity is None:
        raise unauthorized("invalid or revoked token")
    slots: dict[str, int] = request.app.state.terminal_slots
    held = slots.get(identity.terminal_id, 0)
    if held >= settings.terminal_concurrency:
        raise ApiError(
            429,
            "too_many_requests",
            f"terminal {identity.terminal_id} already has {held} requests in progress",
            headers={"Retry-After": "1"},
        )
    slots[identity.terminal_id] = held + 1
    try:
        yield identity
    finally:
        left = slots.get(identity.terminal_id, 1) - 1
        if left > 0:
            slots[identity.terminal_id] = left
        else:
            slots.pop(identity.terminal_id, None)


CurrentTerminal = Annotated[TerminalIdentity, Depends(current_terminal)]
