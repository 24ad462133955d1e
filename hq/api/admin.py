"""Who is asking, for the back office and ``/v1/reports``: admin session dependencies.

* ``AdminDep``: an admin session cookie, or HTTP Basic for scripts on read-only (GET)
  requests; anything else is a 401. Terminal bearer tokens are not even looked at: a
  till's token opens nothing here.
* ``ReportReaderDep``: ``AdminDep``, or an admin API token (``Authorization: Bearer
  kha_...``) on read-only (GET) requests: only the JSON reports under ``/v1/reports``
  declare it. A token opens no page, changes nothing, and is not a till's token (those
  open only ``/v1/sync``, and are not looked up here).
* ``PageAdminDep``: the same for HTML pages, but a browser without a session is sent to
  the log-in form (303) instead of getting a JSON 401.
* ``CsrfAdminDep``: for every state-changing request: a session (never Basic, which a
  browser would replay by itself), a CSRF token matching the session's, and, when the
  browser says where the request comes from, the same origin.
* ``OwnerDep``: the above, and the admin is an owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from sqlalchemy.exc import OperationalError

from hq import admins
from hq.admins import AdminProfile
from hq.api.deps import DatabaseDep, SettingsDep
from hq.api.errors import ApiError
from hq.auth import api_tokens, audit, sessions, throttle
from hq.auth.login import LoginPolicy, typed_username
from hq.config import Settings

_basic = HTTPBasic(auto_error=False, description="An HQ admin (kedai-hq create-admin)")
_api_token = HTTPBearer(
    auto_error=False,
    scheme_name="AdminApiToken",
    description=(
        "An admin API token (kha_..., made on the back office's API tokens page): acts as "
        "its admin, with their role and outlets, on read-only GET /v1/reports only"
    ),
)
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True, slots=True)
class AdminContext:
    profile: AdminProfile
    token: str | None
    """The session cookie's token (None when authenticated by HTTP Basic)."""
    csrf_token: str | None
    address: str | None

    @property
    def username(self) -> str:
        return self.profile.username


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def login_policy(settings: Settings) -> LoginPolicy:
    return LoginPolicy(
        throttle=throttle.Policy(
            slow_after=settings.login_slow_after,
            lock_after=settings.login_lock_after,
            lock_minutes=settings.login_lock_minutes,
        ),
        hash_concurrency=settings.password_hash_concurrency,
        session_hours=settings.session_hours,
    )


async def _from_session(db: DatabaseDep, request: Request) -> AdminContext | None:
    token = request.cookies.get(sessions.COOKIE)
    if not token:
        return None
    async with db.readers() as s, s.begin():
        found = await sessions.find(session=s, token=token)
        profile = await admins.admin_profile(session=s, username=found.username) if found else None
    if found is None or profile is None:
        return None
    return AdminContext(profile, token, found.csrf_token, client_address(request))


async def _from_basic(
    db: DatabaseDep, settings: Settings, request: Request, creds: HTTPBasicCredentials
) -> AdminContext | None:
    """Basic credentials go through the same throttle and hashing bound as the form."""
    address = client_address(request)
    username = typed_username(creds.username)
    keys = throttle.keys_for(username, address)
    policy = login_policy(settings)
    async with db.readers() as s, s.begin():
        if await throttle.refused_until(session=s, keys=keys):
            raise ApiError(429, "too_many_attempts", "too many failed log-ins; try later")
        stored = await admins.admin_password_hash(session=s, username=username)
    ok = await admins.check_admin_password(
        stored, creds.password, concurrency=policy.hash_concurrency
    )
    if not ok:
        async with db.sessions() as s, s.begin():
            await throttle.record_failure(session=s, keys=keys, policy=policy.throttle)
            await audit.record(session=s, username=username, action="login.failed", ip=address)
        return None
    async with db.readers() as s, s.begin():
        profile = await admins.admin_profile(session=s, username=username)
    return AdminContext(profile, None, None, address) if profile else None


async def current_admin(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    creds: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> AdminContext:
    found = await _from_session(db, request)
    if found is None and creds is not None and request.method in ("GET", "HEAD"):
        try:
            found = await _from_basic(db, settings, request, creds)
        except OperationalError as exc:  # the store stayed locked past its busy timeout
            raise ApiError(
                503, "unavailable", "HQ is busy; try again", headers={"Retry-After": "5"}
            ) from exc
    if found is None:
        raise ApiError(
            401,
            "unauthorized",
            "admin login required",
            headers={"WWW-Authenticate": 'Basic realm="kedai-hq"'},
        )
    return found


async def _from_api_token(db: DatabaseDep, request: Request, token: str) -> AdminContext | None:
    async with db.readers() as s, s.begin():
        found = await api_tokens.find(session=s, token=token)
        profile = await admins.admin_profile(session=s, username=found.username) if found else None
    if found is None or profile is None:
        return None
    if found.mark_due:
        try:
            async with db.sessions() as s, s.begin():
                await api_tokens.mark_used(session=s, token_id=found.token_id)
        except OperationalError:  # a busy store skips the bookkeeping, not the report
            pass
    return AdminContext(profile, None, None, client_address(request))


async def report_reader(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    creds: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_api_token)],
) -> AdminContext:
    if bearer is None:
        return await current_admin(request, db, settings, creds)
    found = await _from_session(db, request)
    if found is None and request.method in ("GET", "HEAD"):
        try:
            found = await _from_api_token(db, request, bearer.credentials)
        except OperationalError as exc:
            raise ApiError(
                503, "unavailable", "HQ is busy; try again", headers={"Retry-After": "5"}
            ) from exc
    if found is None:
        raise ApiError(
            401,
            "unauthorized",
            "invalid or revoked admin API token",
            headers={"WWW-Authenticate": 'Bearer realm="kedai-hq"'},
        )
    return found


async def page_admin(request: Request, db: DatabaseDep) -> AdminContext:
    found = await _from_session(db, request)
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise ApiError(
            303,
            "login_required",
            "log in first",
            headers={"Location": f"/login?next={quote(target)}"},
        )
    return found


def check_origin(request: Request) -> None:
    """Refuse a cross-site request outright when the browser names its origin."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin and origin != "null":
        if urlsplit(origin).netloc != request.headers.get("host", ""):
            raise ApiError(403, "csrf", "cross-site request refused")


async def csrf_token_sent(request: Request) -> str | None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    return sent


async def csrf_admin(request: Request, db: DatabaseDep) -> AdminContext:
    found = await _from_session(db, request)
    if found is None or found.csrf_token is None:
        raise ApiError(401, "unauthorized", "admin session required")
    check_origin(request)
    if not sessions.same_token(await csrf_token_sent(request), found.csrf_token):
        raise ApiError(403, "csrf", "missing or wrong CSRF token")
    return found


async def owner_admin(admin: Annotated[AdminContext, Depends(csrf_admin)]) -> AdminContext:
    if not admin.profile.can_change:
        role = admin.profile.role
        article = "an" if role[:1] in "aeiou" else "a"
        raise ApiError(403, "forbidden", f"{article} {role} cannot change anything here")
    return admin


AdminDep = Annotated[AdminContext, Depends(current_admin)]
ReportReaderDep = Annotated[AdminContext, Depends(report_reader)]
PageAdminDep = Annotated[AdminContext, Depends(page_admin)]
CsrfAdminDep = Annotated[AdminContext, Depends(csrf_admin)]
OwnerDep = Annotated[AdminContext, Depends(owner_admin)]
