"""HQ admin accounts (back office and ``/v1/reports``): argon2id hashes, roles, outlets.

Checking a password costs ~50 ms and 64 MiB (argon2id's default memory). A flood of bad
log-ins used to run one check per worker thread at once (64 concurrent bad log-ins took
HQ from 194 to 515 MiB), so checks queue on a per-process semaphore: memory is bounded
by ``password_hash_concurrency`` x 64 MiB whatever arrives.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m

_hasher = PasswordHasher()
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


@cache
def _dummy_hash() -> str:
    """Verified against when the user is unknown, so timing does not reveal usernames.

    Made on first use, not at import: hashing costs ~50 ms and 64 MiB."""
    return _hasher.hash("kedai-dummy-password")


MIN_PASSWORD_LENGTH = 8
ROLES = m.ADMIN_ROLES


class AdminError(ValueError):
    pass


class AdminProfile(BaseModel):
    """Who is signed in and what they may see."""

    username: str
    role: str
    outlets: list[str] | None
    """The outlets a manager may see; None for owners and accountants (every outlet)."""

    @property
    def can_change(self) -> bool:
        """Owners act (dismiss quarantine...); managers and accountants only read."""
        return self.role == "owner"


def _check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AdminError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise AdminError("password must be at most 1024 characters")


async def create_admin(
    *,
    session: AsyncSession,
    username: str,
    password: str,
    role: str = "owner",
    outlets: Sequence[str] = (),
) -> None:
    """Create an admin, or set a new password (and role) for an existing one."""
    _check_new_password(password)
    if not username or len(username) > 64:
        raise AdminError("username must be 1-64 characters")
    if role not in ROLES:
        raise AdminError(f"role must be one of {', '.join(ROLES)}")
    if role == "manager" and not outlets:
        raise AdminError("an outlet manager needs at least one --outlet")
    if outlets:
        known = set(
            (await session.execute(select(m.Outlet.code).where(m.Outlet.code.in_(outlets))))
            .scalars()
            .all()
        )
        if missing := sorted(set(outlets) - known):
            raise AdminError(f"no such outlet: {', '.join(missing)}")
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
        # A reset password ends the admin's API tokens too (as a password change does).
        await session.execute(
            update(m.AdminApiToken)
            .where(m.AdminApiToken.username == username, m.AdminApiToken.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    await session.flush()
    await session.execute(delete(m.AdminRole).where(m.AdminRole.username == username))
    await session.execute(delete(m.AdminOutlet).where(m.AdminOutlet.username == username))
    session.add(m.AdminRole(username=username, role=role))
    session.add_all(
        m.AdminOutlet(username=username, outlet_code=code) for code in sorted(set(outlets))
    )
    await session.flush()


async def admin_password_hash(*, session: AsyncSession, username: str) -> str | None:
    """The stored argon2 hash for ``username`` (None if there is no such admin, or they
    are deactivated: their log-in fails like an unknown name's, at the same cost)."""
    return (
        await session.execute(
            select(m.Admin.password_hash).where(
                m.Admin.username == username, m.Admin.disabled_at.is_(None)
            )
        )
    ).scalar_one_or_none()


async def admin_profile(*, session: AsyncSession, username: str) -> AdminProfile | None:
    """An admin without a role row is an owner: admins made before roles existed were.
    None for a deactivated admin: no session, password or token of theirs opens anything."""
    admin = await session.get(m.Admin, username)
    if admin is None or admin.disabled_at is not None:
        return None
    role = (
        await session.execute(select(m.AdminRole.role).where(m.AdminRole.username == username))
    ).scalar_one_or_none() or "owner"
    outlets: list[str] | None = None
    if role == "manager":
        outlets = list(
            (
                await session.execute(
                    select(m.AdminOutlet.outlet_code)
                    .where(m.AdminOutlet.username == username)
                    .order_by(m.AdminOutlet.outlet_code)
                )
            ).scalars()
        )
    return AdminProfile(username=username, role=role, outlets=outlets)


async def set_password_hash(*, session: AsyncSession, username: str, password_hash: str) -> None:
    admin = await session.get(m.Admin, username)
    if admin is None:
        raise AdminError(f"no admin {username}")
    admin.password_hash = password_hash
    await session.flush()


def _slot(limit: int) -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slot = _slots.get(loop)
    if slot is None:
        slot = _slots[loop] = asyncio.Semaphore(limit)
    return slot


async def check_admin_password(stored: str | None, password: str, *, concurrency: int = 2) -> bool:
    """Verify in a worker thread (argon2 must not stall the event loop every till's push
    and pull share), at most ``concurrency`` at once. Call it outside any session."""
    async with _slot(concurrency):
        return await asyncio.to_thread(_check, stored, password)


async def hash_new_password(password: str, *, concurrency: int = 2) -> str:
    """An argon2id hash of a new password, under the same bound as checks."""
    _check_new_password(password)
    async with _slot(concurrency):
        return await asyncio.to_thread(_hasher.hash, password)


def _check(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
