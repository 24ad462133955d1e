"""Terminal enrollment and bearer tokens.

A token is 256 random bits (urlsafe base64), shown once at enrollment. HQ stores only its
sha256: tokens are high-entropy, so a fast hash is enough (a slow hash is for guessable
secrets like PINs), and a lookup by hash never compares the secret itself byte by byte.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.sqlutil import insert

TOKEN_BYTES = 32
_CODE = re.compile(r"^[A-Z0-9]{1,16}$")


class EnrollmentError(ValueError):
    """Bad outlet/terminal code, or the terminal is already enrolled."""


@dataclass(frozen=True, slots=True)
class EnrolledTerminal:
    terminal_id: str
    outlet_code: str
    terminal_code: str
    token: str
    """The bearer token; this is the only time it exists outside the till."""


@dataclass(frozen=True, slots=True)
class TerminalIdentity:
    """Who a valid token belongs to."""

    terminal_id: str
    outlet_code: str
    terminal_code: str
    contiguous_seq: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def terminal_id_for(outlet_code: str, terminal_code: str) -> str:
    return f"{outlet_code}-{terminal_code}"


async def enroll_terminal(
    *,
    session: AsyncSession,
    outlet_code: str,
    terminal_code: str,
    outlet_name: str | None = None,
    replace: bool = False,
) -> EnrolledTerminal:
    """Create the terminal ``OUTLET-TERMINAL`` (and its outlet) and issue its token.

    ``replace=True`` re-issues the token of an existing terminal (the old one stops
    working); otherwise enrolling an existing terminal is an error, so a typo cannot
    silently take over a running till's identity.
    """
    outlet_code, terminal_code = outlet_code.upper(), terminal_code.upper()
    for label, code in (("outlet", outlet_code), ("terminal", terminal_code)):
        if not _CODE.match(code):
            raise EnrollmentError(f"{label} code must be 1-16 letters/digits, got {code!r}")
    terminal_id = terminal_id_for(outlet_code, terminal_code)
    token = new_token()
    await session.execute(
        insert(session, m.Outlet)
        .values(code=outlet_code, name=outlet_name or outlet_code)
        .on_conflict_do_nothing()
    )
    existing = await session.get(m.Terminal, terminal_id, with_for_update=True)
    if existing is not None and not replace:
        raise EnrollmentError(f"terminal {terminal_id} is already enrolled (use --replace)")
    if existing is None:
        session.add(
            m.Terminal(
                terminal_id=terminal_id,
                outlet_code=outlet_code,
                terminal_code=terminal_code,
                token_hash=hash_token(token),
                revoked=False,
                enrolled_at=datetime.now(UTC),
                contiguous_seq=0,
            )
        )
    else:
        existing.token_hash = hash_token(token)
        existing.revoked = False
    await session.flush()
    return EnrolledTerminal(terminal_id, outlet_code, terminal_code, token)


async def revoke_terminal(*, session: AsyncSession, terminal_id: str) -> bool:
    """Make the terminal's token stop working at once; False if there is no such terminal."""
    result = await session.execute(
        update(m.Terminal).where(m.Terminal.terminal_id == terminal_id).values(revoked=True)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


_TERMINALS = cast(Table, m.Terminal.__table__)
_BY_TOKEN = select(
    _TERMINALS.c.terminal_id,
    _TERMINALS.c.outlet_code,
    _TERMINALS.c.terminal_code,
    _TERMINALS.c.contiguous_seq,
    _TERMINALS.c.token_hash,
    _TERMINALS.c.revoked,
).where(_TERMINALS.c.token_hash == bindparam("digest"))


async def authenticate(*, session: AsyncSession, token: str) -> TerminalIdentity | None:
    """The terminal a token belongs to, or None (unknown, malformed or revoked)."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    connection = await session.connection()  # Core, not the ORM: this runs on every request
    row = (await connection.execute(_BY_TOKEN, {"digest": digest})).one_or_none()
    if row is None or row.revoked or not hmac.compare_digest(row.token_hash, digest):
        return None
    return TerminalIdentity(
        row.terminal_id, row.outlet_code, row.terminal_code, int(row.contiguous_seq)
    )
