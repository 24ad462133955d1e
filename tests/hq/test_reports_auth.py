"""The back office's doors, on the real HQ app in-process (httpx over ASGI, a real SQLite
file): sessions, cookie flags, CSRF, roles, throttling, bounded hashing, audit."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from hq import admins, manage
from hq.app import create_app
from hq.auth import throttle
from hq.config import Settings
from tests.events import envelope, push_body, sale

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


def client(app: FastAPI, base: str = "http://hq.test") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """The throttle's clock, stepped by the test."""
    now = [datetime.now(UTC)]
    monkeypatch.setattr(throttle, "now", lambda: now[0])
    yield now


def audit_actions(db_url: str) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:
        return conn.execute("SELECT username, action FROM admin_audit ORDER BY audit_id").fetchall()


async def log_in(c: httpx.AsyncClient, user: str, password: str = PASSWORD) -> httpx.Response:
    form = await c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    return await c.post(
        "/login",
        data={"username": user, "password": password, "csrf_token": token[1], "next": "/"},
    )


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found[1]


async def test_log_in_sets_a_safe_cookie_and_log_out_ends_the_session(
    app: FastAPI, db_url: str
) -> None:
    async with client(app) as c:
        assert (await c.get("/")).headers["location"] == "/login?next=/"
        ok = await log_in(c, OWNER)
        assert ok.status_code == 303 and ok.headers["location"] == "/"
        cookie = ok.headers["set-cookie"]
        assert "kedai_session=" in cookie and "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower() and "Secure" not in cookie
        home = await c.get("/")
        assert home.status_code == 200 and "Dashboard" in home.text
        stolen = c.cookies["kedai_session"]
        out = await c.post("/logout", data={"csrf_token": csrf_of(home)})
        assert out.status_code == 303 and out.headers["location"] == "/login"
    async with client(app) as c:  # the old cookie opens nothing once logged out
        c.cookies.set("kedai_session", stolen)
        assert (await c.get("/")).status_code == 303
        assert (await c.get("/v1/reports/sales")).status_code == 401
    async with client(app, "https://hq.test") as c:
        assert "Secure" in (await log_in(c, OWNER)).headers["set-cookie"]
    assert [a for _, a in audit_actions(db_url)] == ["login", "logout", "login"]


async def test_a_wrong_password_is_refused_and_audited(app: FastAPI, db_url: str) -> None:
    async with client(app) as c:
        bad = await log_in(c, OWNER, "wrong-password")
        assert bad.status_code == 401 and "Wrong username or password" in bad.text
        assert "kedai_session" not in c.cookies
        nobody = await log_in(c, "nobody", PASSWORD)
        assert nobody.status_code == 401
    assert audit_actions(db_url) == [(OWNER, "login.failed"), ("nobody", "login.failed")]


async def test_state_changes_need_the_csrf_token_and_the_same_origin(app: FastAPI) -> None:
    async with client(app) as c:
        await log_in(c, OWNER)
        page = await c.get("/account/password")
        token = csrf_of(page)
        assert (await c.post("/logout")).status_code == 403
        assert (await c.post("/logout", data={"csrf_token": "forged"})).status_code == 403
        cross = await c.post(
            "/logout", data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
        )
        assert cross.status_code == 403
        assert (await c.get("/")).status_code == 200  # still logged in
        # the log-in form itself: its token must match its cookie
        c.cookies.delete("kedai_login_csrf", path="/login")
        forged = await c.post(
            "/login", data={"username": OWNER, "password": PASSWORD, "csrf_token": "x"}
        )
        assert forged.status_code == 403


async def test_terminal_tokens_open_nothing(app: FastAPI, db_url: str) -> None:
    enrolled = await asyncio.to_thread(
        manage.enroll_terminal_sync, db_url, outlet="AMK", terminal="T01"
    )
    bearer = {"Authorization": f"Bearer {enrolled.token}"}
    async with client(app) as c:
        assert (await c.get("/", headers=bearer)).status_code == 303
        for path in ("/v1/reports/sales", "/v1/reports/gst-f5", "/v1/admin/audit"):
            assert (await c.get(path, headers=bearer)).status_code == 401


async def _quarantined_event(app: FastAPI, db_url: str) -> str:
    enrolled = await asyncio.to_thread(
        manage.enroll_terminal_sync, db_url, outlet="AMK", terminal="T02"
    )
    tid = enrolled.terminal_id
    bad = envelope(tid, 1, "sale.completed", {"total_cents": "lots"})
    async with client(app) as c:
        r = await c.post(
            "/v1/sync/push",
            json=push_body(tid, [bad, sale(tid, 2)]),
            headers={"Authorization": f"Bearer {enrolled.token}"},
        )
    assert [x["status"] for x in r.json()["results"]] == ["rejected", "accepted"]
    return str(bad["event_id"])


async def test_an_accountant_reads_but_cannot_change_anything(app: FastAPI, db_url: str) -> None:
    event_id = await _quarantined_event(app, db_url)
    async with client(app) as c:
        await log_in(c, ACCOUNTANT)
        page = await c.get("/reports/quarantine")
        assert page.status_code == 200 and "lots" in page.text
        assert "Dismiss" not in page.text  # no button for a read-only role
        token = csrf_of(page)
        form = await c.post(
            f"/reports/quarantine/{event_id}/dismiss", data={"csrf_token": token, "note": "x"}
        )
        assert form.status_code == 403
        api = await c.post(
            f"/v1/reports/quarantine/{event_id}/dismiss",
            json={"note": "x"},
            headers={"X-CSRF-Token": token},
        )
        assert api.status_code == 403
        assert (await c.get("/audit")).status_code == 403
        assert (await c.get("/v1/admin/audit")).status_code == 403
        assert (await c.get("/reports/gst-f5")).status_code == 200
    async with client(app) as c:  # an owner may, once, and it is audited
        await log_in(c, OWNER)
        page = await c.get("/reports/quarantine")
        assert "Dismiss" in page.text
        headers = {"X-CSRF-Token": csrf_of(page)}
        url = f"/v1/reports/quarantine/{event_id}/dismiss"
        assert (await c.post(url, json={"note": "test sale"})).status_code == 403  # no token
        first = await c.post(url, json={"note": "test sale"}, headers=headers)
        assert first.json() == {"event_id": event_id, "dismissed": True}
        again = await c.post(url, json={"note": "test sale"}, headers=headers)
        assert again.json()["dismissed"] is False
        missing = await c.post(
            f"/v1/reports/quarantine/{uuid.uuid4()}/dismiss", json={"note": "x"}, headers=headers
        )
        assert missing.status_code == 404
        listed = (await c.get("/v1/reports/quarantine")).json()
        assert listed["open"] == 0 and listed["rows"][0]["dismissed_by"] == OWNER
        assert "total_cents" in listed["rows"][0]["raw"]
    actions = audit_actions(db_url)
    assert (OWNER, "quarantine.dismiss") in actions
    assert (ACCOUNTANT, "quarantine.dismiss") not in actions


async def test_failing_logins_are_slowed_then_locked(
    app: FastAPI, db_url: str, clock: list[datetime]
) -> None:
    async with client(app) as c:
        for _ in range(3):
            assert (await log_in(c, OWNER, "wrong-password")).status_code == 401
        slowed = await log_in(c, OWNER, PASSWORD)  # even the right password must wait
        assert slowed.status_code == 429 and "Retry-After" in slowed.headers
        clock[0] += timedelta(seconds=30)
        for _ in range(6):  # 10 failures in all, counting the early tries
            r = await log_in(c, OWNER, "wrong-password")
            assert r.status_code in (401, 429)
            clock[0] += timedelta(seconds=1)
        clock[0] += timedelta(minutes=2)
        locked = await log_in(c, OWNER, PASSWORD)
        assert locked.status_code == 429 and "minutes" in locked.text
        other = await log_in(c, ACCOUNTANT, PASSWORD)  # another user is not locked out
        assert other.status_code == 303
        clock[0] += timedelta(minutes=16)
        assert (await log_in(c, OWNER, PASSWORD)).status_code == 303
    actions = [a for u, a in audit_actions(db_url) if u == OWNER]
    assert "login.throttled" in actions and actions[-1] == "login"


async def test_password_change_signs_out_other_sessions(app: FastAPI) -> None:
    async with client(app) as a, client(app) as b:
        await log_in(a, OWNER)
        await log_in(b, OWNER)
        token = csrf_of(await a.get("/account/password"))
        wrong = await a.post(
            "/account/password",
            data={"csrf_token": token, "current": "nope-nope", "new": "n3w-password",
                  "confirm": "n3w-password"},
        )  # fmt: skip
        assert wrong.status_code == 422 and "current password is wrong" in wrong.text
        ok = await a.post(
            "/account/password",
            data={"csrf_token": token, "current": PASSWORD, "new": "n3w-password",
                  "confirm": "n3w-password"},
        )  # fmt: skip
        assert ok.status_code == 200 and "Password changed" in ok.text
        assert (await a.get("/")).status_code == 200
        assert (await b.get("/")).status_code == 303
    async with client(app) as c:
        assert (await log_in(c, OWNER, PASSWORD)).status_code == 401
        assert (await log_in(c, OWNER, "n3w-password")).status_code == 303


async def test_password_checks_run_at_most_the_configured_number_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inside, most = 0, 0
    lock, release = threading.Lock(), threading.Event()

    def slow_check(stored: str | None, password: str) -> bool:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        release.wait(timeout=30)
        with lock:
            inside -= 1
        return False

    monkeypatch.setattr(admins, "_check", slow_check)
    checks = [
        asyncio.create_task(admins.check_admin_password(None, "x", concurrency=2))
        for _ in range(12)
    ]
    while True:  # wait until the semaphore is full, then let everything through
        with lock:
            if inside == 2:
                break
        await asyncio.sleep(0.01)
    release.set()
    assert await asyncio.gather(*checks) == [False] * 12
    assert most == 2


async def test_basic_auth_reads_but_never_writes(app: FastAPI, db_url: str) -> None:
    event_id = await _quarantined_event(app, db_url)
    async with client(app) as c:
        auth = (OWNER, PASSWORD)
        assert (await c.get("/v1/reports/tenders", auth=auth)).status_code == 200
        post: Any = await c.post(f"/v1/reports/quarantine/{event_id}/dismiss", json={}, auth=auth)
        assert post.status_code == 401


async def test_csv_downloads_are_audited_and_never_carry_a_formula(
    app: FastAPI, db_url: str
) -> None:
    enrolled = await asyncio.to_thread(
        manage.enroll_terminal_sync, db_url, outlet="AMK", terminal="T03"
    )
    tid = enrolled.terminal_id
    event = sale(tid, 1)
    event["payload"]["lines"][0]["name"] = '=HYPERLINK("http://evil.example","x")'
    async with client(app) as c:
        r = await c.post(
            "/v1/sync/push",
            json=push_body(tid, [event]),
            headers={"Authorization": f"Bearer {enrolled.token}"},
        )
        assert r.json()["results"][0]["status"] == "accepted"
        await log_in(c, ACCOUNTANT)
        got = await c.get("/reports/top-products.csv", params={"terminal": tid})
    assert got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    names = {r[1]: r[2] for r in rows[1:]}
    assert names["SKU-000"] == '\'=HYPERLINK("http://evil.example","x")'
    assert names["SKU-001"] == "Item 1"
    assert (ACCOUNTANT, "report.export") in audit_actions(db_url)
