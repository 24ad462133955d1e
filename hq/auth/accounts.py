"""An owner's control of the other admins: see everyone and their API tokens, revoke any
token, deactivate, reactivate or remove an admin. From the back office and the CLI; every
step audited in the same unit of work.

Deactivation keeps the account (and its audit trail's name) but opens nothing: its
sessions are ended and its tokens revoked at once, and log-in, HTTP Basic and tokens all
refuse a deactivated admin (:func:`hq.admins.admin_profile`). Removal deletes the account
with its roles, sessions and tokens. Neither may leave the chain without an active owner,
nor be done by an owner to themself (the last owner locks every active admin row first,
so two owners removing each other at once cannot both succeed).
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, computed_field
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.auth import api_tokens, audit

CLI_ACTOR = "(command line)"
"""Who the audit trail names for ``kedai-hq admin ...`` (no admin is signed in there)."""


class AccountError(ValueError):
    """A request the owner can fix (the message says why)."""


class AdminSummary(BaseModel):
    username: str
    role: str
    outlets: list[str]
    created_at: datetime
    disabled_at: datetime | None
    live_tokens: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def active(self) -> bool:
        return self.disabled_at is None


class AdminToken(api_tokens.ApiToken):
    username: str


class AdminsOverview(BaseModel):
    admins: list[AdminSummary]
    tokens: list[AdminToken]


async def list_admins(*, session: AsyncSession) -> list[AdminSummary]:
    roles = dict((await session.execute(select(m.AdminRole.username, m.AdminRole.role))).all())
    outlets: dict[str, list[str]] = {}
    for username, code in await session.execute(
        select(m.AdminOutlet.username, m.AdminOutlet.outlet_code).order_by(
            m.AdminOutlet.outlet_code
        )
    ):
        outlets.setdefault(username, []).append(code)
    live = dict(
        (
            await session.execute(
                select(m.AdminApiToken.username, func.count())
                .where(m.AdminApiToken.revoked_at.is_(None))
                .group_by(m.AdminApiToken.username)
            )
        ).all()
    )
    return [
        AdminSummary(
            username=a.username,
            role=roles.get(a.username, "owner"),
            outlets=outlets.get(a.username, []),
            created_at=a.created_at,
            disabled_at=a.disabled_at,
            live_tokens=int(live.get(a.username, 0)),
        )
        for a in (await session.execute(select(m.Admin).order_by(m.Admin.username))).scalars()
    ]


async def list_all_tokens(*, session: AsyncSession) -> list[AdminToken]:
    """Every admin's tokens (never the secrets): live ones first, newest first."""
    rows = await session.execute(
        select(m.AdminApiToken).order_by(
            m.AdminApiToken.revoked_at.is_not(None), m.AdminApiToken.token_id.desc()
        )
    )
    return [
        AdminToken(
            token_id=t.token_id,
            username=t.username,
            name=t.name,
            created_at=t.created_at,
            last_used_at=t.last_used_at,
            revoked_at=t.revoked_at,
        )
        for t in rows.scalars()
    ]


async def revoke_token(
    *, session: AsyncSession, token_id: int, actor: str, ip: str | None = None
) -> AdminToken:
    """Revoke any admin's live token; what it was."""
    row = (
        await session.execute(
            select(m.AdminApiToken)
            .where(m.AdminApiToken.token_id == token_id, m.AdminApiToken.revoked_at.is_(None))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise AccountError(f"no live API token {token_id}")
    row.revoked_at = datetime.now(UTC)
    await session.flush()
    await audit.record(
        session=session,
        username=actor,
        action="api_token.revoke",
        target=f"{row.token_id} {row.name}",
        detail=f"a token of {row.username}" if row.username != actor else None,
        ip=ip,
    )
    return AdminToken(
        token_id=row.token_id,
        username=row.username,
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


async def _check_may_end(session: AsyncSession, *, username: str, actor: str) -> m.Admin:
    """The target row, locked, once it is sure the chain keeps an active owner."""
    if username == actor:
        raise AccountError("you cannot deactivate or remove yourself: ask another owner")
    active = list(
        (
            await session.execute(
                select(m.Admin).where(m.Admin.disabled_at.is_(None)).with_for_update()
            )
        ).scalars()
    )
    target = next((a for a in active if a.username == username), None)
    if target is None:
        target = await session.get(m.Admin, username, with_for_update=True)
    if target is None:
        raise AccountError(f"no admin {username!r}")
    roles = dict((await session.execute(select(m.AdminRole.username, m.AdminRole.role))).all())
    owners = {a.username for a in active if roles.get(a.username, "owner") == "owner"}
    if username in owners and owners == {username}:
        raise AccountError(f"{username} is the last active owner: make another owner first")
    return target


async def _end_access(session: AsyncSession, username: str) -> tuple[int, int]:
    ended = await session.execute(delete(m.AdminSession).where(m.AdminSession.username == username))
    revoked = await api_tokens.revoke_all(session=session, username=username)
    return int(getattr(ended, "rowcount", 0) or 0), revoked


async def deactivate(
    *, session: AsyncSession, username: str, actor: str, ip: str | None = None
) -> None:
    target = await _check_may_end(session, username=username, actor=actor)
    if target.disabled_at is not None:
        raise AccountError(f"{username} is already deactivated")
    target.disabled_at = datetime.now(UTC)
    sessions, tokens = await _end_access(session, username)
    await session.flush()
    await audit.record(
        session=session,
        username=actor,
        action="admin.deactivate",
        target=username,
        detail=f"{sessions} session(s) ended, {tokens} API token(s) revoked",
        ip=ip,
    )


async def reactivate(
    *, session: AsyncSession, username: str, actor: str, ip: str | None = None
) -> None:
    target = await session.get(m.Admin, username, with_for_update=True)
    if target is None:
        raise AccountError(f"no admin {username!r}")
    if target.disabled_at is None:
        raise AccountError(f"{username} is active")
    target.disabled_at = None
    await session.flush()
    await audit.record(
        session=session, username=actor, action="admin.reactivate", target=username, ip=ip
    )


async def remove(
    *, session: AsyncSession, username: str, actor: str, ip: str | None = None
) -> None:
    """Delete the account, its role, outlets, sessions and tokens (the audit trail keeps
    the name)."""
    await _check_may_end(session, username=username, actor=actor)
    sessions, tokens = await _end_access(session, username)
    for model in (m.AdminApiToken, m.AdminOutlet, m.AdminRole):
        await session.execute(delete(model).where(model.username == username))
    await session.execute(delete(m.Admin).where(m.Admin.username == username))
    await audit.record(
        session=session,
        username=actor,
        action="admin.remove",
        target=username,
        detail=f"{sessions} session(s) ended, {tokens} API token(s) revoked",
        ip=ip,
    )
