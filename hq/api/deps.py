"""Dependencies routes declare as ``Annotated`` aliases (``DatabaseDep``, ``CurrentTerminal``;
admin sessions are in ``hq.api.admin``).

Authentication opens its own short read unit of work; the route then opens the one unit
of work it needs. The terminal is checked again under its row lock during ingest, so a
token revoked between the two is still refused.
"""

from __future__ import annotations

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
    db: DatabaseDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TerminalIdentity:
    if credentials is None:
        raise unauthorized("missing bearer token")
    async with db.readers() as session, session.begin():
        identity = await authenticate(session=session, token=credentials.credentials)
    if identity is None:
        raise unauthorized("invalid or revoked token")
    return identity


CurrentTerminal = Annotated[TerminalIdentity, Depends(current_terminal)]
