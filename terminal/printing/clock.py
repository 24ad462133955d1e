"""Receipt times are shown in Singapore time (stored in UTC)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

SGT = timezone(timedelta(hours=8), "SGT")


def local_text(at: datetime) -> str:
    return f"{at.astimezone(SGT):%d/%m/%Y %H:%M}"
