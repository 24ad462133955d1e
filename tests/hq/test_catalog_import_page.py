"""Catalog CSV import from the back office (real HQ app in-process, a real SQLite file):
a file with one bad row imports nothing and names the row; a good file previews its
counts, then imports in one go and flows down the change feed; the age_restricted column
sets the flag tills check ages by, and an export (flag included) imports back unchanged."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from hq import enroll, manage
from hq.app import create_app
from hq.config import Settings
from hq.db import open_database
from sync import protocol as p

OWNER, PASSWORD = "owner", "right-password-1"
HEADER = "sku,barcode,name,price,tax_code,cdc_eligible,active\n"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    manage.seed_demo_sync(url)
    manage.create_admin_sync(url, username=OWNER, password=PASSWORD)
    return url


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(Settings(database_url=db_url, secret_key="t" * 32))
    async with application.router.lifespan_context(application):
        yield application


@asynccontextmanager
async def owner(app: FastAPI) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hq.test") as c:
        form = await c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        r = await c.post(
            "/login", data={"username": OWNER, "password": PASSWORD, "csrf_token": token[1]}
        )
        assert r.status_code == 303
        page = await c.get("/products/import")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert page.status_code == 200 and csrf is not None
        yield c, csrf[1]


def count(db_url: str, where: str = "1=1") -> int:
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:
        return int(conn.execute(f"SELECT count(*) FROM products WHERE {where}").fetchone()[0])


async def upload(c: httpx.AsyncClient, csrf: str, text: str) -> httpx.Response:
    return await c.post(
        "/products/import",
        data={"csrf_token": csrf, "action": "preview"},
        files={"file": ("catalog.csv", text.encode(), "text/csv")},
    )


async def test_one_bad_row_imports_nothing_and_names_the_row(app: FastAPI, db_url: str) -> None:
    before = count(db_url)
    rows = [f"NEW-{i},,New {i},1.{i:02d},SR,yes,yes\n" for i in range(5)]
    rows[3] = "NEW-3,,New 3,abc,SR,yes,yes\n"  # line 5 of the file
    text = HEADER + "".join(rows)
    async with owner(app) as (c, csrf):
        r = await upload(c, csrf, text)
        assert r.status_code == 422
        assert re.search(r"<td>5</td><td>[^<]*abc", r.text), r.text
        # even a forged confirm of the bad file writes nothing
        r = await c.post(
            "/products/import", data={"csrf_token": csrf, "action": "import", "csv_text": text}
        )
        assert r.status_code == 422
    assert count(db_url) == before
    assert count(db_url, "sku LIKE 'NEW-%'") == 0


async def test_a_good_file_previews_then_imports_all_of_it(app: FastAPI, db_url: str) -> None:
    before = count(db_url)
    text = HEADER + "".join(f"NEW-{i},88800{i:04d},New {i},2.50,SR,yes,yes\n" for i in range(300))
    text += "KOPI-001,,Kopi O,3.40,SR,yes,yes\n"  # an existing sku: updated, keeps its id
    async with owner(app) as (c, csrf):
        r = await upload(c, csrf, text)
        assert r.status_code == 200 and "300 new, 1 changed, 0 unchanged" in r.text
        assert count(db_url) == before  # a preview writes nothing
        carried = re.search(r'<textarea name="csv_text" hidden>(.*?)</textarea>', r.text, re.S)
        assert carried is not None
        r = await c.post(
            "/products/import",
            data={"csrf_token": csrf, "action": "import", "csv_text": carried[1]},
        )
        assert r.status_code == 200 and "Imported: 300 new, 1 changed" in r.text
        again = await upload(c, csrf, text)
        assert "0 new, 0 changed, 301 unchanged" in again.text
    assert count(db_url) == before + 300
    assert count(db_url, "sku = 'KOPI-001' AND price_cents = 340") == 1


async def test_a_barcode_taken_by_another_product_refuses_the_file(
    app: FastAPI, db_url: str
) -> None:
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:
        taken = conn.execute("SELECT barcode FROM products WHERE barcode IS NOT NULL").fetchone()[0]
    text = HEADER + "NEW-1,,One,1.00,SR,yes,yes\n" + f"NEW-2,{taken},Two,1.00,SR,yes,yes\n"
    async with owner(app) as (c, csrf):
        r = await upload(c, csrf, text)
        assert r.status_code == 422 and "<td>3</td>" in r.text
        r = await c.post(
            "/products/import", data={"csrf_token": csrf, "action": "import", "csv_text": text}
        )
        assert r.status_code == 422
    assert count(db_url, "sku LIKE 'NEW-%'") == 0


async def test_an_export_imports_back_unchanged(app: FastAPI, db_url: str) -> None:
    async with owner(app) as (c, csrf):
        r = await c.get("/products/export.csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        text = r.content.decode("utf-8-sig")
        assert text.startswith("sku,barcode,name,price,tax_code,cdc_eligible,active,age_restricted")
        assert len(text.splitlines()) == count(db_url) + 1
        flags = {line.split(",")[0]: line.rsplit(",", 2)[1] for line in text.splitlines()[1:]}
        assert flags["BEER-6"] == "yes" and flags["KOPI-001"] == "no"  # the demo's flags
        again = await upload(c, csrf, text)
        assert again.status_code == 200
        assert f"0 new, 0 changed, {count(db_url)} unchanged" in again.text
        # Only the flag differs: that row is a change.
        flipped = text.replace(
            flags_row(text, "KOPI-001"), flags_row(text, "KOPI-001")[:-3] + "yes,"
        )
        assert (
            f"0 new, 1 changed, {count(db_url) - 1} unchanged"
            in (await upload(c, csrf, flipped)).text
        )


def flags_row(text: str, sku: str) -> str:
    [found] = [line for line in text.splitlines() if line.startswith(f"{sku},")]
    assert found.endswith(",no,")  # age_restricted, then an empty category
    return found


async def pull(c: httpx.AsyncClient, token: str, since: int) -> dict[str, p.ProductRecord]:
    """The products in the till's change feed after ``since``, by sku."""
    products: dict[str, p.ProductRecord] = {}
    while True:
        r = await c.get(
            "/v1/sync/changes",
            params={"since": since},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text
        page = p.ChangePage.model_validate_json(r.content)
        products |= {ch.data.sku: ch.data for ch in page.changes if isinstance(ch, p.ProductChange)}
        since = page.next
        if not page.more:
            return products


async def test_the_age_restricted_column_sets_the_flag_the_tills_pull(
    app: FastAPI, db_url: str
) -> None:
    token = await till_token(db_url)
    header = HEADER.rstrip("\n") + ",age_restricted\n"
    async with owner(app) as (c, csrf):
        top = count_seq(db_url)
        text = header + "KOPI-001,,Kopi-O Powder 500g,3.30,SR,yes,yes,yes\n"
        text += "WINE-1,,Red Wine 750ml,29.90,SR,no,yes,yes\nNEW-1,,Plain,1.00,SR,yes,yes,\n"
        r = await c.post(
            "/products/import", data={"csrf_token": csrf, "action": "import", "csv_text": text}
        )
        assert r.status_code == 200 and "Imported: 2 new, 1 changed" in r.text, r.text
        fed = await pull(c, token, top)
        assert set(fed) == {"KOPI-001", "WINE-1", "NEW-1"}
        assert fed["KOPI-001"].age_restricted and fed["WINE-1"].age_restricted
        assert not fed["NEW-1"].age_restricted  # an empty cell is no
        # A file from before the column leaves the flag as it is; "no" clears it.
        old_style = HEADER + "KOPI-001,,Kopi-O Powder 500g,3.30,SR,yes,yes\n"
        assert "0 new, 0 changed, 1 unchanged" in (await upload(c, csrf, old_style)).text
        top = count_seq(db_url)
        cleared = header + "KOPI-001,,Kopi-O Powder 500g,3.30,SR,yes,yes,no\n"
        r = await c.post(
            "/products/import", data={"csrf_token": csrf, "action": "import", "csv_text": cleared}
        )
        assert "Imported: 0 new, 1 changed" in r.text
        assert not (await pull(c, token, top))["KOPI-001"].age_restricted
        bad = header + "KOPI-001,,Kopi-O Powder 500g,3.30,SR,yes,yes,maybe\n"
        r = await upload(c, csrf, bad)
        assert r.status_code == 422 and "maybe" in r.text
    assert count(db_url, "age_restricted") == 3  # the demo's BEER-6 and CIGAR-PK, and WINE-1


async def till_token(db_url: str) -> str:
    db = open_database(db_url)
    try:
        async with db.sessions() as s, s.begin():
            found = await enroll.enroll_terminal(session=s, outlet_code="A", terminal_code="T0")
    finally:
        await db.dispose()
    return found.token


def count_seq(db_url: str) -> int:
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:
        return int(conn.execute("SELECT max(change_seq) FROM products").fetchone()[0])
