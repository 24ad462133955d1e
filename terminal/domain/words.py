"""Words for counts: "1 sale", "3 sales" (never "sale(s)")."""

from __future__ import annotations


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"
