"""Admin API tokens: a bearer token for scripts and BI tools that read ``/v1/reports``.

A token is ``kha_`` and 256 random bits (urlsafe base64), shown once when made. HQ keeps
only its sha256: the token is high-entropy, so a fast hash is enough (as for terminal
tokens and session cookies), and a copy of the database opens nothing. The prefix tells a
leaked admin token from a till's at a glance (and lets secret scanners find it); a
till's token is never looked up here, nor an admin token among the tills'.

A token acts as its admin with the admin's role and outlets as they are at each request;
it is refused once revoked or once its admin is gone. The callers decide where it is
accepted at all (read-only report GETs only).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m

PREFIX = "kha_"
TOKEN_BYTES = 32
MAX_NAME = 64
LAST_USED_EVERY = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per token: a BI tool polling every
report each second must not turn reads into a stream of writes."""


class TokenError(ValueError):
    pass


class ApiToken(BaseModel):
    """A token as the back office lists it (never the secret itself)."""

    token_id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewApiToken(BaseModel):
    token_id: int
    name: str
    token: str
    """The bearer token; this is the only time it exists outside the admin's script."""


@dataclass(frozen=True, slots=True)
class TokenOwner:
    """Whose a live token is."""

    token_id: int
    username: str
    mark_due: bool
    """``last_used_at`` is older than ``LAST_USED_EVERY`` (or unset)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    return value.startswith(PREFIX) and 0 < len(value) <= 200


async def create(*, session: AsyncSession, username: str, name: str) -> NewApiToken:
    name = " ".join(name.split())
    if not name.isprintable():
        raise TokenError("the name holds control characters: use plain words")
    if not name:
        raise TokenError("give the token a name (what script or tool uses it)")
    if len(name) > MAX_NAME:
        raise TokenError(f"the name must be at most {MAX_NAME} characters")
    token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    row = m.AdminApiToken(
        username=username, name=name, token_hash=_digest(token), created_at=datetime.now(UTC)
    )
    session.add(row)
    await session.flush()
    return NewApiToken(token_id=row.token_id, name=name, token=token)


async def list_tokens(*, session: AsyncSession, username: str) -> list[ApiToken]:
    """The admin's tokens, live ones first, newest first."""
    rows = await session.execute(
        select(m.AdminApiToken)
        .where(m.AdminApiToken.username == username)
        .order_by(m.AdminApiToken.revoked_at.is_not(None), m.AdminApiToken.token_id.desc())
    )
    return [
        ApiToken(
            token_id=t.token_id,
            name=t.name,
            created_at=t.created_at,
            last_used_at=t.last_used_at,
            revoked_at=t.revoked_at,
        )
        for t in rows.scalars()
    ]


async def revoke(*, session: AsyncSession, username: str, token_id: int) -> str | None:
    """Revoke one of the admin's own live tokens; its name, or None if there is none."""
    row = (
        await session.execute(
            select(m.AdminApiToken)
            .where(
                m.AdminApiToken.token_id == token_id,
                m.AdminApiToken.username == username,
                m.AdminApiToken.revoked_at.is_(None),
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        return None
    row.revoked_at = datetime.now(UTC)
    await session.flush()
    return row.name


async def revoke_all(*, session: AsyncSession, username: str) -> int:
    """Revoke every live token of an admin (their password changed or was reset: a token
    minted from a stolen session must not outlive it); how many."""
    done = await session.execute(
        update(m.AdminApiToken)
        .where(m.AdminApiToken.username == username, m.AdminApiToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(done, "rowcount", 0) or 0)


async def find(*, session: AsyncSession, token: str) -> TokenOwner | None:
    """Whose a live token is, or None (unknown, malformed, revoked)."""
    if not looks_like_token(token):
        return None
    digest = _digest(token)
    row = (
        await session.execute(
            select(
                m.AdminApiToken.token_id,
                m.AdminApiToken.username,
                m.AdminApiToken.token_hash,
                m.AdminApiToken.last_used_at,
            ).where(m.AdminApiToken.token_hash == digest, m.AdminApiToken.revoked_at.is_(None))
        )
    ).one_or_none()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    last = row.last_used_at
    due = last is None or datetime.now(UTC) - last >= LAST_USED_EVERY
    return TokenOwner(int(row.token_id), str(row.username), due)


async def mark_used(*, session: AsyncSession, token_id: int) -> None:
    await session.execute(
        update(m.AdminApiToken)
        .where(m.AdminApiToken.token_id == token_id)
        .values(last_used_at=datetime.now(UTC))
    )
