"""Creating members and merging duplicates on the real HQ app in-process (httpx over
ASGI), on SQLite and on PostgreSQL: a member made in the back office reaches the tills;
a taken phone is refused with nothing written; a merge moves the duplicate's balance
exactly by signed ledger entries, re-points its sales, hides it from search and from the
tills' phone search, is audited and is the owner's alone; a till's later sale naming the
duplicate is accepted and lands on the member kept."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hq import manage
from hq.app import create_app
from hq.config import Settings
from sync import protocol as p
from tests.events import envelope, push_body, sale

PASSWORD = "members-pass-1"
OWNER, ACCOUNTANT, MANAGER = "boss", "books", "amk-lead"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hq.db'}"
        return
    yield request.getfixturevalue("own_postgres_url")


def rows(url: str, sql: str) -> list[Any]:
    parsed = make_url(url)
    driver = "postgresql+psycopg" if parsed.get_backend_name() == "postgresql" else "sqlite"
    engine = create_engine(parsed.set(drivername=driver))
    try:
        with engine.begin() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


def uid(value: Any) -> uuid.UUID | None:
    """A uuid column as read back (native on PostgreSQL, 32 hex chars on SQLite)."""
    return None if value is None else uuid.UUID(str(value))


@pytest.fixture
async def app(store_url: str) -> AsyncIterator[FastAPI]:
    def prepare() -> tuple[str, str]:
        manage.create_admin_sync(store_url, username=OWNER, password=PASSWORD)
        manage.create_admin_sync(
            store_url, username=ACCOUNTANT, password=PASSWORD, role="accountant"
        )
        till = manage.enroll_terminal_sync(store_url, outlet="AMK", terminal="T01")
        manage.create_admin_sync(
            store_url, username=MANAGER, password=PASSWORD, role="manager", outlets=["AMK"]
        )
        return till.terminal_id, till.token

    application = create_app(Settings(database_url=store_url, secret_key="t" * 32))
    application.state.till = await asyncio.to_thread(prepare)
    async with application.router.lifespan_context(application):
        yield application


@asynccontextmanager
async def logged_in(app: FastAPI, user: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hq.test") as c:
        form = await c.get("/login")
        token = CSRF.search(form.text)
        assert token is not None
        r = await c.post(
            "/login", data={"username": user, "password": PASSWORD, "csrf_token": token[1]}
        )
        assert r.status_code == 303
        page = await c.get("/members")
        csrf = CSRF.search(page.text)
        assert csrf is not None
        yield c, csrf[1]


def till(app: FastAPI) -> tuple[str, str]:
    terminal_id, token = app.state.till
    return terminal_id, token


async def push(c: httpx.AsyncClient, app: FastAPI, events: list[dict[str, Any]]) -> None:
    terminal_id, token = till(app)
    r = await c.post(
        "/v1/sync/push",
        json=push_body(terminal_id, events),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert [x["status"] for x in r.json()["results"]] == ["accepted"] * len(events), r.text


async def feed(c: httpx.AsyncClient, app: FastAPI, since: int = 0) -> dict[uuid.UUID, Any]:
    """The customers in the till's change feed after ``since``, by id (last one wins)."""
    r = await c.get(
        "/v1/sync/changes",
        params={"since": since, "limit": 100_000},
        headers={"Authorization": f"Bearer {till(app)[1]}"},
    )
    page = p.ChangePage.model_validate_json(r.content)
    return {ch.data.customer_id: ch.data for ch in page.changes if ch.kind == "customer"}


async def create(c: httpx.AsyncClient, csrf: str, name: str, phone: str) -> httpx.Response:
    return await c.post(
        "/members/new",
        data={"name": name, "phone": phone, "email": f"{name[:4].lower()}@example.sg",
              "csrf_token": csrf},
    )  # fmt: skip


def balances(url: str) -> dict[uuid.UUID | None, tuple[int, int]]:
    """Each member's stored balance and the sum of their ledger entries."""
    found = rows(
        url,
        "SELECT c.customer_id, c.loyalty_balance, COALESCE(SUM(e.points), 0) "
        "FROM customers c LEFT JOIN loyalty_entries e ON e.customer_id = c.customer_id "
        "GROUP BY c.customer_id, c.loyalty_balance",
    )
    return {uid(r[0]): (int(r[1]), int(r[2])) for r in found}


async def test_a_member_made_at_head_office_reaches_the_tills_and_a_taken_phone_is_refused(
    app: FastAPI, store_url: str
) -> None:
    async with logged_in(app, MANAGER) as (c, csrf):
        assert (await c.get("/members/new")).status_code == 200
        r = await create(c, csrf, "Siti Rahimah", "+65 9123 4567")
        assert r.status_code == 303, r.text
        siti = uuid.UUID(r.headers["location"].split("/")[2].split("?")[0])
        assert "Member created" in (await c.get(r.headers["location"])).text
        [record] = (await feed(c, app)).values()
    assert (record.customer_id, record.name, record.phone, record.email) == (
        siti, "Siti Rahimah", "91234567", None,
    )  # fmt: skip
    assert record.loyalty_balance == 0

    count = "SELECT count(*) FROM customers"
    before = rows(store_url, count)
    async with logged_in(app, OWNER) as (c, csrf):
        r = await create(c, csrf, "Siti Again", "9123 4567")
        assert r.status_code == 422
        assert "already belongs to Siti Rahimah" in r.text
        assert f'href="/members/{siti}" id="existing-member"' in r.text
        r = await c.post("/members/new", data={"name": "No Token", "phone": "81112222"})
        assert r.status_code == 403
        assert rows(store_url, count) == before
        r = await create(c, csrf, "Other Person", "82223333")
        other = r.headers["location"].split("?")[0]
        r = await c.post(
            other, data={"name": "Other Person", "phone": "91234567", "csrf_token": csrf}
        )
        assert r.status_code == 422 and "already belongs to Siti Rahimah" in r.text
        r = await c.post(other, data={"name": "Other Person", "phone": " ", "csrf_token": csrf})
        assert r.status_code == 422 and "keeps a phone: the tills find members by it" in r.text
        r = await c.post(
            other, data={"name": "Other Person", "phone": "call me", "csrf_token": csrf}
        )
        assert r.status_code == 422 and "is not a phone number" in r.text
        assert rows(store_url, "SELECT phone FROM customers WHERE name = 'Other Person'") == [
            ("82223333",)
        ]
    before = rows(store_url, count)
    async with logged_in(app, ACCOUNTANT) as (c, csrf):
        assert (await c.get("/members/new")).status_code == 403
        assert (await create(c, csrf, "Books Friend", "83334444")).status_code == 403
        assert 'id="new-member-link"' not in (await c.get("/members")).text
    assert rows(store_url, count) == before
    assert rows(store_url, "SELECT count(*) FROM customers WHERE phone = '91234567'") == [(1,)]
    audited = "SELECT username, action, target FROM admin_audit WHERE action LIKE 'member.%'"
    assert [tuple(r) for r in rows(store_url, audited)] == [
        (MANAGER, "member.create", str(siti)),
        (OWNER, "member.create", other.removeprefix("/members/")),
    ]


async def test_merge_moves_the_balance_exactly_repoints_sales_and_hides_the_duplicate(
    app: FastAPI, store_url: str
) -> None:
    terminal_id, _ = till(app)
    dup = uuid.uuid4()
    async with logged_in(app, OWNER) as (c, csrf):
        r = await create(c, csrf, "Siti Rahimah", "91234567")
        keep = uuid.UUID(r.headers["location"].split("/")[2].split("?")[0])
        r = await c.post(
            f"/members/{keep}/points",
            data={"points": "100", "reason": "welcome", "csrf_token": csrf},
        )
        assert r.status_code == 303
        created = {"customer_id": str(dup), "name": "Siti R", "phone": "81234567"}
        await push(c, app, [
            envelope(terminal_id, 1, "customer.created", created),
            sale(terminal_id, 2, customer_id=dup, points=40),
            sale(terminal_id, 3, customer_id=dup, points=15),
            sale(terminal_id, 4, customer_id=keep, points=25),
        ])  # fmt: skip
        assert balances(store_url) == {
            keep: (125, 125), dup: (55, 55),
        }  # fmt: skip
        cursor = int(rows(store_url, "SELECT value FROM counters WHERE name = 'change_seq'")[0][0])

    state = "SELECT customer_id, loyalty_balance, merged_into, change_seq FROM customers"
    unchanged = sorted(map(tuple, rows(store_url, state)), key=str)
    for user in (ACCOUNTANT, MANAGER):
        async with logged_in(app, user) as (c, csrf):
            page = await c.get(f"/members/{dup}")
            assert page.status_code == 200 and 'id="merge-member"' not in page.text
            r = await c.post(f"/members/{dup}/merge", data={"into": str(keep), "csrf_token": csrf})
            assert r.status_code == 403
    async with logged_in(app, OWNER) as (c, csrf):
        r = await c.post(f"/members/{dup}/merge", data={"into": str(keep)})
        assert r.status_code == 403
        assert sorted(map(tuple, rows(store_url, state)), key=str) == unchanged
        assert rows(
            store_url, "SELECT count(*) FROM admin_audit WHERE action = 'member.merge'"
        ) == [(0,)]

        page = await c.get(f"/members/{dup}", params={"find": "siti"})
        assert 'id="merge-candidates"' in page.text and f'value="{keep}"' in page.text
        r = await c.post(f"/members/{dup}/merge", data={"into": "9123 4567", "csrf_token": csrf})
        assert r.status_code == 303 and r.headers["location"] == f"/members/{keep}?done=merged"
        assert re.search(r'id="balance">180<', (await c.get(r.headers["location"])).text)
        assert balances(store_url) == {keep: (180, 180), dup: (0, 0)}
        merged = rows(
            store_url,
            "SELECT customer_id, points, reason FROM loyalty_entries "
            "WHERE reason LIKE 'merged%' ORDER BY points",
        )
        assert [(uid(r[0]), r[1], r[2]) for r in merged] == [
            (dup, -55, "merged out"), (keep, 55, "merged in"),
        ]  # fmt: skip
        [(into,)] = rows(store_url, "SELECT merged_into FROM customers WHERE loyalty_balance = 0")
        assert uid(into) == keep
        named = rows(store_url, "SELECT customer_id FROM sales")
        assert sorted(str(uid(r[0])) for r in named) == [str(keep)] * 3

        found = (await c.get("/members", params={"q": "siti"})).text
        assert f"/members/{keep}" in found and f"/members/{dup}" not in found
        report = (await c.get("/v1/reports/loyalty", params={"q": "siti"})).json()
        assert [r["customer_id"] for r in report["rows"]] == [str(keep)], report
        assert "No member matches" in (await c.get("/members", params={"q": "81234567"})).text
        shown = await c.get(f"/members/{dup}")
        assert 'id="merged-into"' in shown.text and 'id="merge-member"' not in shown.text
        again = await c.post(f"/members/{dup}/merge", data={"into": str(keep), "csrf_token": csrf})
        assert again.status_code == 422 and "already merged" in again.text

        tills_see = await feed(c, app, since=cursor)
        assert (tills_see[keep].loyalty_balance, tills_see[keep].phone) == (180, "91234567")
        gone = tills_see[dup]
        assert (gone.phone, gone.loyalty_balance) == (None, 0)
        assert gone.name.startswith("(merged)")

        # A till that has not pulled the merge still names the duplicate: accepted, and
        # the points and the sale land on the member kept.
        await push(c, app, [sale(terminal_id, 5, customer_id=dup, points=10)])
        assert balances(store_url) == {keep: (190, 190), dup: (0, 0)}
        assert rows(store_url, "SELECT count(*) FROM sales WHERE customer_id IS NOT NULL") == [(4,)]
        named = rows(store_url, "SELECT DISTINCT customer_id FROM sales")
        assert [uid(r[0]) for r in named] == [keep]
        assert (await feed(c, app, since=cursor))[dup].loyalty_balance == 0

    [(target, detail)] = rows(
        store_url, "SELECT target, detail FROM admin_audit WHERE action = 'member.merge'"
    )
    assert target == str(keep)
    assert str(dup) in detail and str(keep) in detail
    assert "+55 points moved" in detail and "0 and 180 after" in detail
    assert "2 sales re-pointed" in detail
