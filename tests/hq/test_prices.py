"""Effective-dated prices: scheduled in the back office (real HQ app in-process, a real
SQLite file), carried down the change feed per outlet before the moment, and applied by
a real till database at the moment with no HQ in sight."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from hq import enroll, manage, prices
from hq.app import create_app
from hq.config import Settings
from hq.db import open_database
from sync import demo_data
from sync import protocol as p
from terminal.db.engine import Database
from terminal.services.checkout import finalize_sale
from terminal.services.reference import apply_changes
from terminal.services.schemas import CartItemIn, CheckoutRequest, TenderIn
from terminal.services.uow import writing

OWNER, PASSWORD = "owner", "right-password-1"
KOPI = next(x for x in demo_data.demo_products() if x.sku == "KOPI-001")  # S$3.30
SGT = ZoneInfo("Asia/Singapore")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def row(i: int, outlet: str | None, at: datetime, cents: int) -> prices.PriceRow:
    return prices.PriceRow(
        price_id=i, outlet_code=outlet, effective_from=at, price_cents=cents, created_by="o"
    )


def test_an_outlet_override_wins_while_in_effect_then_later_chain_steps_still_show() -> None:
    rows = [
        row(1, None, T0 + timedelta(days=1), 350),
        row(2, "B", T0 + timedelta(days=2), 300),
        row(3, None, T0 + timedelta(days=3), 360),
    ]
    assert prices.steps_for(330, rows, "A", T0) == (
        330,
        [
            p.ScheduledPrice(effective_from=T0 + timedelta(days=1), price_cents=350),
            p.ScheduledPrice(effective_from=T0 + timedelta(days=3), price_cents=360),
        ],
    )
    # B: chain 3.50 on day 1, its own 3.00 from day 2 on (the chain's 3.60 does not apply)
    assert prices.steps_for(330, rows, "B", T0) == (
        330,
        [
            p.ScheduledPrice(effective_from=T0 + timedelta(days=1), price_cents=350),
            p.ScheduledPrice(effective_from=T0 + timedelta(days=2), price_cents=300),
        ],
    )
    assert prices.steps_for(330, rows, "B", T0 + timedelta(days=5)) == (300, [])


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    manage.seed_demo_sync(url)
    manage.create_admin_sync(url, username=OWNER, password=PASSWORD)
    for outlet in ("A", "B"):
        manage.enroll_terminal_sync(url, outlet=outlet, terminal="T0")
    return url


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(
        Settings(database_url=db_url, secret_key="t" * 32, timezone="Asia/Singapore")
    )
    async with application.router.lifespan_context(application):
        yield application


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


async def pull(c: httpx.AsyncClient, token: str) -> list[p.Change]:
    changes: list[p.Change] = []
    since = 0
    while True:
        r = await c.get(
            "/v1/sync/changes",
            params={"since": since},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text
        page = p.ChangePage.model_validate_json(r.content)
        changes += page.changes
        since = page.next
        if not page.more:
            return changes


def kopi(changes: list[p.Change]) -> p.ProductRecord:
    [found] = [ch.data for ch in changes if ch.kind == "product" and ch.data.sku == "KOPI-001"]
    assert isinstance(found, p.ProductRecord)
    return found


async def sell(db: Database, at: datetime) -> int:
    receipt = await finalize_sale(
        db,
        CheckoutRequest(
            cashier_id=demo_data.demo_cashiers()[0].cashier_id,
            items=[CartItemIn(product_id=KOPI.product_id, qty=1)],
            tenders=[TenderIn(kind="cash", amount_cents=1000)],
        ),
        now=at,
    )
    return receipt.lines[0].unit_price_cents


async def test_a_price_scheduled_in_the_web_reaches_the_till_and_applies_at_its_moment(
    app: FastAPI, db_url: str, till_db: Database
) -> None:
    monday = (datetime.now(SGT) + timedelta(days=7)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hq.test"
    ) as c:
        form = await c.get("/login")
        login_csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert login_csrf is not None
        r = await c.post(
            "/login",
            data={"username": OWNER, "password": PASSWORD, "csrf_token": login_csrf[1]},
        )
        assert r.status_code == 303
        page = await c.get(f"/products/{KOPI.product_id}")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert page.status_code == 200 and csrf is not None
        moment = monday.strftime("%Y-%m-%dT%H:%M")
        r = await c.post(
            f"/products/{KOPI.product_id}/prices",
            data={"price": "3.50", "effective_from": moment, "csrf_token": csrf[1]},
        )
        assert r.status_code == 303, r.text
        r = await c.post(
            f"/products/{KOPI.product_id}/prices",
            data={"price": "2.80", "effective_from": moment, "outlet": "B", "csrf_token": csrf[1]},
        )
        assert r.status_code == 303, r.text
        past = await c.post(
            f"/products/{KOPI.product_id}/prices",
            data={"price": "1.00", "effective_from": "2020-01-01T00:00", "csrf_token": csrf[1]},
        )
        assert past.status_code == 422 and "future" in past.text
        shown = await c.get(f"/products/{KOPI.product_id}")
        assert "3.50" in shown.text and "2.80" in shown.text
        a_feed = await pull(c, await till_token(db_url, "A"))
        b_feed = await pull(c, await till_token(db_url, "B"))

    a_kopi, b_kopi = kopi(a_feed), kopi(b_feed)
    assert a_kopi.price_cents == 330 and b_kopi.price_cents == 330
    assert a_kopi.prices == [p.ScheduledPrice(effective_from=monday, price_cents=350)]
    assert b_kopi.prices == [p.ScheduledPrice(effective_from=monday, price_cents=280)]

    # The A till applies its pull, then goes offline: HQ is not asked again.
    async with writing(till_db) as s:
        await apply_changes(s, a_feed)
    assert await sell(till_db, monday - timedelta(seconds=1)) == 330
    assert await sell(till_db, monday) == 350


async def test_unknown_product_and_bad_price_are_refused_without_a_row(
    db_url: str,
) -> None:
    db = open_database(db_url)
    try:
        for product_id, cents in ((uuid.uuid4(), 100), (KOPI.product_id, -1)):
            with pytest.raises(prices.PriceError):
                async with db.sessions() as s, s.begin():
                    await prices.schedule_price(
                        s,
                        product_id=product_id,
                        price_cents=cents,
                        effective_from=datetime.now(UTC) + timedelta(days=1),
                        outlet_code=None,
                        actor=OWNER,
                    )
        async with db.readers() as s, s.begin():
            assert await prices.price_rows(s, [KOPI.product_id]) == {}
    finally:
        await db.dispose()
