"""The stock ledger on the real HQ app in-process (httpx over ASGI, a real SQLite file),
and ingest's movements on ``kedai-hq serve`` over SQLite and PostgreSQL.

A simulated day: a count sets opening stock, sales and a refund come in through the sync
API at two outlets, a transfer and a second count go through the pages. Every outlet's
on-hand must equal the sum of its movements and the figure this test works out itself;
a re-sent batch adds nothing; accountants and other outlets' managers change nothing.
"""

from __future__ import annotations

import asyncio
import csv as csvlib
import html
import io
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from hq import manage
from hq.app import create_app
from hq.config import Settings
from sync.demo_data import product_uuid
from tests.events import envelope, push_body, sale_payload
from tests.hq.conftest import PG_CTL, Hq
from tests.hq.pg import postgres_required
from tests.hq.test_reports_auth import ACCOUNTANT, OWNER, PASSWORD, client, csrf_of, log_in
from tests.hq.test_reports_figures import gst_in, pay

MANAGER = "amk-manager"
PRICES = {"KOPI-001": 330, "MILO-400": 789, "RICE-5KG": 1395}


def line(no: int, sku: str, qty: int) -> dict[str, Any]:
    price = PRICES[sku]
    return {
        "line_no": no, "product_id": str(product_uuid(sku)), "sku": sku, "name": sku,
        "qty": qty, "unit_price_cents": price, "discount_cents": 0,
        "total_cents": qty * price, "tax_code": "SR",
    }  # fmt: skip


def sale(tid: str, seq: int, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return envelope(tid, seq, "sale.completed", sale_payload(tid, seq, lines=lines))


def refund(tid: str, seq: int, original: dict[str, Any], lines: list[dict[str, Any]]) -> Any:
    total = sum(ln["total_cents"] for ln in lines)
    payload = {
        "refund_id": str(uuid.uuid4()), "original_sale_id": original["payload"]["sale_id"],
        "receipt_no": f"{tid}-R{seq:05d}", "cashier_id": str(uuid.uuid4()),
        "approved_by": None, "lines": lines, "payments": [pay("nets", total)], "loyalty": [],
        "total_cents": total, "tax_cents": gst_in(total), "reason": "damaged",
    }  # fmt: skip
    return envelope(tid, seq, "sale.refunded", payload)


def demo_store(url: str) -> str:
    """The store at ``url`` with the demo catalog and settings, an owner and an accountant."""
    manage.seed_demo_sync(url)
    manage.create_admin_sync(url, username=OWNER, password=PASSWORD)
    manage.create_admin_sync(url, username=ACCOUNTANT, password=PASSWORD, role="accountant")
    return url


@contextmanager
def fresh_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A demo store on the backend ``request.param`` names; on PostgreSQL a database of
    its own in the session's temporary cluster, dropped afterwards."""
    if request.param == "sqlite":
        yield demo_store(f"sqlite:///{tmp_path / 'hq.db'}")
        return
    if PG_CTL is None:
        if postgres_required():
            pytest.fail("PostgreSQL server binaries not found and KEDAI_REQUIRE_POSTGRES=1")
        pytest.skip("PostgreSQL server binaries not installed")
    import psycopg

    proc = request.getfixturevalue("pg_proc")
    server = {"host": proc.host, "port": proc.port, "user": proc.user, "autocommit": True}
    name = f"kedai_stock_{next(_databases)}"
    with psycopg.connect(dbname="postgres", **server) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield demo_store(f"postgresql://{proc.user}@{proc.host}:{proc.port}/{name}")
    finally:
        with psycopg.connect(dbname="postgres", **server) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
_databases = itertools.count(1)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_store(request, tmp_path) as url:
        yield url


@asynccontextmanager
async def running(db_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(Settings(database_url=db_url, secret_key="t" * 32))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[FastAPI]:
    async with running(db_url) as application:
        yield application


def query(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Read the store directly (a sync engine), to check what HQ really wrote."""
    url = make_url(db_url)
    url = url.set(
        drivername="postgresql+psycopg" if url.drivername.startswith("postgres") else "sqlite"
    )
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def ledger(db_url: str) -> dict[tuple[str, str], int]:
    """On-hand from the raw ledger, by outlet and sku (this test's own sum)."""
    rows = query(
        db_url,
        "SELECT outlet_code, product_id, SUM(qty) FROM stock_movements "
        "GROUP BY outlet_code, product_id",
    )
    by_id = {product_uuid(sku): sku for sku in PRICES}
    return {(o, by_id[uuid.UUID(str(pid))]): int(q) for o, pid, q in rows}


async def push(app: FastAPI, token: str, tid: str, events: list[dict[str, Any]]) -> list[str]:
    async with client(app) as c:
        r = await c.post(
            "/v1/sync/push",
            json=push_body(tid, events),
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 200, r.text
    return [x["status"] for x in r.json()["results"]]


async def signed_in(c: httpx.AsyncClient, user: str) -> str:
    assert (await log_in(c, user)).status_code == 303
    return csrf_of(await c.get("/stock"))


def count_form(csrf: str, outlet: str, counts: dict[str, int]) -> dict[str, str]:
    form = {"csrf_token": csrf, "outlet": outlet}
    form.update({f"count.{product_uuid(sku)}": str(n) for sku, n in counts.items()})
    return form


def transfer_form(csrf: str, source: str, target: str, lines: list[tuple[str, str]]) -> Any:
    return {
        "csrf_token": csrf, "from_outlet": source, "to_outlet": target,
        "sku": [sku for sku, _ in lines], "qty": [qty for _, qty in lines],
    }  # fmt: skip


async def test_a_day_of_sales_counts_and_a_transfer_adds_up(app: FastAPI, db_url: str) -> None:
    demo = await asyncio.to_thread(
        manage.enroll_terminal_sync, db_url, outlet="DEMO", terminal="T01"
    )
    amk = await asyncio.to_thread(manage.enroll_terminal_sync, db_url, outlet="AMK", terminal="T01")
    async with client(app) as c:
        csrf = await signed_in(c, OWNER)
        r = await c.post(
            "/stock/count", data=count_form(csrf, "DEMO", {"KOPI-001": 50, "MILO-400": 20})
        )
        assert r.status_code == 303, r.text

    s1 = sale(demo.terminal_id, 1, [line(1, "KOPI-001", 3), line(2, "MILO-400", 2)])
    s2 = sale(demo.terminal_id, 2, [line(1, "KOPI-001", 1), line(2, "RICE-5KG", 4)])
    r1 = refund(demo.terminal_id, 3, s1, [line(1, "KOPI-001", 1)])
    batch = [s1, s2, r1]
    assert await push(app, demo.token, demo.terminal_id, batch) == ["accepted"] * 3
    a1 = sale(amk.terminal_id, 1, [line(1, "KOPI-001", 2)])
    assert await push(app, amk.token, amk.terminal_id, [a1]) == ["accepted"]

    async with client(app) as c:
        csrf = await signed_in(c, OWNER)
        r = await c.post(
            "/stock/transfer", data=transfer_form(csrf, "DEMO", "AMK", [("KOPI-001", "10")])
        )
        assert r.status_code == 303, r.text
        # AMK holds -2 + 10 = 8 by the ledger; 7 are counted: an adjustment of -1
        r = await c.post("/stock/count", data=count_form(csrf, "AMK", {"KOPI-001": 7}))
        assert r.status_code == 303, r.text

        expected = {
            ("DEMO", "KOPI-001"): 50 - 3 - 1 + 1 - 10,
            ("DEMO", "MILO-400"): 20 - 2,
            ("DEMO", "RICE-5KG"): -4,
            ("AMK", "KOPI-001"): 7,
        }
        assert ledger(db_url) == expected
        levels = (await c.get("/v1/reports/stock")).json()["rows"]
        assert {(r["outlet"], r["sku"]): r["on_hand"] for r in levels} == expected
        history = (await c.get("/v1/reports/stock-movements?outlet=DEMO&sku=KOPI-001")).json()
        assert history["on_hand"] == 37
        assert [(r["kind"], r["qty"], r["balance"]) for r in history["rows"]] == [
            ("transfer_out", -10, 37), ("refund", 1, 47), ("sale", -1, 46), ("sale", -3, 47),
            ("adjustment", 50, 50),
        ]  # fmt: skip
        page = await c.get("/stock/movements?outlet=DEMO&sku=KOPI-001")
        assert page.status_code == 200 and '<dd data-kpi="on-hand">37</dd>' in page.text
        missing = await c.get("/v1/reports/stock-movements?outlet=DEMO&sku=NOPE")
        assert missing.status_code == 404
        assert missing.json()["error"]["message"] == "no product with sku NOPE in the catalog"
        for blank in ("", "&sku=", "&sku=%20"):  # a hand-made address names no product
            page = await c.get(f"/stock/movements?outlet=DEMO{blank}")
            assert page.status_code == 404 and "pick one from the stock table" in page.text
        blank_api = await c.get("/v1/reports/stock-movements?outlet=DEMO&sku=%20")
        assert blank_api.status_code == 404
        page = await c.get("/stock?outlet=DEMO")
        assert 'data-sku="MILO-400"' in page.text and "<td data-on-hand>18</td>" in page.text

        # a lost answer: the till sends the same batch again; nothing moves twice
        assert await push(app, demo.token, demo.terminal_id, batch) == ["duplicate"] * 3
        assert ledger(db_url) == expected
        kinds = dict(query(db_url, "SELECT kind, COUNT(*) FROM stock_movements GROUP BY kind"))
        assert kinds == {
            "adjustment": 3,
            "sale": 5,
            "refund": 1,
            "transfer_out": 1,
            "transfer_in": 1,
        }

        valuation = (await c.get("/v1/reports/stock-valuation")).json()
        assert {(r["outlet"], r["sku"]): r["on_hand"] for r in valuation["rows"]} == expected
        assert valuation["total_cents"] == 0 and valuation["uncosted"] == 4
        csv = await c.get("/reports/stock-valuation.csv")
        assert csv.status_code == 200
        rows = list(csvlib.reader(io.StringIO(csv.text.removeprefix("\ufeff"))))
        assert rows[0] == ["outlet", "sku", "name", "on_hand", "unit_cost", "value"]
        assert {(r[0], r[1]): int(r[3]) for r in rows[1:]} == expected

        # low stock: MILO at DEMO (18) is below a threshold of 25, KOPI (35) is not below 30
        for sku, limit in (("MILO-400", "25"), ("KOPI-001", "30")):
            r = await c.post(
                "/stock/threshold",
                data={"csrf_token": csrf, "outlet": "DEMO", "sku": sku, "min_qty": limit},
            )
            assert r.status_code == 303, r.text
        dash = await c.get("/")
        panel = dash.text.split('id="low-stock"')[1]
        assert 'data-sku="MILO-400"' in panel and 'data-sku="KOPI-001"' not in panel
        low = (await c.get("/v1/reports/low-stock")).json()
        assert [(r["outlet"], r["sku"], r["on_hand"]) for r in low] == [("DEMO", "MILO-400", 18)]

    async with client(app) as anonymous:
        assert (await anonymous.get("/v1/reports/stock-valuation")).status_code == 401
        paths = (await anonymous.get("/openapi.json")).json()["paths"]
    for path in ("/v1/reports/stock", "/v1/reports/low-stock", "/v1/reports/stock-valuation"):
        assert "get" in paths[path] and "401" in paths[path]["get"]["responses"]

    actions = [
        a
        for (a,) in query(db_url, "SELECT action FROM admin_audit ORDER BY audit_id")
        if a.startswith("stock.")
    ]
    assert actions == [
        "stock.count",
        "stock.transfer",
        "stock.count",
        "stock.threshold",
        "stock.threshold",
    ]


async def test_bad_input_is_a_sentence_and_moves_nothing(app: FastAPI, db_url: str) -> None:
    await asyncio.to_thread(manage.enroll_terminal_sync, db_url, outlet="AMK", terminal="T01")
    async with client(app) as c:
        csrf = await signed_in(c, OWNER)
        cases = [
            (transfer_form(csrf, "DEMO", "AMK", [("KOPI-001", "lots")]), "is not a whole number"),
            (transfer_form(csrf, "DEMO", "AMK", [("NOPE-1", "1")]), "No product with sku NOPE-1"),
            (
                transfer_form(csrf, "DEMO", "AMK", [("KOPI-001", "5")]),
                "DEMO has 0 of KOPI-001 on hand",
            ),
            (
                transfer_form(csrf, "DEMO", "DEMO", [("KOPI-001", "1")]),
                "from one outlet to another",
            ),
            (transfer_form(csrf, "DEMO", "XYZ", [("KOPI-001", "1")]), "There is no outlet 'XYZ'"),
            (transfer_form(csrf, "DEMO", "AMK", [("", "3")]), "but no sku"),
        ]
        for form, message in cases:
            r = await c.post("/stock/transfer", data=form)
            assert r.status_code == 422 and message in html.unescape(r.text), message
        r = await c.post(
            "/stock/count", data={"csrf_token": csrf, "outlet": "DEMO", "count.x": "1"}
        )
        assert r.status_code == 422 and "names no product" in r.text
        r = await c.post("/stock/count", data={"csrf_token": csrf, "outlet": "DEMO"})
        assert r.status_code == 422 and "at least one product" in r.text
        r = await c.post("/stock/count", data=count_form(csrf, "DEMO", {"KOPI-001": -1}))
        assert r.status_code == 422 and "not a whole number" in r.text
    assert query(db_url, "SELECT COUNT(*) FROM stock_movements") == [(0,)]


async def test_accountants_and_other_outlets_managers_change_nothing(
    app: FastAPI, db_url: str
) -> None:
    await asyncio.to_thread(manage.enroll_terminal_sync, db_url, outlet="AMK", terminal="T01")
    await asyncio.to_thread(
        manage.create_admin_sync, db_url, username=MANAGER, password=PASSWORD,
        role="manager", outlets=["AMK"],
    )  # fmt: skip
    async with client(app) as c:
        csrf = await signed_in(c, ACCOUNTANT)
        assert "Book transfer" not in (await c.get("/stock")).text
        r = await c.post("/stock/count", data=count_form(csrf, "AMK", {"KOPI-001": 5}))
        assert r.status_code == 403 and "accountant cannot change stock" in r.text
        r = await c.post(
            "/stock/transfer", data=transfer_form(csrf, "AMK", "DEMO", [("KOPI-001", "1")])
        )
        assert r.status_code == 403
    async with client(app) as c:
        csrf = await signed_in(c, MANAGER)
        r = await c.post("/stock/count", data=count_form(csrf, "DEMO", {"KOPI-001": 5}))
        assert r.status_code == 403 and "You do not manage outlet DEMO" in r.text
        r = await c.post(
            "/stock/threshold",
            data={"csrf_token": csrf, "outlet": "DEMO", "sku": "KOPI-001", "min_qty": "3"},
        )
        assert r.status_code == 403
        assert query(db_url, "SELECT COUNT(*) FROM stock_movements") == [(0,)]
        r = await c.post("/stock/count", data=count_form(csrf, "AMK", {"KOPI-001": 5}))
        assert r.status_code == 303
        r = await c.post(
            "/stock/transfer", data=transfer_form(csrf, "AMK", "DEMO", [("KOPI-001", "1")])
        )
        assert r.status_code == 403 and "You do not manage outlet DEMO" in r.text
        # their reports show their outlet only
        assert {r["outlet"] for r in (await c.get("/v1/reports/stock")).json()["rows"]} == {"AMK"}
        assert (await c.get("/v1/reports/stock?outlet=DEMO")).json()["rows"] == []
        other = await c.get("/v1/reports/stock-movements?outlet=DEMO&sku=KOPI-001")
        assert other.status_code == 403
        assert (await c.get("/stock/movements?outlet=DEMO&sku=KOPI-001")).status_code == 404
    assert query(
        db_url, "SELECT outlet_code, SUM(qty) FROM stock_movements GROUP BY outlet_code"
    ) == [("AMK", 5)]


def test_ingest_writes_movements_once_on_both_stores(hq: Hq) -> None:
    """The bulk insert on PostgreSQL (unnest) and SQLite; a resend adds nothing."""
    manage.seed_demo_sync(hq.database_url)
    tid, token = hq.enroll(outlet="INV")
    s1 = sale(tid, 1, [line(1, "KOPI-001", 3), line(2, "MILO-400", 2)])
    r1 = refund(tid, 2, s1, [line(2, "MILO-400", 1)])
    open_item = {**line(1, "RICE-5KG", 9), "product_id": None}
    s2 = sale(tid, 3, [open_item])
    with hq.client(token) as c:
        for expected in ("accepted", "duplicate"):
            answer = c.post("/v1/sync/push", json=push_body(tid, [s1, r1, s2])).json()
            assert [x["status"] for x in answer["results"]] == [expected] * 3
            assert hq.scalar("SELECT COUNT(*) FROM stock_movements WHERE actor = :t", t=tid) == 3
    total = "SELECT SUM(qty) FROM stock_movements WHERE outlet_code = 'INV' AND product_id = :p"
    kopi, milo = (product_uuid(s) for s in ("KOPI-001", "MILO-400"))
    as_stored = (lambda u: u) if hq.backend == "postgres" else (lambda u: u.hex)
    assert hq.scalar(total, p=as_stored(kopi)) == -3
    assert hq.scalar(total, p=as_stored(milo)) == -1


async def test_ingest_writes_a_batch_of_movements_in_one_statement(
    app: FastAPI, db_url: str
) -> None:
    """The hot path stays flat: whatever the batch size, the same statements run, and
    the movements of every line go in one insert (no per-line query)."""
    till = await asyncio.to_thread(
        manage.enroll_terminal_sync, db_url, outlet="DEMO", terminal="T01"
    )
    seen: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", spy)
    try:
        counts = []
        seq = 1
        for size in (5, 40):
            batch = [
                sale(till.terminal_id, seq + i, [line(1, "KOPI-001", 1), line(2, "MILO-400", 2)])
                for i in range(size)
            ]
            seq += size
            seen.clear()
            assert await push(app, till.token, till.terminal_id, batch) == ["accepted"] * size
            counts.append((len(seen), sum("stock_movements" in s.lower() for s in seen)))
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert counts[0] == counts[1] and counts[0][1] == 1, counts
    assert query(db_url, "SELECT COUNT(*), SUM(qty) FROM stock_movements") == [(90, -135)]
