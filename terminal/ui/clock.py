"""The till's clock, injectable so tests and snapshots can fix the time.

Times are kept in UTC (as the database stores them) and shown in Singapore time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

Clock = Callable[[], datetime]

SGT = timezone(timedelta(hours=8), "SGT")


def system_clock() -> datetime:
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Clock:
    """A clock that always says ``at`` (for snapshots and tests)."""

    def clock() -> datetime:
        return at

    return clock


def local(at: datetime) -> datetime:
    return at.astimezone(SGT)
