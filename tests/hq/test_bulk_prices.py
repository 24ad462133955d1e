"""Bulk price changes in the back office (real HQ app in-process, on a real SQLite file
and on a real PostgreSQL database; a real till database): the preview's figures match
plain integer arithmetic, a change that would take any price to 0 is refused whole, an
apply schedules every price once and the tills pull them down the change feed (now, or
at a future moment the till switches at by itself), per outlet only for that outlet,
owners only, CSRF checked, one audit entry."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hq import manage, price_changes
from sync import demo_data
from sync import protocol as p
from terminal.db.engine import Database
from terminal.services.reference import apply_changes
from terminal.services.uow import writing
from tests.hq.test_prices import OWNER, PASSWORD, SGT, app, pull, sell, till_token

__all__ = ["app"]  # a fixture used by the tests below (on this module's db_url)

PATH = "/products/bulk-prices"
DEMO = {x.sku: x.price_cents for x in demo_data.demo_products()}
SOME = ["KOPI-001", "MILO-400", "RICE-5KG", "EGGS-10", "SALT-500", "TOFU-TAU", "COLA-24"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """HQ's store, SQLite file or a fresh PostgreSQL database, seeded as test_prices's."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hq.db'}"
    else:
        url = request.getfixturevalue("own_postgres_url")
    manage.seed_demo_sync(url)
    manage.create_admin_sync(url, username=OWNER, password=PASSWORD)
    for outlet in ("A", "B"):
        manage.enroll_terminal_sync(url, outlet=outlet, terminal="T0")
    return url


def sql(db_url: str, query: str) -> list[tuple[object, ...]]:
    url = make_url(db_url)
    driver = "postgresql+psycopg" if url.get_backend_name() == "postgresql" else "sqlite"
    engine = create_engine(url.set(drivername=driver))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(query))]
    finally:
        engine.dispose()


def scalar(db_url: str, query: str) -> int:
    [(value,)] = sql(db_url, query)
    assert isinstance(value, int)
    return value


def price_rows(db_url: str) -> int:
    return scalar(db_url, "SELECT count(*) FROM product_prices")


@asynccontextmanager
async def admin(
    app: FastAPI, username: str = OWNER
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hq.test") as c:
        form = await c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        r = await c.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf_token": token[1]}
        )
        assert r.status_code == 303
        page = await c.get(PATH)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert page.status_code == 200 and csrf is not None
        yield c, csrf[1]


def shown(page: httpx.Response) -> dict[str, tuple[int, int]]:
    """The preview table: sku -> (old cents, new cents)."""
    rows = re.findall(
        r'<tr[^>]*><td>([^<]+)</td><td>[^<]*</td><td class="num">([\d.]+)</td>'
        r'<td class="num">(-?[\d.]+)</td>',
        page.text,
    )
    return {sku: (round(float(o) * 100), round(float(n) * 100)) for sku, o, n in rows}


def apply_form(page: httpx.Response) -> dict[str, str]:
    form = re.search(r'<form[^>]*id="bulk-apply".*?</form>', page.text, re.S)
    assert form is not None, page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form[0]))
    skus = re.search(r'<textarea name="skus" hidden>(.*?)</textarea>', form[0], re.S)
    assert skus is not None
    return fields | {"skus": skus[1]}


def half_up(x: Fraction) -> int:
    return int((x + Fraction(1, 2)) // 1)


def to_step(cents: int, step: int) -> int:
    return max(step, half_up(Fraction(cents, step)) * step)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"kind": "percent", "value": "7.5"}, lambda c: half_up(Fraction(c * 1075, 1000))),
        (
            {"kind": "percent", "value": "12.25", "direction": "down", "round_to": "5"},
            lambda c: to_step(half_up(Fraction(c) * (1 - Fraction(1225, 10000))), 5),
        ),
        ({"kind": "amount", "value": "0.40", "direction": "down"}, lambda c: c - 40),
        (
            {"kind": "amount", "value": "1.03", "round_to": "10"},
            lambda c: to_step(c + 103, 10),
        ),
        ({"kind": "fixed", "value": "9.99"}, lambda c: 999),
    ],
)
async def test_the_preview_shows_plain_integer_arithmetic_and_writes_nothing(
    app: FastAPI, db_url: str, fields: dict[str, str], expected: object
) -> None:
    async with admin(app) as (c, csrf):
        r = await c.post(PATH, data={"csrf_token": csrf, "skus": "\n".join(SOME)} | fields)
        assert r.status_code == 200, r.text
    assert callable(expected)
    assert shown(r) == {sku: (DEMO[sku], expected(DEMO[sku])) for sku in SOME}
    assert price_rows(db_url) == 0


def test_rounding_never_takes_a_price_below_one_step() -> None:
    rule = price_changes.Rule(kind="percent", up=False, value=9000, round_to=10)
    assert [rule.apply(c) for c in (14, 15, 95, 96, 150)] == [10, 10, 10, 10, 20]
    assert rule.apply(1) == 0  # 0.1 cent is 0 before any rounding: the preview refuses it
    assert price_changes.Rule(kind="amount", value=1, round_to=5).apply(1) == 5
    assert price_changes.Rule(kind="fixed", value=332, round_to=5).apply(0) == 330
    assert price_changes.Rule(kind="fixed", value=333, round_to=5).apply(0) == 335
    assert price_changes.Rule(kind="fixed", value=335, round_to=10).apply(0) == 340


async def test_a_change_taking_any_price_to_zero_is_refused_whole(
    app: FastAPI, db_url: str
) -> None:
    seqs = sql(db_url, "SELECT sku, change_seq FROM products ORDER BY sku")
    # SALT-500 sells at S$0.95: minus S$0.95 is 0, and TOFU-TAU minus 0.95 is fine.
    fields = {"skus": "KOPI-001 SALT-500, TOFU-TAU", "kind": "amount", "value": "0.95"}
    async with admin(app) as (c, csrf):
        r = await c.post(PATH, data={"csrf_token": csrf, "direction": "down"} | fields)
        assert r.status_code == 422
        assert re.search(r'role="alert">1 product cannot take this change: SALT-500\.', r.text)
        assert 'id="bulk-apply"' not in r.text
        # even an apply posted by hand writes nothing
        forged = fields | {"csrf_token": csrf, "direction": "down", "action": "apply"}
        r = await c.post(PATH, data=forged)
        assert r.status_code == 422 and "SALT-500" in r.text
        too_high = {"skus": "COLA-24", "kind": "percent", "value": "10000"}
        r = await c.post(PATH, data={"csrf_token": csrf, "action": "apply"} | too_high)
        assert r.status_code == 422 and "above S$1,000,000.00" in r.text
    assert price_rows(db_url) == 0
    assert sql(db_url, "SELECT sku, change_seq FROM products ORDER BY sku") == seqs
    assert sql(db_url, "SELECT count(*) FROM admin_audit WHERE action = 'price.bulk'") == [(0,)]


async def test_apply_now_chain_wide_reaches_every_till_once_and_is_audited_once(
    app: FastAPI, db_url: str
) -> None:
    seq_before = scalar(db_url, "SELECT max(change_seq) FROM products")
    async with admin(app) as (c, csrf):
        r = await c.post(
            PATH,
            data={"csrf_token": csrf, "sku_prefix": "k", "kind": "percent", "value": "10"},
        )
        assert r.status_code == 200, r.text
        previewed = shown(r)
        assert set(previewed) == {"KANGKONG", "KAYA-250", "KOPI-001"}
        assert previewed["KOPI-001"] == (330, 363)
        r = await c.post(PATH, data=apply_form(r))
        assert r.status_code == 303, r.text
        done = await c.get(r.headers["location"])
        assert "3 prices scheduled" in done.text
        feeds = {o: await pull(c, await till_token(db_url, o)) for o in ("A", "B")}
    rows = sql(
        db_url,
        "SELECT p.sku, pp.price_cents, pp.outlet_code, p.change_seq "
        "FROM product_prices pp JOIN products p USING (product_id) ORDER BY p.sku",
    )
    assert [(sku, cents, outlet) for sku, cents, outlet, _ in rows] == [
        (sku, new, None) for sku, (_, new) in sorted(previewed.items())
    ]
    assert all(isinstance(seq, int) and seq > seq_before for *_, seq in rows)
    for feed in feeds.values():
        got = {
            ch.data.sku: ch.data
            for ch in feed
            if ch.kind == "product" and isinstance(ch.data, p.ProductRecord)
        }
        for sku, (_, new) in previewed.items():
            assert got[sku].price_cents == new and got[sku].prices == []
        assert got["MILO-400"].price_cents == DEMO["MILO-400"]
    [(who, target, detail)] = sql(
        db_url, "SELECT username, target, detail FROM admin_audit WHERE action = 'price.bulk'"
    )
    assert who == OWNER and target == "every outlet"
    assert str(detail).startswith("3 products (sku K*): +10%")
    assert sql(db_url, "SELECT count(*) FROM admin_audit WHERE action = 'price.schedule'") == [(0,)]


async def test_a_future_change_for_one_outlet_applies_there_at_its_moment(
    app: FastAPI, db_url: str, till_db: Database
) -> None:
    monday = (datetime.now(SGT) + timedelta(days=7)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    fields = {"skus": "KOPI-001\nMILO-400", "kind": "fixed", "value": "2.80", "outlet": "B",
              "when": monday.strftime("%Y-%m-%dT%H:%M")}  # fmt: skip
    async with admin(app) as (c, csrf):
        r = await c.post(PATH, data={"csrf_token": csrf} | fields)
        assert r.status_code == 200, r.text
        assert shown(r) == {"KOPI-001": (330, 280), "MILO-400": (789, 280)}
        r = await c.post(PATH, data=apply_form(r))
        assert r.status_code == 303, r.text
        a_feed = await pull(c, await till_token(db_url, "A"))
        b_feed = await pull(c, await till_token(db_url, "B"))

    def kopi(feed: list[p.Change]) -> p.ProductRecord:
        [found] = [ch.data for ch in feed if ch.kind == "product" and ch.data.sku == "KOPI-001"]
        assert isinstance(found, p.ProductRecord)
        return found

    assert kopi(a_feed).price_cents == 330 and kopi(a_feed).prices == []
    assert kopi(b_feed).price_cents == 330
    assert kopi(b_feed).prices == [p.ScheduledPrice(effective_from=monday, price_cents=280)]
    assert sql(db_url, "SELECT DISTINCT outlet_code FROM product_prices") == [("B",)]
    # The B till applies its pull and goes offline: it switches at the moment by itself.
    async with writing(till_db) as s:
        await apply_changes(s, b_feed)
    assert await sell(till_db, monday - timedelta(seconds=1)) == 330
    assert await sell(till_db, monday) == 280


async def test_a_stale_preview_is_refused(app: FastAPI, db_url: str) -> None:
    fields = {"skus": "KOPI-001", "kind": "amount", "value": "0.10"}
    async with admin(app) as (c, csrf):
        r = await c.post(PATH, data={"csrf_token": csrf} | fields)
        form = apply_form(r)
        assert (await c.post(PATH, data=form | {"value": "0.20"})).status_code == 422
        assert price_rows(db_url) == 0
        assert (await c.post(PATH, data=form)).status_code == 303
    assert price_rows(db_url) == 1


@pytest.fixture(params=[("accountant", ()), ("manager", ("A",))], ids=lambda x: x[0])
def reader(request: pytest.FixtureRequest, db_url: str) -> str:
    """An admin who may look but not change (made before the app starts)."""
    role, outlets = request.param
    manage.create_admin_sync(db_url, username=role, password=PASSWORD, role=role, outlets=outlets)
    return str(role)


async def test_only_an_owner_changes_and_only_with_the_csrf_token(
    reader: str, app: FastAPI, db_url: str
) -> None:
    fields = {"skus": "KOPI-001", "kind": "percent", "value": "5", "outlet": "A"}
    async with admin(app) as (c, csrf):
        r = await c.post(PATH, data={"csrf_token": csrf} | fields)
        form = apply_form(r)
        assert (await c.post(PATH, data=form | {"csrf_token": "wrong"})).status_code == 403
        no_token = {k: v for k, v in form.items() if k != "csrf_token"}
        assert (await c.post(PATH, data=no_token)).status_code == 403
    async with admin(app, reader) as (c, csrf):
        page = await c.get(PATH)
        assert 'id="bulk-form"' not in page.text and "Only an owner" in page.text
        r = await c.post(PATH, data={"csrf_token": csrf} | fields)
        assert r.status_code == 403
        r = await c.post(PATH, data=form | {"csrf_token": csrf})
        assert r.status_code == 403
    assert price_rows(db_url) == 0
    assert sql(db_url, "SELECT count(*) FROM admin_audit WHERE action = 'price.bulk'") == [(0,)]


async def test_unknown_skus_an_empty_choice_and_bad_figures_are_named(app: FastAPI) -> None:
    async with admin(app) as (c, csrf):
        base = {"csrf_token": csrf, "kind": "percent", "value": "5"}
        r = await c.post(PATH, data=base | {"skus": "KOPI-001 NOPE-1"})
        assert r.status_code == 422 and "No such sku: NOPE-1" in r.text
        r = await c.post(PATH, data=base)
        assert r.status_code == 422 and "Choose products" in r.text
        r = await c.post(PATH, data=base | {"name": "kopi", "when": "2020-01-01T00:00"})
        assert r.status_code == 422 and "The moment has passed" in r.text
        for kind, value in [("percent", "NaN"), ("amount", "NaN"), ("fixed", "1e999999"),
                            ("percent", "-5"), ("amount", "0.001"), ("fixed", "0")]:  # fmt: skip
            r = await c.post(PATH, data=base | {"name": "kopi", "kind": kind, "value": value})
            assert r.status_code == 422, (kind, value)
            assert "is not a" in r.text or "above S$0.00" in r.text
        # the single-product form reads prices the same way: "NaN" is a 422, not a 500
        kopi_id = next(x.product_id for x in demo_data.demo_products() if x.sku == "KOPI-001")
        r = await c.post(
            f"/products/{kopi_id}/prices",
            data={"csrf_token": csrf, "price": "NaN", "effective_from": "2099-01-01T00:00"},
        )
        assert r.status_code == 422 and "is not a price" in r.text
