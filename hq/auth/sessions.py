"""Admin browser sessions: a random cookie token, kept only as its sha256, with a CSRF token.

The CSRF token is a second random value bound to the session row (the synchroniser-token
pattern): a page from another site can make the browser send the cookie, but it cannot
read the token that every state-changing form and ``fetch`` must carry.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m

COOKIE = "kedai_session"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str
    """Goes in the cookie; shown nowhere else and never stored."""
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OpenSession:
    username: str
    csrf_token: str


async def start(*, session: AsyncSession, username: str, hours: int) -> NewSession:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    expires = now + timedelta(hours=hours)
    await session.execute(delete(m.AdminSession).where(m.AdminSession.expires_at < now))
    session.add(
        m.AdminSession(
            token_hash=_digest(token),
            username=username,
            csrf_token=csrf,
            created_at=now,
            expires_at=expires,
        )
    )
    await session.flush()
    return NewSession(token=token, csrf_token=csrf, expires_at=expires)


async def find(*, session: AsyncSession, token: str) -> OpenSession | None:
    if not token or len(token) > 200:
        return None
    row = (
        await session.execute(
            select(m.AdminSession.username, m.AdminSession.csrf_token).where(
                m.AdminSession.token_hash == _digest(token),
                m.AdminSession.expires_at > datetime.now(UTC),
            )
        )
    ).first()
    return OpenSession(username=row.username, csrf_token=row.csrf_token) if row else None


async def end(*, session: AsyncSession, token: str) -> None:
    await session.execute(delete(m.AdminSession).where(m.AdminSession.token_hash == _digest(token)))


async def end_others(*, session: AsyncSession, username: str, keep_token: str) -> int:
    """After a password change every other browser of that admin is signed out."""
    result = await session.execute(
        delete(m.AdminSession).where(
            m.AdminSession.username == username,
            m.AdminSession.token_hash != _digest(keep_token),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def same_token(sent: str | None, expected: str) -> bool:
    return sent is not None and secrets.compare_digest(sent.encode(), expected.encode())
