"""Member pages on the real HQ app in-process (httpx over ASGI, a real SQLite file):
search, edit, adjust points as an audited signed delta in the ledger, which the tills
pull as the new balance (never the email or address)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from hq import enroll, manage
from hq.app import create_app
from hq.config import Settings
from hq.db import open_database
from sync import protocol as p

OWNER, ACCOUNTANT, PASSWORD = "owner", "counter", "right-password-1"
HAFIZ_PHONE = "98765432"  # demo member with 120 points


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    manage.seed_demo_sync(url)
    manage.create_admin_sync(url, username=OWNER, password=PASSWORD)
    manage.create_admin_sync(url, username=ACCOUNTANT, password=PASSWORD, role="accountant")
    manage.enroll_terminal_sync(url, outlet="A", terminal="T0")
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
        page = await c.get("/members")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        yield c, csrf[1] if csrf else ""


def sql(db_url: str, query: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:
        return conn.execute(query).fetchall()


async def hafiz_url(c: httpx.AsyncClient) -> str:
    found = await c.get("/members", params={"q": HAFIZ_PHONE})
    link = re.search(r'href="(/members/[0-9a-f-]+)"', found.text)
    assert link is not None
    return link[1]


async def test_points_adjustment_is_a_signed_audited_delta_the_tills_pull(
    app: FastAPI, db_url: str
) -> None:
    entries = "SELECT entry_id, points, reason, terminal_id FROM loyalty_entries"
    before = set(sql(db_url, entries))
    async with logged_in(app, OWNER) as (c, csrf):
        url = await hafiz_url(c)
        page = await c.get(url)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]  # type: ignore[index]
        r = await c.post(
            f"{url}/points",
            data={"points": "-20", "reason": "goodwill reversal", "csrf_token": csrf},
        )
        assert r.status_code == 303
        r = await c.post(
            f"{url}/points", data={"points": "-1000", "reason": "too many", "csrf_token": csrf}
        )
        assert r.status_code == 422 and "below zero" in r.text
        r = await c.post(f"{url}/points", data={"points": "5", "reason": " ", "csrf_token": csrf})
        assert r.status_code == 422
        details = {"name": "Hafiz bin Ali", "phone": HAFIZ_PHONE, "email": "hafiz@example",
                   "address": "2 Private Road", "csrf_token": csrf}  # fmt: skip
        r = await c.post(url, data=details)  # an email without a domain
        assert r.status_code == 422 and "is not an email address" in r.text
        r = await c.post(url, data=details | {"email": "hafiz@example.sg"})
        assert r.status_code == 303
        shown = await c.get(url)
        assert re.search(r'id="balance">100<', shown.text)
        assert "-20" in shown.text

        db = open_database(db_url)
        try:
            async with db.sessions() as s, s.begin():
                token = (
                    await enroll.enroll_terminal(session=s, outlet_code="A", terminal_code="T9")
                ).token
        finally:
            await db.dispose()
        r = await c.get(
            "/v1/sync/changes",
            params={"since": 0, "limit": 100_000},
            headers={"Authorization": f"Bearer {token}"},
        )
    changes: list[p.Change] = list(p.ChangePage.model_validate_json(r.content).changes)
    [hafiz] = [ch.data for ch in changes if ch.kind == "customer" and ch.data.phone == HAFIZ_PHONE]
    assert isinstance(hafiz, p.CustomerRecord)
    assert (hafiz.name, hafiz.loyalty_balance, hafiz.email) == ("Hafiz bin Ali", 100, None)
    assert "Private Road" not in r.text and "hafiz@example.sg" not in r.text
    assert [row[1:] for row in set(sql(db_url, entries)) - before] == [(-20, "adjust", None)]
    assert sql(
        db_url,
        "SELECT action, detail FROM admin_audit WHERE action LIKE 'member.%' ORDER BY audit_id",
    ) == [
        ("member.points", "-20 points: goodwill reversal"),
        ("member.edit", None),
    ]


async def test_an_accountant_sees_members_but_cannot_adjust(app: FastAPI, db_url: str) -> None:
    async with logged_in(app, ACCOUNTANT) as (c, _):
        url = await hafiz_url(c)
        page = await c.get(url)
        assert page.status_code == 200 and 'id="adjust-points"' not in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        token = csrf[1] if csrf else ""
        r = await c.post(f"{url}/points", data={"points": "50", "reason": "x", "csrf_token": token})
        assert r.status_code == 403
    assert sql(db_url, "SELECT count(*) FROM admin_audit WHERE action = 'member.points'") == [(0,)]
