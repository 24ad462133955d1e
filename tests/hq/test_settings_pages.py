"""Store settings and tenders pages on the real HQ app in-process (httpx over ASGI, a
real SQLite file): loyalty rates, an effective-dated GST rate and a tender switched off
reach a till's change feed; owners only; audited."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from hq import manage
from hq.app import create_app
from hq.config import Settings
from sync import protocol as p

OWNER, ACCOUNTANT, PASSWORD = "owner", "counter", "right-password-1"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    manage.seed_demo_sync(url)
    manage.create_admin_sync(url, username=OWNER, password=PASSWORD)
    manage.create_admin_sync(url, username=ACCOUNTANT, password=PASSWORD, role="accountant")
    return url


@pytest.fixture
def till_token(db_url: str) -> str:
    return manage.enroll_terminal_sync(db_url, outlet="A", terminal="T1").token


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
        page = await c.get("/settings")
        assert page.status_code == 200
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        yield c, csrf[1] if csrf else ""


async def test_settings_and_tenders_changed_in_the_web_reach_the_till(
    till_token: str, app: FastAPI, db_url: str
) -> None:
    later = date.today() + timedelta(days=30)
    async with logged_in(app, OWNER) as (c, csrf):
        store = {
            "store_name": "Kedai Mart",
            "address": "1 Main St",
            "gst_reg_no": "M9-1",
            "cents_per_point": "200",
            "point_value_cents": "2",
            "csrf_token": csrf,
        }
        for odd in ("M9-1", "!!!"):  # nothing a tax invoice may print
            r = await c.post("/settings/store", data=store | {"gst_reg_no": odd})
            assert r.status_code == 422 and "is not a GST registration number" in r.text
        r = await c.post("/settings/store", data=store | {"gst_reg_no": "m2-0012345-6"})
        assert r.status_code == 303
        r = await c.post(
            "/settings/gst-rates",
            data={"effective_from": later.isoformat(), "rate_percent": "10", "csrf_token": csrf},
        )
        assert r.status_code == 303
        past = await c.post(
            "/settings/gst-rates",
            data={"effective_from": "2020-01-01", "rate_percent": "1", "csrf_token": csrf},
        )
        assert past.status_code == 422 and "after today" in past.text
        page = await c.get("/settings")
        code = re.search(r'data-tender="([^"]+)"', page.text)
        assert code is not None
        r = await c.post(
            f"/tenders/{code[1]}",
            data={"name": "Cash (SGD)", "sort_order": "5", "csrf_token": csrf},
        )
        assert r.status_code == 303
        feed = await c.get(
            "/v1/sync/changes",
            params={"since": 0, "limit": 100_000},
            headers={"Authorization": f"Bearer {till_token}"},
        )
    changes = p.ChangePage.model_validate_json(feed.content).changes
    [settings] = [ch.data for ch in changes if ch.kind == "settings"]
    assert isinstance(settings, p.SettingsRecord)
    assert (settings.store_name, settings.loyalty_cents_per_point_earned) == ("Kedai Mart", 200)
    assert settings.gst_reg_no == "M2-0012345-6"
    assert settings.gst_rates[-1] == p.GstRate(effective_from=later, rate_bp=1000)
    assert all(r.effective_from != date(2020, 1, 1) for r in settings.gst_rates)
    [tender] = [ch.data for ch in changes if ch.kind == "tender" and ch.data.code == code[1]]
    assert isinstance(tender, p.TenderRecord)
    assert (tender.name, tender.active, tender.sort_order) == ("Cash (SGD)", False, 5)
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:
        actions = [
            r[0]
            for r in conn.execute(
                "SELECT action FROM admin_audit WHERE action LIKE 'settings.%' "
                "OR action LIKE 'tender.%' ORDER BY audit_id"
            )
        ]
    assert actions == ["settings.store", "settings.gst_rate", "tender.edit"]


async def test_an_accountant_cannot_change_settings(app: FastAPI) -> None:
    async with logged_in(app, ACCOUNTANT) as (c, csrf):
        r = await c.post(
            "/settings/gst-rates",
            data={"effective_from": "2099-01-01", "rate_percent": "50", "csrf_token": csrf},
        )
        assert r.status_code == 403
        assert "2099-01-01" not in (await c.get("/settings")).text


async def _tenders(app: FastAPI, token: str) -> dict[str, p.TenderRecord]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hq.test") as c:
        feed = await c.get(
            "/v1/sync/changes",
            params={"since": 0, "limit": 100_000},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert feed.status_code == 200, feed.text
    changes = p.ChangePage.model_validate_json(feed.content).changes
    return {ch.data.code: ch.data for ch in changes if isinstance(ch.data, p.TenderRecord)}


@pytest.fixture
def b_token(db_url: str) -> str:
    """A till at a second outlet, B."""
    return manage.enroll_terminal_sync(db_url, outlet="B", terminal="T1").token


async def test_an_outlet_that_does_not_take_a_tender_has_it_inactive_on_its_tills_only(
    till_token: str, b_token: str, app: FastAPI, db_url: str
) -> None:
    async with logged_in(app, OWNER) as (c, csrf):
        page = await c.get("/settings")
        assert 'name="taken_at" value="B" checked' in page.text
        r = await c.post(
            "/tenders/paynow",
            data={"name": "PayNow", "active": "1", "sort_order": "3", "outlets_listed": "1",
                  "taken_at": ["A", "DEMO"], "csrf_token": csrf},
        )  # fmt: skip
        assert r.status_code == 303
        page = await c.get("/settings")
        assert 'name="taken_at" value="B">' in page.text  # left unticked
    at_a, at_b = await _tenders(app, till_token), await _tenders(app, b_token)
    assert at_a["paynow"].active and not at_b["paynow"].active
    assert at_b["nets"].active  # only the one tender changed
    # A till that already holds the tender hears of the change: it moved to a new seq.
    async with logged_in(app, OWNER) as (c, csrf):
        r = await c.post(
            "/tenders/paynow",
            data={"name": "PayNow", "active": "1", "sort_order": "3", "outlets_listed": "1",
                  "taken_at": ["A", "B", "DEMO"], "csrf_token": csrf},
        )  # fmt: skip
        assert r.status_code == 303
    assert (await _tenders(app, b_token))["paynow"].active
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:
        details = [
            r[0]
            for r in conn.execute(
                "SELECT detail FROM admin_audit WHERE action = 'tender.edit' ORDER BY audit_id"
            )
        ]
        left = conn.execute("SELECT count(*) FROM outlet_tenders_refused").fetchone()
    assert details == ["active, order 3, not at B", "active, order 3"]
    assert left == (0,)


async def test_an_accountant_cannot_change_where_a_tender_is_taken(
    b_token: str, app: FastAPI, db_url: str
) -> None:
    async with logged_in(app, ACCOUNTANT) as (c, csrf):
        r = await c.post(
            "/tenders/paynow",
            data={"name": "PayNow", "active": "1", "sort_order": "3", "outlets_listed": "1",
                  "csrf_token": csrf},
        )  # fmt: skip
        assert r.status_code == 403
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:
        assert conn.execute("SELECT count(*) FROM outlet_tenders_refused").fetchone() == (0,)
