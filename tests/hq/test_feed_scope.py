"""The change feed is scoped to the asking till's outlet: its own cashiers, chain-wide
products, members without email or address; a reassigned cashier leaves the old outlet's
tills. Real HQ app in-process (httpx over ASGI) on a real SQLite file."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from hq import enroll, manage, staff
from hq import models as m
from hq.app import create_app
from hq.config import Settings
from hq.db import open_database
from hq.sqlutil import allocate_change_seqs
from sync import protocol as p


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


async def pull(app: FastAPI, token: str, since: int = 0) -> list[Any]:
    changes: list[Any] = []
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://hq.test") as c:
        while True:
            r = await c.get("/v1/sync/changes", params={"since": since}, headers=headers)
            assert r.status_code == 200, r.text
            page = p.ChangePage.model_validate_json(r.content)
            changes += page.changes
            since = page.next
            if not page.more:
                return changes


async def run(db_url: str, work: Any) -> Any:
    db = open_database(db_url)
    try:
        async with db.sessions() as s, s.begin():
            return await work(s)
    finally:
        await db.dispose()


async def enrolled(db_url: str, outlet: str, terminal: str) -> str:
    async def work(s: Any) -> str:
        found = await enroll.enroll_terminal(session=s, outlet_code=outlet, terminal_code=terminal)
        return found.token

    token: str = await run(db_url, work)
    return token


async def test_a_b_till_never_receives_outlet_a_cashiers_nor_member_email_or_address(
    app: FastAPI, db_url: str
) -> None:
    a_token = await enrolled(db_url, "A", "T1")
    b_token = await enrolled(db_url, "B", "T1")

    async def setup(s: Any) -> tuple[staff.StaffView, staff.StaffView]:
        (seq,) = await allocate_change_seqs(s, 1)
        s.add(
            m.Customer(
                customer_id=uuid.uuid4(),
                name="Siti",
                phone="91234567",
                email="siti@example.sg",
                address="1 Secret Lane",
                loyalty_balance=42,
                change_seq=seq,
            )
        )
        a = await staff.create_staff(
            s, name="Ahmad", role="cashier", outlet_code="A", pin="4821", actor="owner"
        )
        b = await staff.create_staff(
            s, name="Bee Lian", role="manager", outlet_code="B", pin="739214", actor="owner"
        )
        return a, b

    ahmad, bee = await run(db_url, setup)
    b_feed = await pull(app, b_token)
    a_feed = await pull(app, a_token)

    raw = "".join(ch.model_dump_json() for ch in b_feed)
    assert str(ahmad.cashier_id) not in raw
    assert "siti@example.sg" not in raw and "Secret Lane" not in raw
    b_cashiers = {ch.data.cashier_id for ch in b_feed if ch.kind == "cashier"}
    a_cashiers = {ch.data.cashier_id for ch in a_feed if ch.kind == "cashier"}
    assert bee.cashier_id in b_cashiers and ahmad.cashier_id not in b_cashiers
    assert ahmad.cashier_id in a_cashiers and bee.cashier_id not in a_cashiers
    siti = next(ch.data for ch in b_feed if ch.kind == "customer" and ch.data.name == "Siti")
    assert (siti.phone, siti.loyalty_balance, siti.email) == ("91234567", 42, None)
    # chain-wide data reaches both outlets alike
    for feed in (a_feed, b_feed):
        assert sum(ch.kind == "product" for ch in feed) >= 50
        assert any(ch.kind == "tender" for ch in feed)
        assert any(ch.kind == "settings" for ch in feed)


async def test_reassigning_a_cashier_removes_them_from_the_old_outlets_tills(
    app: FastAPI, db_url: str
) -> None:
    a_token = await enrolled(db_url, "A", "T1")
    b_token = await enrolled(db_url, "B", "T1")

    async def hire(s: Any) -> staff.StaffView:
        return await staff.create_staff(
            s, name="Ahmad", role="cashier", outlet_code="A", pin="4821", actor="owner"
        )

    ahmad = await run(db_url, hire)
    a_top = max(ch.seq for ch in await pull(app, a_token))
    b_top = max(ch.seq for ch in await pull(app, b_token))

    async def move(s: Any) -> None:
        await staff.reassign(
            s, cashier_id=ahmad.cashier_id, outlet_code="B", pin="4821", actor="owner"
        )

    await run(db_url, move)
    a_new = await pull(app, a_token, a_top)
    b_new = await pull(app, b_token, b_top)
    assert [(ch.kind, ch.data.cashier_id) for ch in a_new] == [
        ("cashier_removed", ahmad.cashier_id)
    ]
    assert [(ch.kind, ch.data.cashier_id, ch.data.pin_hash[:7]) for ch in b_new] == [
        ("cashier", ahmad.cashier_id, "scrypt$")
    ]
    # a till enrolled at A later still never learns Ahmad's PIN hash
    fresh = await enrolled(db_url, "A", "T2")
    fresh_feed = await pull(app, fresh)
    assert not any(
        ch.kind == "cashier" and ch.data.cashier_id == ahmad.cashier_id for ch in fresh_feed
    )


@pytest.mark.parametrize(
    ("role", "pin", "ok"),
    [("cashier", "1234", True), ("cashier", "123", False), ("manager", "12345", False),
     ("manager", "123456", True), ("cashier", "12a4", False), ("boss", "123456", False)],
)  # fmt: skip
def test_pin_rules(role: str, pin: str, ok: bool) -> None:
    if ok:
        staff.check_pin(pin, role)
    else:
        with pytest.raises(staff.StaffError):
            staff.check_pin(pin, role)
