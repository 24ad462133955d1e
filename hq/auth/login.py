"""Log-in and password change: throttle first, argon2 outside any transaction, audit always.

Each step is its own short unit of work, because the password check (~50 ms, queued on the
hashing semaphore) must not hold a database transaction open: on SQLite a write
transaction is the whole store's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hq import admins
from hq.auth import api_tokens, audit, sessions, throttle
from hq.db import Database


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    throttle: throttle.Policy
    hash_concurrency: int
    session_hours: int


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    session: sessions.NewSession | None = None
    retry_at: datetime | None = None
    """Set when the username or address is slowed or locked."""

    @property
    def ok(self) -> bool:
        return self.session is not None


def typed_username(text: str) -> str:
    """A username as typed, made safe to look up, throttle and audit: trimmed, at most 64
    characters, a NUL (which PostgreSQL cannot store in text) shown as U+FFFD. No admin
    has such a name, so it fails like any unknown user, throttled and audited."""
    return text.strip()[:64].replace("\x00", "\ufffd")


async def log_in(
    *, db: Database, username: str, password: str, address: str | None, policy: LoginPolicy
) -> LoginOutcome:
    username = typed_username(username)
    keys = throttle.keys_for(username, address)
    async with db.readers() as s, s.begin():
        until = await throttle.refused_until(session=s, keys=keys)
        stored = None if until else await admins.admin_password_hash(session=s, username=username)
    if until is not None:
        async with db.sessions() as s, s.begin():
            await throttle.record_failure(session=s, keys=keys, policy=policy.throttle)
            await audit.record(session=s, username=username, action="login.throttled", ip=address)
        return LoginOutcome(retry_at=until)
    good = await admins.check_admin_password(stored, password, concurrency=policy.hash_concurrency)
    async with db.sessions() as s, s.begin():
        if not good:
            await throttle.record_failure(session=s, keys=keys, policy=policy.throttle)
            await audit.record(session=s, username=username, action="login.failed", ip=address)
            return LoginOutcome()
        await throttle.clear(session=s, key=keys[0])
        new = await sessions.start(session=s, username=username, hours=policy.session_hours)
        await audit.record(session=s, username=username, action="login", ip=address)
    return LoginOutcome(session=new)


async def log_out(*, db: Database, username: str, token: str, address: str | None) -> None:
    async with db.sessions() as s, s.begin():
        await sessions.end(session=s, token=token)
        await audit.record(session=s, username=username, action="logout", ip=address)


class PasswordChangeError(ValueError):
    pass


async def change_password(
    *,
    db: Database,
    username: str,
    token: str,
    current: str,
    new: str,
    address: str | None,
    policy: LoginPolicy,
) -> None:
    """Check the current password (throttled like a log-in), store the new hash, and sign
    out the admin's other sessions. Raises :class:`PasswordChangeError` with a reason."""
    keys = throttle.keys_for(username, address)
    async with db.readers() as s, s.begin():
        if await throttle.refused_until(session=s, keys=keys):
            raise PasswordChangeError("too many failed attempts; try again later")
        stored = await admins.admin_password_hash(session=s, username=username)
    ok = await admins.check_admin_password(stored, current, concurrency=policy.hash_concurrency)
    if not ok:
        async with db.sessions() as s, s.begin():
            await throttle.record_failure(session=s, keys=keys, policy=policy.throttle)
            await audit.record(
                session=s, username=username, action="password.change_failed", ip=address
            )
        raise PasswordChangeError("the current password is wrong")
    try:
        new_hash = await admins.hash_new_password(new, concurrency=policy.hash_concurrency)
    except admins.AdminError as exc:
        raise PasswordChangeError(str(exc)) from exc
    async with db.sessions() as s, s.begin():
        await admins.set_password_hash(session=s, username=username, password_hash=new_hash)
        ended = await sessions.end_others(session=s, username=username, keep_token=token)
        ended_tokens = await api_tokens.revoke_all(session=s, username=username)
        await audit.record(
            session=s,
            username=username,
            action="password.changed",
            detail=f"{ended} other session(s) signed out, {ended_tokens} API token(s) revoked",
            ip=address,
        )
