"""Staff pages on the real HQ app in-process (httpx over ASGI, a real SQLite file): add a
cashier at an outlet, PIN rules, reassign, deactivate, approval limits; owners only, CSRF
required, every change audited and pulled by the right outlet's tills."""

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
from sync.pins import verify_pin

OWNER, ACCOUNTANT, PASSWORD = "owner", "counter", "right-password-1"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    manage.seed_demo_sync(url)
    manage.create_admin_sync(url, username=OWNER, password=PASSWORD)
    manage.create_admin_sync(url, username=ACCOUNTANT, password=PASSWORD, role="accountant")
    for outlet in ("A", "B"):
        manage.enroll_terminal_sync(url, outlet=outlet, terminal="T0")
    return url


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(Settings(database_url=db_url, secret_key="t" * 32))
    async with application.router.lifespan_context(application):
        yield application


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hq.test")


@asynccontextmanager
async def logged_in(app: FastAPI, user: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    async with client(app) as c:
        yield c, await _log_in(c, user)


async def _log_in(c: httpx.AsyncClient, user: str) -> str:
    form = await c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    r = await c.post(
        "/login",
        data={"username": user, "password": PASSWORD, "csrf_token": token[1], "next": "/"},
    )
    assert r.status_code == 303, r.text
    page = await c.get("/staff")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    return csrf[1]


async def till_token(db_url: str, outlet: str) -> str:
    db = open_database(db_url)
    try:
        async with db.sessions() as s, s.begin():
            found = await enroll.enroll_terminal(
                session=s, outlet_code=outlet, terminal_code="T9", replace=True
            )
    finally:
        await db.dispose()
    return found.token


async def feed(c: httpx.AsyncClient, token: str) -> list[p.Change]:
    r = await c.get(
        "/v1/sync/changes",
        params={"since": 0, "limit": 100_000},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    changes: list[p.Change] = []
    since = 0
    while True:
        page = p.ChangePage.model_validate_json(r.content)
        changes += page.changes
        if not page.more:
            return changes
        since = page.next
        r = await c.get(
            "/v1/sync/changes",
            params={"since": since},
            headers={"Authorization": f"Bearer {token}"},
        )


def audit(db_url: str) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:
        return conn.execute(
            "SELECT username, action FROM admin_audit WHERE action LIKE 'staff.%' "
            "OR action LIKE 'settings.%' ORDER BY audit_id"
        ).fetchall()


async def test_owner_adds_a_cashier_at_a_whom_only_a_tills_receive(
    app: FastAPI, db_url: str
) -> None:
    async with logged_in(app, OWNER) as (c, csrf):
        r = await c.post(
            "/staff",
            data={
                "name": "Ahmad",
                "role": "cashier",
                "outlet": "A",
                "pin": "4821",
                "csrf_token": csrf,
            },
        )
        assert r.status_code == 303 and r.headers["location"] == "/staff?done=created"
        page = await c.get("/staff")
        assert "Ahmad" in page.text
        a_feed = await feed(c, await till_token(db_url, "A"))
        b_feed = await feed(c, await till_token(db_url, "B"))
    [ahmad] = [ch.data for ch in a_feed if ch.kind == "cashier" and ch.data.name == "Ahmad"]
    assert isinstance(ahmad, p.CashierRecord)
    assert verify_pin("4821", ahmad.pin_hash) and "4821" not in ahmad.pin_hash
    assert not any(ch.kind == "cashier" and ch.data.name == "Ahmad" for ch in b_feed)
    assert audit(db_url) == [(OWNER, "staff.create")]


async def test_a_manager_pin_needs_six_digits_and_nothing_is_saved(
    app: FastAPI, db_url: str
) -> None:
    async with logged_in(app, OWNER) as (c, csrf):
        r = await c.post(
            "/staff",
            data={
                "name": "Boss",
                "role": "manager",
                "outlet": "A",
                "pin": "12345",
                "csrf_token": csrf,
            },
        )
        assert r.status_code == 422 and "6 to 12 digits" in r.text
        assert "Boss" not in (await c.get("/staff")).text
    assert audit(db_url) == []


async def test_a_pin_another_person_on_the_same_tills_has_is_refused(
    app: FastAPI, db_url: str
) -> None:
    def add(name: str, outlet: str, pin: str, csrf: str) -> dict[str, str]:
        return {"name": name, "role": "cashier", "outlet": outlet, "pin": pin, "csrf_token": csrf}

    async with logged_in(app, OWNER) as (c, csrf):
        assert (await c.post("/staff", data=add("Ahmad", "A", "4821", csrf))).status_code == 303
        r = await c.post("/staff", data=add("Bala", "A", "4821", csrf))
        assert r.status_code == 422 and "Another person at A already has this PIN" in r.text
        # another outlet's tills never see Ahmad: the same PIN is theirs to use
        assert (await c.post("/staff", data=add("Chen", "B", "4821", csrf))).status_code == 303
        assert (await c.post("/staff", data=add("Devi", "A", "5555", csrf))).status_code == 303
        page = await c.get("/staff")
        found = re.search(r'<tr data-cashier="([0-9a-f-]+)">\s*<td>Devi</td>', page.text)
        assert found is not None
        r = await c.post(f"/staff/{found[1]}/pin", data={"pin": "4821", "csrf_token": csrf})
        assert r.status_code == 422 and "already has this PIN" in r.text
        r = await c.post(f"/staff/{found[1]}/pin", data={"pin": "5555", "csrf_token": csrf})
        assert r.status_code == 303, "a person may keep their own PIN"
        # moving Chen to A, or bringing Devi back after her PIN was given out, would put
        # two equal PINs on A's tills: both take a PIN, checked against the people there
        chen = re.search(r'<tr data-cashier="([0-9a-f-]+)">\s*<td>Chen</td>', page.text)
        assert chen is not None
        move = {"outlet": "A", "pin": "4821", "csrf_token": csrf}
        r = await c.post(f"/staff/{chen[1]}/outlet", data=move)
        assert r.status_code == 422 and "Another person at A already has this PIN" in r.text
        assert (await c.post(f"/staff/{chen[1]}/outlet", data=move | {"pin": "4822"})).is_redirect
        devi = f"/staff/{found[1]}"
        r = await c.post(f"{devi}/active", data={"active": "0", "csrf_token": csrf})
        assert r.status_code == 303
        ahmad = re.search(r'<tr data-cashier="([0-9a-f-]+)">\s*<td>Ahmad</td>', page.text)
        assert ahmad is not None
        r = await c.post(f"/staff/{ahmad[1]}/pin", data={"pin": "5555", "csrf_token": csrf})
        assert r.status_code == 303, "Devi is inactive: her PIN is free"
        back = {"active": "1", "csrf_token": csrf}
        r = await c.post(f"{devi}/active", data=back)
        assert r.status_code == 422 and "Reactivating needs a PIN for them at A" in r.text
        r = await c.post(f"{devi}/active", data=back | {"pin": "5555"})
        assert r.status_code == 422 and "Another person at A already has this PIN" in r.text
        assert (await c.post(f"{devi}/active", data=back | {"pin": "6666"})).is_redirect
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:
        names = {name for (name,) in conn.execute("SELECT name FROM cashiers")}
        [(devi_hash,)] = conn.execute("SELECT pin_hash FROM cashiers WHERE name = 'Devi'")
        active = dict(conn.execute("SELECT name, active FROM cashiers"))
        [(chen_hash,)] = conn.execute("SELECT pin_hash FROM cashiers WHERE name = 'Chen'")
    assert "Bala" not in names and {"Ahmad", "Chen", "Devi"} <= names
    assert verify_pin("6666", devi_hash) and active["Devi"] and verify_pin("4822", chen_hash)


async def test_only_an_owner_with_the_csrf_token_changes_staff(app: FastAPI, db_url: str) -> None:
    async with logged_in(app, ACCOUNTANT) as (c, csrf):
        page = await c.get("/staff")
        assert 'id="add-staff"' not in page.text
        r = await c.post(
            "/staff",
            data={
                "name": "Eve",
                "role": "cashier",
                "outlet": "A",
                "pin": "1111",
                "csrf_token": csrf,
            },
        )
        assert r.status_code == 403
    async with logged_in(app, OWNER) as (c, csrf):
        r = await c.post(
            "/staff", data={"name": "Eve", "role": "cashier", "outlet": "A", "pin": "1111"}
        )
        assert r.status_code == 403
    assert audit(db_url) == []


async def test_reset_pin_move_and_deactivate_flow_down(app: FastAPI, db_url: str) -> None:
    async with logged_in(app, OWNER) as (c, csrf):
        await c.post(
            "/staff",
            data={
                "name": "Ahmad",
                "role": "cashier",
                "outlet": "A",
                "pin": "4821",
                "csrf_token": csrf,
            },
        )
        page = await c.get("/staff")
        found = re.search(r'<tr data-cashier="([0-9a-f-]+)">\s*<td>Ahmad</td>', page.text)
        assert found is not None
        cid = found[1]
        r = await c.post(f"/staff/{cid}/pin", data={"pin": "7777", "csrf_token": csrf})
        assert r.status_code == 303
        move = {"outlet": "B", "csrf_token": csrf}
        r = await c.post(f"/staff/{cid}/outlet", data=move)
        assert r.status_code == 422 and "Moving someone active needs a PIN for them at B" in r.text
        r = await c.post(f"/staff/{cid}/outlet", data=move | {"pin": "7777"})  # their own
        assert r.status_code == 303
        r = await c.post(f"/staff/{cid}/active", data={"active": "0", "csrf_token": csrf})
        assert r.status_code == 303
        a_feed = await feed(c, await till_token(db_url, "A"))
        b_feed = await feed(c, await till_token(db_url, "B"))
    assert not any(ch.kind == "cashier" and str(ch.data.cashier_id) == cid for ch in a_feed)
    assert any(ch.kind == "cashier_removed" and str(ch.data.cashier_id) == cid for ch in a_feed)
    [rec] = [ch.data for ch in b_feed if ch.kind == "cashier" and str(ch.data.cashier_id) == cid]
    assert isinstance(rec, p.CashierRecord)
    assert verify_pin("7777", rec.pin_hash) and rec.active is False
    assert [a for _, a in audit(db_url)] == [
        "staff.create",
        "staff.pin",
        "staff.reassign",
        "staff.deactivate",
    ]


async def test_approval_limits_saved_in_the_web_reach_the_tills(app: FastAPI, db_url: str) -> None:
    async with logged_in(app, OWNER) as (c, csrf):
        form = {
            "line_discount_bp": "1500",
            "line_discount_cents": "1000",
            "sale_discount_bp": "1000",
            "sale_discount_cents": "3000",
            "refund_cents": "2500",
            "void": "1",
            "cancel": "1",
            "csrf_token": csrf,
        }
        r = await c.post("/settings/approval-limits", data=form)
        assert r.status_code == 303
        bad = await c.post("/settings/approval-limits", data={**form, "line_discount_bp": "20000"})
        assert bad.status_code == 422
        changes = await feed(c, await till_token(db_url, "B"))
    [settings] = [ch.data for ch in changes if ch.kind == "settings"]
    assert isinstance(settings, p.SettingsRecord)
    limits = settings.approval_limits
    assert (limits.line_discount_bp, limits.refund_cents, limits.void, limits.no_sale) == (
        1500,
        2500,
        True,
        False,
    )
    assert audit(db_url) == [(OWNER, "settings.approval_limits")]
