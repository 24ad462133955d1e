"""Login throttling: a failing username or address is slowed, then locked for a while.

Counts live in the database (``login_throttle``), not in a worker's memory, so an attacker
gains nothing by spreading tries over workers or hosts. Each failure bumps the key's count
atomically (an upsert); from ``slow_after`` failures on, the next try for that key must
wait 1, 2, 4... seconds (capped at a minute), and at ``lock_after`` the key is locked for
``lock_minutes``. A try that arrives early is refused without checking the password (no
argon2 cost) and still counts as a failure. Addresses get five times the allowance of a
username, since an office shares one address. A success clears the username's count only:
a valid account must not reset the count of the address it logs in from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.sqlutil import insert

ADDRESS_FACTOR = 5
MAX_SLOWDOWN = timedelta(seconds=60)


def now() -> datetime:
    """The clock the throttle reads (tests replace it to step through time)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Policy:
    slow_after: int = 3
    lock_after: int = 10
    lock_minutes: int = 15

    def limits(self, key: str) -> tuple[int, int]:
        factor = ADDRESS_FACTOR if key.startswith("ip:") else 1
        return self.slow_after * factor, self.lock_after * factor

    def wait_after(self, key: str, failures: int) -> timedelta:
        slow, lock = self.limits(key)
        if failures >= lock:
            return timedelta(minutes=self.lock_minutes)
        if failures >= slow:
            return min(timedelta(seconds=2 ** (failures - slow)), MAX_SLOWDOWN)
        return timedelta(0)


def keys_for(username: str, address: str | None) -> list[str]:
    keys = [f"user:{username.casefold()[:100]}"]
    if address:
        keys.append(f"ip:{address[:100]}")
    return keys


async def refused_until(*, session: AsyncSession, keys: Sequence[str]) -> datetime | None:
    """The time before which these keys may not try again (None: they may try now)."""
    until = (
        await session.execute(
            select(func.max(m.LoginThrottle.next_allowed_at)).where(
                m.LoginThrottle.key.in_(keys), m.LoginThrottle.next_allowed_at > now()
            )
        )
    ).scalar_one_or_none()
    return until


async def record_failure(*, session: AsyncSession, keys: Sequence[str], policy: Policy) -> None:
    """Count one failure against each key; a count older than the lock period restarts."""
    t = now()
    stale = t - timedelta(minutes=policy.lock_minutes)
    table = m.LoginThrottle.__table__
    for key in keys:
        stmt = insert(session, table).values(
            key=key, failures=1, last_failure_at=t, next_allowed_at=t
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "failures": case((table.c.last_failure_at < stale, 1), else_=table.c.failures + 1),
                "last_failure_at": t,
            },
        ).returning(table.c.failures)
        failures = int((await session.execute(stmt)).scalar_one())
        wait = policy.wait_after(key, failures)
        if wait:
            await session.execute(
                update(m.LoginThrottle)
                .where(m.LoginThrottle.key == key)
                .values(next_allowed_at=t + wait)
            )


async def clear(*, session: AsyncSession, key: str) -> None:
    await session.execute(delete(m.LoginThrottle).where(m.LoginThrottle.key == key))
