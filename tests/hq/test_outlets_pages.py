"""Outlet pages on the real HQ app in-process (httpx over ASGI, a real SQLite file):
create an outlet, enroll a terminal (token shown once, working at once), revoke it,
re-enroll it with a new token; owners only, every step audited."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from hq import manage
from hq.app import create_app
from hq.config import Settings

OWNER, ACCOUNTANT, PASSWORD = "owner", "counter", "right-password-1"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    manage.create_admin_sync(url, username=OWNER, password=PASSWORD)
    manage.create_admin_sync(url, username=ACCOUNTANT, password=PASSWORD, role="accountant")
    return url


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(Settings(database_url=db_url, secret_key="t" * 32))
    async with application.router.lifespan_context(application):
        yield application


@asynccontextmanager
async def logged_in(app: FastAPI, user: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hq.test") as c:
        form = await c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        r = await c.post(
            "/login", data={"username": user, "password": PASSWORD, "csrf_token": token[1]}
        )
        assert r.status_code == 303
        page = await c.get("/outlets")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        yield c, csrf[1] if csrf else ""


async def whoami(c: httpx.AsyncClient, token: str) -> int:
    r = await c.get("/v1/sync/whoami", headers={"Authorization": f"Bearer {token}"})
    return r.status_code


def audit(db_url: str) -> list[str]:
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:
        rows = conn.execute(
            "SELECT action FROM admin_audit WHERE action LIKE 'outlet.%' "
            "OR action LIKE 'terminal.%' ORDER BY audit_id"
        ).fetchall()
    return [r[0] for r in rows]


async def test_create_enroll_revoke_and_reenroll_from_the_web(app: FastAPI, db_url: str) -> None:
    async with logged_in(app, OWNER) as (c, csrf):
        outlet = {
            "code": "jp",
            "name": "Jurong Point",
            "address": "1 Jurong West Central 2",
            "gst_reg_no": "!!!",
            "opening_hours": "10:00-22:00",
            "csrf_token": csrf,
        }
        r = await c.post("/outlets", data=outlet)
        assert r.status_code == 422 and "is not a GST registration number" in r.text
        assert "Jurong Point" not in (await c.get("/outlets")).text  # nothing was saved
        r = await c.post("/outlets", data=outlet | {"gst_reg_no": "m90312345a"})
        assert r.status_code == 303
        r = await c.post("/outlets/JP/terminals", data={"terminal_code": "t01", "csrf_token": csrf})
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        found = re.search(r'<code id="token">([^<]+)</code>', r.text)
        assert found is not None and "JP-T01" in r.text
        token = found[1]
        assert await whoami(c, token) == 200
        listing = await c.get("/outlets")
        assert token not in listing.text and "M90312345A" in listing.text
        assert 'data-terminal="JP-T01"' in listing.text

        asked = await c.post("/terminals/JP-T01/revoke", data={"csrf_token": csrf})
        assert asked.status_code == 200 and "Revoke terminal JP-T01?" in asked.text
        assert 'name="confirm" value="1"' in asked.text and 'href="/outlets"' in asked.text
        assert await whoami(c, token) == 200  # the first press only asks
        r = await c.post("/terminals/JP-T01/revoke", data={"csrf_token": csrf, "confirm": "1"})
        assert r.status_code == 303
        assert await whoami(c, token) == 401

        again = await c.post(
            "/outlets/JP/terminals", data={"terminal_code": "T01", "csrf_token": csrf}
        )
        assert again.status_code == 422 and "already enrolled" in again.text
        r = await c.post(
            "/outlets/JP/terminals",
            data={"terminal_code": "T01", "replace": "1", "csrf_token": csrf},
        )
        new = re.search(r'<code id="token">([^<]+)</code>', r.text)  # revoked: no question
        assert new is not None and new[1] != token
        assert await whoami(c, new[1]) == 200 and await whoami(c, token) == 401

        replace = {"terminal_code": "T01", "replace": "1", "csrf_token": csrf}
        asked = await c.post("/outlets/JP/terminals", data=replace)
        assert asked.status_code == 200 and "Re-enroll terminal JP-T01" in asked.text
        assert '<code id="token">' not in asked.text and await whoami(c, new[1]) == 200
        r = await c.post("/outlets/JP/terminals", data={**replace, "confirm": "1"})
        newer = re.search(r'<code id="token">([^<]+)</code>', r.text)
        assert newer is not None and await whoami(c, new[1]) == 401
        assert await whoami(c, newer[1]) == 200
    assert audit(db_url) == [
        "outlet.create",
        "terminal.enroll",
        "terminal.revoke",
        "terminal.reenroll",
        "terminal.reenroll",
    ]


@pytest.fixture
def enrolled_jp(db_url: str) -> str:
    return manage.enroll_terminal_sync(db_url, outlet="JP", terminal="T01").terminal_id


async def test_an_accountant_can_look_but_not_enroll(
    enrolled_jp: str, app: FastAPI, db_url: str
) -> None:
    async with logged_in(app, ACCOUNTANT) as (c, csrf):
        page = await c.get("/outlets")
        assert page.status_code == 200 and "JP-T01" in page.text and "Revoke" not in page.text
        r = await c.post("/outlets/JP/terminals", data={"terminal_code": "T02", "csrf_token": csrf})
        assert r.status_code == 403
        r = await c.post("/terminals/JP-T01/revoke", data={"csrf_token": csrf})
        assert r.status_code == 403
    assert audit(db_url) == []
