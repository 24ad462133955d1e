"""Log-in, log-out and password change pages.

The log-in form itself is protected against login CSRF with a double-submit token: the
form carries a random value that must match a cookie set with it (a page on another site
can submit the form but cannot set our cookie). Every page after log-in uses the session's
own CSRF token.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import OperationalError

from hq.api.admin import CsrfAdminDep, PageAdminDep, client_address, login_policy
from hq.api.deps import DatabaseDep, SettingsDep
from hq.auth import login, sessions
from hq.pages.templating import render, sentence

log = logging.getLogger(__name__)
router = APIRouter()
LOGIN_CSRF_COOKIE = "kedai_login_csrf"


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or ``https://...``) may follow log-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_form(
    request: Request, *, next_path: str, error: str | None = None, status: int = 200,
    username: str = "", headers: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "auth/login.html",
        None,
        status=status,
        headers=headers,
        login_csrf=token,
        next_path=next_path,
        error=error,
        username=username,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/login",
        max_age=3600,
    )
    return response


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    return _login_form(request, next_path=_safe_next(next))


@router.post("/login")
async def login_submit(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    next_path = _safe_next(next)
    if not sessions.same_token(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _login_form(
            request,
            next_path=next_path,
            error="This form expired or came from another site. Please log in again.",
            status=403,
            username=username,
        )
    try:
        outcome = await login.log_in(
            db=db,
            username=username,
            password=password,
            address=client_address(request),
            policy=login_policy(settings),
        )
    except OperationalError:
        # The store stayed locked past its busy timeout (a flood of log-ins on SQLite):
        # say so with a 503 rather than fail, and count nothing.
        log.warning("log-in for %r not processed: the store is busy", username[:64])
        return _login_form(
            request,
            next_path=next_path,
            error="Head office is busy. Please try again in a moment.",
            status=503,
            username=username,
            headers={"Retry-After": "5"},
        )
    if outcome.retry_at is not None:
        wait = max(1, int((outcome.retry_at - datetime.now(UTC)).total_seconds()) + 1)
        return _login_form(
            request,
            next_path=next_path,
            error=f"Too many failed log-ins. Try again in {_wait_text(wait)}.",
            status=429,
            username=username,
            headers={"Retry-After": str(wait)},
        )
    if outcome.session is None:
        return _login_form(
            request,
            next_path=next_path,
            error="Wrong username or password.",
            status=401,
            username=username,
        )
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        sessions.COOKIE,
        outcome.session.token,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
        max_age=settings.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def _wait_text(seconds: int) -> str:
    if seconds < 120:
        return "1 second" if seconds == 1 else f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"


@router.post("/logout")
async def logout(request: Request, admin: CsrfAdminDep, db: DatabaseDep) -> Response:
    assert admin.token is not None
    await login.log_out(db=db, username=admin.username, token=admin.token, address=admin.address)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/", secure=_secure(request), httponly=True)
    return response


@router.get("/account/password")
async def password_page(request: Request, admin: PageAdminDep) -> Response:
    return render(request, "auth/password.html", admin)


@router.post("/account/password")
async def password_submit(
    request: Request,
    admin: CsrfAdminDep,
    db: DatabaseDep,
    settings: SettingsDep,
    current: Annotated[str, Form(max_length=1024)] = "",
    new: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    if new != confirm:
        return render(
            request, "auth/password.html", admin, status=422, error="The new passwords differ."
        )
    assert admin.token is not None
    try:
        await login.change_password(
            db=db,
            username=admin.username,
            token=admin.token,
            current=current,
            new=new,
            address=admin.address,
            policy=login_policy(settings),
        )
    except login.PasswordChangeError as exc:
        return render(request, "auth/password.html", admin, status=422, error=sentence(exc))
    except OperationalError:
        log.warning("password change for %r not processed: the store is busy", admin.username)
        return render(
            request,
            "auth/password.html",
            admin,
            status=503,
            error="Head office is busy. Try again.",
        )
    return render(request, "auth/password.html", admin, done=True)
