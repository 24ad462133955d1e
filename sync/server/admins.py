"""HQ admin accounts (dashboard and ``/v1/reports``): argon2id password hashes."""

from __future__ import annotations

from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sync.server import models as m

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("kedai-dummy-password")
"""Verified against when the user is unknown, so timing does not reveal usernames."""

MIN_PASSWORD_LENGTH = 8


class AdminError(ValueError):
    pass


async def create_admin(*, session: AsyncSession, username: str, password: str) -> None:
    """Create an admin, or set a new password for an existing one."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AdminError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if not username or len(username) > 64:
        raise AdminError("username must be 1-64 characters")
    existing = await session.get(m.Admin, username)
    if existing is None:
        session.add(
            m.Admin(
                username=username,
                password_hash=_hasher.hash(password),
                created_at=datetime.now(UTC),
            )
        )
    else:
        existing.password_hash = _hasher.hash(password)
    await session.flush()


async def verify_admin(*, session: AsyncSession, username: str, password: str) -> bool:
    stored = (
        await session.execute(select(m.Admin.password_hash).where(m.Admin.username == username))
    ).scalar_one_or_none()
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
