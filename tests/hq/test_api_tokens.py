"""Admin access to the reports on the real HQ app in-process (httpx over ASGI), on SQLite
and on PostgreSQL. API tokens: made on the back-office page, read the JSON reports as their
admin (role and outlets), and nothing else; revoked (or after a password change), they open
nothing; stored hashed; audited. Odd input to the reports and the log-in is a 4xx in
words, never a 5xx; an outlet manager never reads chain-wide figures."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hq import manage
from hq.app import create_app
from hq.config import Settings
from tests.events import envelope, push_body, sale

PASSWORD = "token-pass-1"
OWNER, ACCOUNTANT, MANAGER = "boss", "books", "amk-lead"
SG = ZoneInfo("Asia/Singapore")


@dataclass
class Store:
    url: str
    terminals: dict[str, tuple[str, str]]
    """outlet -> (terminal id, terminal token)"""

    def rows(self, sql: str, **params: Any) -> list[Any]:
        url = make_url(self.url)
        driver = "postgresql+psycopg" if url.get_backend_name() == "postgresql" else "sqlite"
        engine = create_engine(url.set(drivername=driver))
        try:
            with engine.begin() as conn:
                result = conn.execute(text(sql), params)
                return list(result.all()) if result.returns_rows else []
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hq.db'}"
        return
    yield request.getfixturevalue("own_postgres_url")


@pytest.fixture
async def app(store_url: str) -> AsyncIterator[FastAPI]:
    def prepare() -> None:
        manage.create_admin_sync(store_url, username=OWNER, password=PASSWORD)
        manage.create_admin_sync(
            store_url, username=ACCOUNTANT, password=PASSWORD, role="accountant"
        )

    await asyncio.to_thread(prepare)
    application = create_app(Settings(database_url=store_url, secret_key="t" * 32))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def store(app: FastAPI, store_url: str) -> Store:
    """Two outlets with a till each and one sale each (AMK: 3 lines, BDK: 2 lines), and
    a manager of AMK only."""
    terminals = {}
    for outlet in ("AMK", "BDK"):
        enrolled = await asyncio.to_thread(
            manage.enroll_terminal_sync, store_url, outlet=outlet, terminal="T01"
        )
        terminals[outlet] = (enrolled.terminal_id, enrolled.token)
    await asyncio.to_thread(
        manage.create_admin_sync,
        store_url,
        username=MANAGER,
        password=PASSWORD,
        role="manager",
        outlets=["AMK"],
    )
    async with client(app) as c:
        for outlet, lines in (("AMK", 3), ("BDK", 2)):
            tid, token = terminals[outlet]
            r = await c.post(
                "/v1/sync/push",
                json=push_body(tid, [sale(tid, 1, lines=lines)]),
                headers=bearer(token),
            )
            assert r.json()["results"][0]["status"] == "accepted", r.text
    return Store(store_url, terminals)


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hq.test")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found[1]


def period() -> dict[str, str]:
    day = datetime.now(SG).date()
    return {
        "from": (day - timedelta(days=1)).isoformat(),
        "to": (day + timedelta(days=1)).isoformat(),
    }


async def log_in(c: httpx.AsyncClient, user: str) -> None:
    form = await c.get("/login")
    r = await c.post(
        "/login",
        data={"username": user, "password": PASSWORD, "csrf_token": csrf_of(form), "next": "/"},
    )
    assert r.status_code == 303, r.text


async def make_token(c: httpx.AsyncClient, name: str) -> str:
    """Through the page, as a logged-in admin would: the token is on the answer, once."""
    page = await c.get("/account/tokens")
    assert page.status_code == 200
    made = await c.post("/account/tokens", data={"name": name, "csrf_token": csrf_of(page)})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    found = re.search(r'<code id="token-value">([^<]+)</code>', made.text)
    assert found is not None
    return found[1]


async def session_token(app: FastAPI, user: str, name: str = "bi") -> str:
    async with client(app) as c:
        await log_in(c, user)
        return await make_token(c, name)


async def test_a_token_made_on_the_page_reads_the_same_figures_as_a_session(
    app: FastAPI, store: Store
) -> None:
    async with client(app) as c:
        await log_in(c, OWNER)
        assert (await c.post("/account/tokens", data={"name": "x"})).status_code == 403
        token = await make_token(c, "Power BI sales")
        assert token.startswith("kha_") and len(token) == 4 + 43
        listed = await c.get("/account/tokens")
        assert "Power BI sales" in listed.text and token not in listed.text  # shown once
        reads = (
            ("/v1/reports/summary", {}),
            ("/v1/reports/sales", {**period(), "group_by": "outlet"}),
            ("/v1/reports/tenders", period()),
        )
        by_session = [(await c.get(path, params=params)).json() for path, params in reads]
    async with client(app) as script:  # no cookie: the token alone
        for (path, params), expected in zip(reads, by_session, strict=True):
            got = await script.get(path, params=params, headers=bearer(token))
            assert got.status_code == 200, got.text
            assert got.json() == expected
        assert got.headers["cache-control"] == "no-store"
    sales = by_session[1]
    assert {r["key"] for r in sales["rows"]} == {"AMK", "BDK"}
    # stored as its sha256 only; the page shows when it was last used
    stored = store.rows("SELECT username, name, token_hash, last_used_at FROM admin_api_tokens")
    assert len(stored) == 1
    username, name, token_hash, last_used = stored[0]
    assert (username, name) == (OWNER, "Power BI sales") and last_used is not None
    assert token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in " ".join(str(v) for v in stored[0])
    if store.url.startswith("sqlite:///"):
        assert token.encode() not in Path(store.url.removeprefix("sqlite:///")).read_bytes()
    audit = store.rows("SELECT username, action, target FROM admin_audit WHERE action LIKE 'api%'")
    assert [(u, a) for u, a, _ in audit] == [(OWNER, "api_token.create")]
    assert "Power BI sales" in audit[0][2]


async def test_a_token_reads_with_its_admins_role_and_outlets(app: FastAPI, store: Store) -> None:
    accountant = await session_token(app, ACCOUNTANT)
    manager = await session_token(app, MANAGER)
    params = {**period(), "group_by": "outlet"}
    async with client(app) as c:
        books = await c.get("/v1/reports/sales", params=params, headers=bearer(accountant))
        assert books.status_code == 200
        assert {r["key"] for r in books.json()["rows"]} == {"AMK", "BDK"}
        assert (
            await c.get("/v1/reports/gst-f5", params=period(), headers=bearer(accountant))
        ).status_code == 200
        amk = await c.get("/v1/reports/sales", params=params, headers=bearer(manager))
        assert amk.status_code == 200
        assert [r["key"] for r in amk.json()["rows"]] == ["AMK"]
        assert amk.json()["total"]["transactions"] == 1
        # an owner-only JSON endpoint outside /v1/reports is not opened by any token
        owner = await session_token(app, OWNER)
        assert (await c.get("/v1/admin/audit", headers=bearer(owner))).status_code == 401


async def test_a_token_opens_nothing_but_report_reads(app: FastAPI, store: Store) -> None:
    tid, terminal_token = store.terminals["AMK"]
    bad = envelope(tid, 2, "sale.completed", {"total_cents": "lots"})
    async with client(app) as c:
        r = await c.post(
            "/v1/sync/push", json=push_body(tid, [bad]), headers=bearer(terminal_token)
        )
        assert r.json()["results"][0]["status"] == "rejected"
    event_id = bad["event_id"]
    token = await session_token(app, OWNER)
    auth = bearer(token)
    async with client(app) as c:
        assert (await c.get("/v1/reports/quarantine", headers=auth)).json()["open"] == 1
        for action in ("retry", "dismiss"):  # state changes need a session and its CSRF
            post = await c.post(
                f"/v1/reports/quarantine/{event_id}/{action}", json={"note": "x"}, headers=auth
            )
            assert post.status_code == 401, post.text
            assert post.json()["error"]["code"] == "unauthorized"
        assert (await c.get("/v1/reports/quarantine", headers=auth)).json()["open"] == 1
        # no till door, no page
        changes = await c.get("/v1/sync/changes", headers=auth)
        assert changes.status_code == 401 and changes.json()["error"]["code"] == "unauthorized"
        assert (
            await c.post("/v1/sync/push", json=push_body(tid, []), headers=auth)
        ).status_code == 401
        for page in ("/", "/reports/sales", "/account/tokens"):
            assert (await c.get(page, headers=auth)).status_code == 303
        # a till's token is never an admin's, even dressed as one
        for fake in (terminal_token, "kha_" + terminal_token):
            summary = await c.get("/v1/reports/summary", headers=bearer(fake))
            assert summary.status_code == 401
            assert summary.json()["error"]["code"] == "unauthorized"
        assert (await c.get("/v1/reports/summary", headers=auth)).status_code == 200


async def test_a_revoked_token_or_one_whose_admin_is_gone_is_refused(
    app: FastAPI, store: Store
) -> None:
    async with client(app) as c:
        await log_in(c, OWNER)
        kept = await make_token(c, "kept")
        gone = await make_token(c, "to revoke")
        page = await c.get("/account/tokens")
        row = re.search(r'data-token="(\d+)">\s*<td>to revoke</td>', page.text)
        assert row is not None
        url = f"/account/tokens/{row[1]}/revoke"
        assert (await c.post(url)).status_code == 403  # no CSRF token
        asked = await c.post(url, data={"csrf_token": csrf_of(page)})
        assert asked.status_code == 200 and "Revoke your API token “to revoke”?" in asked.text
        assert (await c.get("/v1/reports/summary", headers=bearer(gone))).status_code == 200
        done = await c.post(url, data={"csrf_token": csrf_of(page), "confirm": "1"})
        assert done.status_code == 303
        again = await c.post(url, data={"csrf_token": csrf_of(page)})
        assert again.status_code == 404
    async with client(app) as c:  # another admin cannot revoke the owner's tokens
        await log_in(c, ACCOUNTANT)
        page = await c.get("/account/tokens")
        kept_id = store.rows("SELECT token_id FROM admin_api_tokens WHERE name = 'kept'")[0][0]
        other = await c.post(
            f"/account/tokens/{kept_id}/revoke", data={"csrf_token": csrf_of(page)}
        )
        assert other.status_code == 404
    async with client(app) as c:
        refused = await c.get("/v1/reports/summary", headers=bearer(gone))
        assert refused.status_code == 401
        assert refused.json() == {
            "error": {"code": "unauthorized", "message": "invalid or revoked admin API token"}
        }
        assert (await c.get("/v1/reports/summary", headers=bearer(kept))).status_code == 200
    assert [
        (u, a)
        for u, a in store.rows(
            "SELECT username, action FROM admin_audit WHERE action LIKE 'api%' ORDER BY audit_id"
        )
    ] == [(OWNER, "api_token.create"), (OWNER, "api_token.create"), (OWNER, "api_token.revoke")]
    # an admin who is removed takes their tokens with them
    store.rows("DELETE FROM admins WHERE username = :u", u=OWNER)
    async with client(app) as c:
        assert (await c.get("/v1/reports/summary", headers=bearer(kept))).status_code == 401


async def test_the_openapi_schema_names_the_token_on_report_reads_only(app: FastAPI) -> None:
    async with client(app) as c:
        schema = (await c.get("/openapi.json")).json()
    scheme = schema["components"]["securitySchemes"]["AdminApiToken"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    paths = schema["paths"]

    def schemes(path: str, method: str) -> set[str]:
        return {name for req in paths[path][method].get("security", []) for name in req}

    assert "AdminApiToken" in schemes("/v1/reports/summary", "get")
    assert "AdminApiToken" in schemes("/v1/reports/loyalty", "get")
    assert "AdminApiToken" not in schemes("/v1/reports/quarantine/{event_id}/retry", "post")
    assert "AdminApiToken" not in schemes("/v1/sync/changes", "get")
    assert "AdminApiToken" not in schemes("/v1/admin/audit", "get")


# ------------------------------------------------------------------ odd input


def basic(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


async def test_the_chain_wide_summary_is_not_for_an_outlet_manager(
    app: FastAPI, store: Store
) -> None:
    manager = await session_token(app, MANAGER)
    owner = await session_token(app, OWNER)
    async with client(app) as c:
        refused = await c.get("/v1/reports/summary", headers=bearer(manager))
        assert refused.status_code == 403
        assert "/v1/reports/dashboard" in refused.json()["error"]["message"]
        assert (await c.get("/v1/reports/summary", headers=bearer(owner))).status_code == 200
        # the scoped reports still answer the manager, with their outlet only
        sales = await c.get(
            "/v1/reports/sales", params={**period(), "group_by": "outlet"}, headers=bearer(manager)
        )
        assert {r["key"] for r in sales.json()["rows"]} == {"AMK"}


@pytest.mark.parametrize(
    "params",
    [
        {"from": "9999-12-31", "to": "9999-12-31"},
        {"from": "0001-01-01", "to": "0001-01-01"},
        {"outlet": "AMK\x00"},
        {"terminal": "\x00"},
        {"cashier": "a\x00b"},
    ],
    ids=["year 9999", "year 1", "NUL outlet", "NUL terminal", "NUL cashier"],
)
async def test_odd_report_filters_are_a_422(app: FastAPI, store: Store, params: dict) -> None:
    token = await session_token(app, OWNER)
    async with client(app) as c:
        for path in ("/v1/reports/sales", "/v1/reports/gst-f5", "/v1/reports/overspend"):
            r = await c.get(path, params=params, headers=bearer(token))
            assert r.status_code == 422, (path, r.status_code, r.text)
            assert r.json()["error"]["code"] == "validation_error"
        r = await c.get("/v1/reports/loyalty", params={"q": "x\x00"}, headers=bearer(token))
        assert r.status_code == 422, r.text


async def test_a_nul_in_credentials_is_a_failed_log_in(app: FastAPI, store: Store) -> None:
    async with client(app) as c:
        for user, password in (("bo\x00ss", PASSWORD), (OWNER, "x\x00y")):
            r = await c.get("/v1/reports/summary", headers=basic(user, password))
            assert r.status_code == 401, r.text
        form = await c.get("/login")
        r = await c.post(
            "/login",
            data={"username": "a\x00", "password": "p", "csrf_token": csrf_of(form), "next": "/"},
        )
        assert r.status_code < 500 and "/login" in str(r.url), r.status_code
    failed = store.rows("SELECT count(*) FROM admin_audit WHERE action = 'login.failed'")
    assert failed[0][0] >= 3  # each attempt is on record, throttled like any other


async def test_odd_page_numbers_fall_back_to_the_first_page(app: FastAPI, store: Store) -> None:
    async with client(app) as c:
        await log_in(c, OWNER)
        for path in (
            "/reports/loyalty?page=²",
            "/reports/loyalty?size=³",
            "/reports/top-products?limit=²",
        ):
            r = await c.get(path)
            assert r.status_code == 200, (path, r.status_code)


async def test_a_password_change_revokes_the_admins_api_tokens(app: FastAPI, store: Store) -> None:
    async with client(app) as c:
        await log_in(c, OWNER)
        token = await make_token(c, "nightly export")
        assert (await c.get("/v1/reports/summary", headers=bearer(token))).status_code == 200
        page = await c.get("/account/password")
        changed = await c.post(
            "/account/password",
            data={
                "current": PASSWORD,
                "new": "a-new-pass-2",
                "confirm": "a-new-pass-2",
                "csrf_token": csrf_of(page),
            },
        )
        assert changed.status_code < 400, changed.text
    async with client(app) as script:
        assert (await script.get("/v1/reports/summary", headers=bearer(token))).status_code == 401
    detail = store.rows("SELECT detail FROM admin_audit WHERE action = 'password.changed'")
    assert "1 API token(s) revoked" in detail[0][0]
