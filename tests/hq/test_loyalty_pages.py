"""The loyalty and overspend pages and their CSVs, on the real HQ app in-process (httpx
over ASGI, a real SQLite file): figures against the test's own sums, roles, 404s."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI

from hq import manage
from hq.app import create_app
from hq.config import Settings
from tests.events import push_body
from tests.hq.test_reports_auth import ACCOUNTANT, OWNER, PASSWORD, audit_actions, client, log_in
from tests.hq.test_reports_loyalty import earn, member_created, redeem

POINT_VALUE = 3
SG = ZoneInfo("Asia/Singapore")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    manage.create_admin_sync(url, username=OWNER, password=PASSWORD)
    manage.create_admin_sync(url, username=ACCOUNTANT, password=PASSWORD, role="accountant")
    manage.seed_demo_sync(url)
    with closing(sqlite3.connect(tmp_path / "hq.db")) as conn, conn:
        conn.execute("UPDATE settings SET loyalty_point_value_cents = ?", (POINT_VALUE,))
    return url


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(Settings(database_url=db_url, secret_key="t" * 32))
    async with application.router.lifespan_context(application):
        yield application


def ledger_sums(db_url: str) -> dict[str, int]:
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:
        rows = conn.execute(
            "SELECT customer_id, sum(points) FROM loyalty_entries GROUP BY customer_id"
        ).fetchall()
    return {str(uuid.UUID(str(c))) if len(str(c)) == 36 else str(uuid.UUID(hex=str(c))): int(s)
            for c, s in rows}  # fmt: skip


async def overspent_member(app: FastAPI, db_url: str) -> uuid.UUID:
    one = await asyncio.to_thread(manage.enroll_terminal_sync, db_url, outlet="AMK", terminal="T01")
    two = await asyncio.to_thread(manage.enroll_terminal_sync, db_url, outlet="AMK", terminal="T02")
    member = uuid.uuid4()
    offline = datetime.now(UTC) - timedelta(hours=1)
    t1, t2 = one.terminal_id, two.terminal_id
    batches = [
        (one, [member_created(t1, 1, member, "Devi"), earn(t1, 2, member, 800)]),
        (one, [redeem(t1, 3, member, 500, offline)]),
        (two, [redeem(t2, 1, member, 600, offline)]),
    ]
    async with client(app) as c:
        for enrolled, events in batches:
            r = await c.post(
                "/v1/sync/push",
                json=push_body(enrolled.terminal_id, events),
                headers={"Authorization": f"Bearer {enrolled.token}"},
            )
            assert {x["status"] for x in r.json()["results"]} == {"accepted"}
    return member


async def test_loyalty_page_and_csv_show_the_liability_at_the_redeem_rate(
    app: FastAPI, db_url: str
) -> None:
    member = await overspent_member(app, db_url)
    sums = ledger_sums(db_url)
    outstanding = sum(s for s in sums.values() if s > 0)
    async with client(app) as c:
        await log_in(c, ACCOUNTANT)
        page = await c.get("/reports/loyalty")
        assert page.status_code == 200
        assert f'data-cents="{outstanding * POINT_VALUE}"' in page.text
        assert f'data-points="{outstanding}"' in page.text
        got = await c.get("/reports/loyalty.csv")
        rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
        assert rows[0][:4] == ["customer_id", "name", "phone", "balance_points"]
        balances = {r[0]: int(r[3]) for r in rows[1:]}
        assert set(sums) <= set(balances)
        assert balances == {k: sums.get(k, 0) for k in balances}  # a member without entries: 0
        assert sum(int(r[3]) for r in rows[1:] if int(r[3]) > 0) == outstanding
        found = await c.get("/reports/loyalty", params={"q": "devi"})
        assert f"/reports/loyalty/{member}" in found.text and "1 member matching" in found.text
        paged = await c.get("/reports/loyalty", params={"page": "2", "size": "2"})
        assert paged.status_code == 200 and 'rel="prev"' in paged.text
        odd = await c.get("/reports/loyalty", params={"page": "x" * 40, "q": "%_'\"<"})
        assert odd.status_code == 200 and "No member matches." in odd.text

        ledger = await c.get(f"/reports/loyalty/{member}")
        assert ledger.status_code == 200 and "Devi" in ledger.text and "+800" in ledger.text
        lines = list(csv.reader(io.StringIO(
            (await c.get(f"/reports/loyalty/{member}.csv")).content.decode("utf-8-sig")
        )))  # fmt: skip
        assert [(r[3], r[4], r[9]) for r in lines[1:]] == [
            ("800", "earn", "800"),
            ("-500", "redeem", "300"),
            ("-600", "redeem", "-300"),
        ]
        assert (await c.get(f"/reports/loyalty/{uuid.uuid4()}")).status_code == 404
        assert (await c.get(f"/reports/loyalty/{uuid.uuid4()}.csv")).status_code == 404
        assert (await c.get("/reports/loyalty/nonsense")).status_code == 422

        # the redemptions were an hour ago: yesterday in Singapore when run just after
        # midnight there, so the period is asked for rather than left to "today"
        day = datetime.now(SG).date()
        span = {"from": str(day - timedelta(days=1)), "to": str(day)}
        over = await c.get("/reports/overspend", params=span)
        assert over.status_code == 200 and "Devi" in over.text
        assert 'data-points="300"' in over.text and f"S${300 * POINT_VALUE / 100:.2f}" in over.text
        rows = list(csv.reader(io.StringIO(
            (await c.get("/reports/overspend.csv", params=span)).content.decode("utf-8-sig")
        )))  # fmt: skip
        assert [(r[0], r[7], r[15], r[16]) for r in rows[1:]] == [
            (str(member), "300", "-500", "300"),
            (str(member), "300", "-600", "-300"),
        ]
    exports = [a for u, a in audit_actions(db_url) if u == ACCOUNTANT]
    assert exports.count("report.export") == 3  # the unknown member's CSV is no export


async def test_loyalty_pages_need_a_session(app: FastAPI) -> None:
    async with client(app) as c:
        for path in ("/reports/loyalty", "/reports/overspend", f"/reports/loyalty/{uuid.uuid4()}",
                     "/reports/loyalty.csv"):  # fmt: skip
            r = await c.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/login")
