"""Odd input to the reports and the admin log-in, on SQLite and PostgreSQL: refused with a
4xx in words, never a 5xx; an outlet manager never reads chain-wide figures; a password
change ends the admin's API tokens."""

from __future__ import annotations

import base64

import pytest
from fastapi import FastAPI

from tests.hq.test_api_tokens import (  # noqa: F401  (fixtures)
    MANAGER,
    OWNER,
    PASSWORD,
    Store,
    app,
    bearer,
    client,
    csrf_of,
    log_in,
    make_token,
    period,
    session_token,
    store,
    store_url,
)


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
