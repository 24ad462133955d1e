"""HQ admin accounts (dashboard and ``/v1/reports``): argon2id password hashes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the user is unknown, so timing does not reveal usernames.

    Made on first use, not at import: hashing costs ~50 ms and 64 MiB."""
    return _hasher.hash("kedai-dummy-password")


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


async def admin_password_hash(*, session: AsyncSession, username: str) -> str | None:
    """The stored argon2 hash for ``username`` (None if there is no such admin)."""
    return (
        await session.execute(select(m.Admin.password_hash).where(m.Admin.username == username))
    ).scalar_one_or_none()


async def check_admin_password(stored: str | None, password: str) -> bool:
    """Verify in a worker thread: argon2 takes ~50 ms, which must not stall the event
    loop (every push and pull of every till shares it). Call it outside any session."""
    return await asyncio.to_thread(_check, stored, password)


def _check(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
