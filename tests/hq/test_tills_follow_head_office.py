"""Real tills follow head office through the real sync agent (HQ app in-process over
httpx's ASGI transport, real SQLite files on both sides): a cashier added at outlet A
logs in at an A till and not at a B till; a price scheduled at HQ is pulled before its
moment and applies at the moment with HQ gone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from hq import enroll as hq_enroll
from hq import manage, prices, staff
from hq.app import create_app
from hq.config import Settings
from hq.db import open_database as open_hq
from sync import demo_data
from sync.agent import SyncAgent, enroll
from terminal.db.engine import Database, open_database
from terminal.services.cashiers import login
from terminal.services.checkout import finalize_sale
from terminal.services.errors import LoginError
from terminal.services.schemas import CartItemIn, CheckoutRequest, TenderIn
from terminal.services.setup import init_till, seed_demo
from terminal.services.sync_store import TillSyncStore

URL = "http://hq.test"
T = TypeVar("T")
KOPI = next(x for x in demo_data.demo_products() if x.sku == "KOPI-001")  # S$3.30


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    manage.seed_demo_sync(url)
    return url


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(Settings(database_url=db_url, secret_key="t" * 32))
    async with application.router.lifespan_context(application):
        yield application


async def hq_work(db_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    db = open_hq(db_url)
    try:
        async with db.sessions() as s, s.begin():
            return await work(s)
    finally:
        await db.dispose()


async def new_till(tmp_path: Path, app: FastAPI, db_url: str, outlet: str) -> Database:
    async def issue(s: AsyncSession) -> str:
        t = await hq_enroll.enroll_terminal(session=s, outlet_code=outlet, terminal_code="T1")
        return t.token

    token = await hq_work(db_url, issue)
    db = open_database(tmp_path / f"till-{outlet}.db")
    await init_till(db)
    await seed_demo(db)
    transport = httpx.ASGITransport(app=app)
    await enroll(TillSyncStore(db), server=URL, token=token, transport=transport)
    return db


async def pull(db: Database, app: FastAPI) -> None:
    agent = SyncAgent(TillSyncStore(db), transport=httpx.ASGITransport(app=app), tick_seconds=3600)
    try:
        await agent.sync_once()
    finally:
        await agent.aclose()


async def test_a_cashier_added_at_a_logs_in_at_an_a_till_not_at_a_b_till(
    tmp_path: Path, app: FastAPI, db_url: str
) -> None:
    a_till = await new_till(tmp_path, app, db_url, "A")
    b_till = await new_till(tmp_path, app, db_url, "B")
    try:

        async def hire(s: AsyncSession) -> staff.StaffView:
            return await staff.create_staff(
                s,
                name="Ahmad",
                role="cashier",
                outlet_code="A",
                pin="4821",
                actor="owner",
            )

        ahmad = await hq_work(db_url, hire)
        await pull(a_till, app)
        await pull(b_till, app)
        assert (await login(a_till, "4821")).id == ahmad.cashier_id
        with pytest.raises(LoginError):
            await login(b_till, "4821")

        async def move(s: AsyncSession) -> None:
            await staff.reassign(
                s, cashier_id=ahmad.cashier_id, outlet_code="B", pin="4821", actor="owner"
            )

        await hq_work(db_url, move)
        await pull(a_till, app)
        await pull(b_till, app)
        with pytest.raises(LoginError):
            await login(a_till, "4821")
        assert (await login(b_till, "4821")).id == ahmad.cashier_id
    finally:
        await a_till.dispose()
        await b_till.dispose()


async def test_a_scheduled_price_applies_at_its_moment_with_hq_gone(
    tmp_path: Path, app: FastAPI, db_url: str
) -> None:
    moment = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    till = await new_till(tmp_path, app, db_url, "A")
    try:

        async def schedule(s: AsyncSession) -> None:
            await prices.schedule_price(
                s,
                product_id=KOPI.product_id,
                price_cents=350,
                effective_from=moment,
                outlet_code=None,
                actor="owner",
            )

        await hq_work(db_url, schedule)
        await pull(till, app)
        # from here on the till never talks to HQ again
        sold = []
        for at in (moment - timedelta(seconds=1), moment, moment + timedelta(hours=1)):
            receipt = await finalize_sale(
                till,
                CheckoutRequest(
                    cashier_id=demo_data.demo_cashiers()[0].cashier_id,
                    items=[CartItemIn(product_id=KOPI.product_id, qty=1)],
                    tenders=[TenderIn(kind="cash", amount_cents=1000)],
                ),
                now=at,
            )
            sold.append(receipt.lines[0].unit_price_cents)
        assert sold == [330, 350, 350]
    finally:
        await till.dispose()
