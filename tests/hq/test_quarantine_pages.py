"""Retry and dismiss on the quarantine page, on the real HQ app in-process (httpx over
ASGI, a real SQLite file): CSRF-protected forms, owner only, a reason to dismiss, audited."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from hq import manage
from hq.app import create_app
from hq.config import Settings
from tests.events import envelope, push_body
from tests.hq.test_reports_auth import (
    ACCOUNTANT,
    OWNER,
    PASSWORD,
    audit_actions,
    client,
    csrf_of,
    log_in,
)


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


async def two_refused(app: FastAPI, db_url: str) -> list[str]:
    """Two events refused for good (a payload that is not one), seqs 1 and 2."""
    enrolled = await asyncio.to_thread(
        manage.enroll_terminal_sync, db_url, outlet="AMK", terminal="T01"
    )
    tid = enrolled.terminal_id
    bad = [envelope(tid, n, "sale.completed", {"total_cents": "lots"}) for n in (1, 2)]
    async with client(app) as c:
        r = await c.post(
            "/v1/sync/push",
            json=push_body(tid, bad),
            headers={"Authorization": f"Bearer {enrolled.token}"},
        )
    assert [x["status"] for x in r.json()["results"]] == ["rejected", "rejected"]
    return [str(e["event_id"]) for e in bad]


async def test_owner_retries_and_dismisses_from_the_page(app: FastAPI, db_url: str) -> None:
    first, second = await two_refused(app, db_url)
    async with client(app) as c:
        await log_in(c, OWNER)
        page = await c.get("/reports/quarantine", params={"terminal": "AMK-T01"})
        assert page.text.count(">Retry</button>") == 2
        token = csrf_of(page)
        back = "/reports/quarantine?terminal=AMK-T01"
        assert (await c.post(f"/reports/quarantine/{first}/retry", data={})).status_code == 403
        retried = await c.post(
            f"/reports/quarantine/{first}/retry", data={"csrf_token": token, "back": back}
        )
        assert retried.status_code == 303
        assert retried.headers["location"] == f"{back}&retried={first}&outcome=rejected"
        shown = await c.get(retried.headers["location"])
        assert "was refused again" in shown.text and f'id="q-{first}"' in shown.text
        evil = await c.post(
            f"/reports/quarantine/{first}/retry",
            data={"csrf_token": token, "back": "https://evil.example/"},
        )
        assert evil.headers["location"].startswith("/reports/quarantine?retried=")

        no_reason = await c.post(
            f"/reports/quarantine/{second}/dismiss", data={"csrf_token": token, "note": "  "}
        )
        assert no_reason.status_code == 422
        dismissed = await c.post(
            f"/reports/quarantine/{second}/dismiss",
            data={"csrf_token": token, "note": "test sale", "back": back},
        )
        assert dismissed.status_code == 303 and dismissed.headers["location"] == back
        listed = (await c.get("/v1/reports/quarantine")).json()
        assert (listed["open"], listed["dismissed"]) == (1, 1)
        again = await c.post(
            f"/v1/reports/quarantine/{second}/retry", headers={"X-CSRF-Token": token}
        )
        assert again.status_code == 409 and "dismissed" in again.json()["error"]["message"]
        unknown = await c.post(
            f"/v1/reports/quarantine/{uuid.uuid4()}/retry", headers={"X-CSRF-Token": token}
        )
        assert unknown.status_code == 404
        odd = await c.post(
            "/v1/reports/quarantine/not-a-uuid/retry", headers={"X-CSRF-Token": token}
        )
        assert odd.status_code == 422
    actions = [a for u, a in audit_actions(db_url) if u == OWNER]
    assert actions.count("quarantine.retry.rejected") == 2
    assert actions.count("quarantine.dismiss") == 1


async def test_accountants_and_managers_cannot_retry_or_dismiss(app: FastAPI, db_url: str) -> None:
    first, _ = await two_refused(app, db_url)
    await asyncio.to_thread(
        manage.create_admin_sync, db_url, username="mgr", password=PASSWORD, role="manager",
        outlets=["AMK"],
    )  # fmt: skip
    for who in (ACCOUNTANT, "mgr"):
        async with client(app) as c:
            await log_in(c, who)
            page = await c.get("/reports/quarantine")
            assert page.status_code == 200 and first in page.text
            assert ">Retry</button>" not in page.text and ">Dismiss</button>" not in page.text
            token = csrf_of(page)
            for action in ("retry", "dismiss"):
                form = await c.post(
                    f"/reports/quarantine/{first}/{action}", data={"csrf_token": token, "note": "x"}
                )
                assert form.status_code == 403
                api = await c.post(
                    f"/v1/reports/quarantine/{first}/{action}",
                    json={"note": "x"},
                    headers={"X-CSRF-Token": token},
                )
                assert api.status_code == 403
    async with client(app) as c:
        assert (await c.post(f"/v1/reports/quarantine/{first}/retry")).status_code == 401
    actions = {a for u, a in audit_actions(db_url) if u in (ACCOUNTANT, "mgr")}
    assert actions == {"login"}
