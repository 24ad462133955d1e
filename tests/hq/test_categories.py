"""Product categories at head office (real HQ app in-process, a real SQLite file): owners
add, rename and deactivate them (audited; names unique whatever their case), accountants
only look, a post without the CSRF token changes nothing; the product form sets a
product's category without sending tills a change; the catalog CSV's category column
creates unknown names, a file without it keeps categories, and one bad row imports
nothing (no category made either); ``kedai-hq import-catalog`` says what it created."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from hq import manage
from hq.app import create_app
from hq.config import Settings
from sync import demo_data
from tests.hq.test_catalog_import_page import HEADER, upload

OWNER, ACCOUNTANT, PASSWORD = "owner", "counter", "right-password-1"
KOPI = next(x for x in demo_data.demo_products() if x.sku == "KOPI-001")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    manage.seed_demo_sync(url)
    manage.create_admin_sync(url, username=OWNER, password=PASSWORD)
    manage.create_admin_sync(url, username=ACCOUNTANT, password=PASSWORD, role="accountant")
    return url


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
        page = await c.get("/categories")
        assert page.status_code == 200
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        yield c, csrf[1] if csrf else ""


def sql(db_url: str, query: str, *params: object) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:
        return conn.execute(query, params).fetchall()


def categories(db_url: str) -> dict[str, bool]:
    return {str(n): bool(a) for n, a in sql(db_url, "SELECT name, active FROM categories")}


def category_of(db_url: str, sku: str) -> str | None:
    [(name,)] = sql(
        db_url,
        "SELECT c.name FROM products p LEFT JOIN categories c ON c.category_id = p.category_id "
        "WHERE p.sku = ?",
        sku,
    )
    return None if name is None else str(name)


def category_id(db_url: str, name: str) -> int:
    [(found,)] = sql(db_url, "SELECT category_id FROM categories WHERE name = ?", name)
    return int(str(found))


def audited(db_url: str) -> list[tuple[object, ...]]:
    return sql(
        db_url,
        "SELECT username, action, target FROM admin_audit WHERE action LIKE 'category.%' "
        "ORDER BY audit_id",
    )


async def test_owner_adds_renames_and_deactivates_audited(app: FastAPI, db_url: str) -> None:
    async with logged_in(app, OWNER) as (c, csrf):
        r = await c.post("/categories", data={"name": "  Hot   drinks ", "csrf_token": csrf})
        assert r.status_code == 303
        assert categories(db_url) == {"Hot drinks": True}
        taken = await c.post("/categories", data={"name": "HOT DRINKS", "csrf_token": csrf})
        assert taken.status_code == 422 and "already a category" in taken.text
        assert "There is already" in taken.text  # the shared sentence helper
        hot = category_id(db_url, "Hot drinks")
        await c.post("/categories", data={"name": "Snacks", "csrf_token": csrf})
        clash = await c.post(
            f"/categories/{hot}/rename", data={"name": "snacks", "csrf_token": csrf}
        )
        assert clash.status_code == 422
        r = await c.post(f"/categories/{hot}/rename", data={"name": "Drinks", "csrf_token": csrf})
        assert r.status_code == 303
        # A new casing of its own name is a rename, not a clash.
        r = await c.post(f"/categories/{hot}/rename", data={"name": "DRINKS", "csrf_token": csrf})
        assert r.status_code == 303
        r = await c.post(f"/categories/{hot}/active", data={"active": "0", "csrf_token": csrf})
        assert r.status_code == 303
        assert categories(db_url) == {"DRINKS": False, "Snacks": True}
        empty = await c.post("/categories", data={"name": "   ", "csrf_token": csrf})
        assert empty.status_code == 422
        reserved = await c.post("/categories", data={"name": "uncategorised", "csrf_token": csrf})
        assert reserved.status_code == 422
        missing = await c.post(
            "/categories/999999/active", data={"active": "0", "csrf_token": csrf}
        )
        assert missing.status_code == 422
        assert (await c.post("/categories/0/active", data={"csrf_token": csrf})).status_code == 422
        page = await c.get("/categories")
        assert "DRINKS" in page.text and "inactive" in page.text
        listed = (await c.get("/v1/admin/categories")).json()
        assert [(x["name"], x["active"], x["products"]) for x in listed] == [
            ("DRINKS", False, 0),
            ("Snacks", True, 0),
        ]
    assert audited(db_url) == [
        ("owner", "category.create", "Hot drinks"),
        ("owner", "category.create", "Snacks"),
        ("owner", "category.rename", "Drinks"),
        ("owner", "category.rename", "DRINKS"),
        ("owner", "category.deactivate", "DRINKS"),
    ]


async def test_an_accountant_only_looks_and_a_post_without_csrf_changes_nothing(
    app: FastAPI, db_url: str
) -> None:
    async with logged_in(app, OWNER) as (c, csrf):
        await c.post("/categories", data={"name": "Drinks", "csrf_token": csrf})
        no_csrf = await c.post("/categories", data={"name": "Snacks"})
        assert no_csrf.status_code == 403
        drinks = category_id(db_url, "Drinks")
        r = await c.post(f"/categories/{drinks}/active", data={"active": "0"})
        assert r.status_code == 403
    async with logged_in(app, ACCOUNTANT) as (c, csrf):
        page = await c.get("/categories")
        assert "Drinks" in page.text and "Add category" not in page.text
        sent = csrf  # even with the session's own CSRF token the role refuses
        assert sent
        r = await c.post("/categories", data={"name": "Snacks", "csrf_token": sent})
        assert r.status_code == 403
        r = await c.post(
            f"/categories/{drinks}/rename", data={"name": "Beverages", "csrf_token": sent}
        )
        assert r.status_code == 403
    assert categories(db_url) == {"Drinks": True}
    assert [a[1] for a in audited(db_url)] == ["category.create"]


async def test_the_product_form_sets_the_category_without_a_change_for_tills(
    app: FastAPI, db_url: str
) -> None:
    async with logged_in(app, OWNER) as (c, csrf):
        await c.post("/categories", data={"name": "Drinks", "csrf_token": csrf})
        await c.post("/categories", data={"name": "Old stock", "csrf_token": csrf})
        drinks, old = category_id(db_url, "Drinks"), category_id(db_url, "Old stock")
        await c.post(f"/categories/{old}/active", data={"active": "0", "csrf_token": csrf})
        listing = await c.get("/products")
        assert f'<option value="{drinks}">Drinks</option>' in listing.text
        assert "Old stock" not in listing.text  # an inactive category is not offered
        r = await c.post(
            "/products",
            data={"sku": "TEH-9", "name": "Teh tarik", "price": "1.80", "tax_code": "SR",
                  "category": str(drinks), "csrf_token": csrf},
        )  # fmt: skip
        assert r.status_code == 303
        assert category_of(db_url, "TEH-9") == "Drinks"
        [(seq_before,)] = sql(db_url, "SELECT change_seq FROM products WHERE sku = 'KOPI-001'")
        fields = {"sku": KOPI.sku, "name": KOPI.name, "barcode": KOPI.barcode or "",
                  "price": f"{KOPI.price_cents / 100:.2f}", "tax_code": KOPI.tax_code,
                  "cdc": "1" if KOPI.cdc_eligible else "", "active": "1",
                  "csrf_token": csrf}  # fmt: skip
        r = await c.post(f"/products/{KOPI.product_id}", data=fields | {"category": str(drinks)})
        assert r.status_code == 303
        assert category_of(db_url, "KOPI-001") == "Drinks"
        [(seq_after,)] = sql(db_url, "SELECT change_seq FROM products WHERE sku = 'KOPI-001'")
        assert seq_after == seq_before  # tills do not carry categories
        page = await c.get(f"/products/{KOPI.product_id}")
        assert f'<option value="{drinks}" selected>Drinks</option>' in page.text
        bad = await c.post(f"/products/{KOPI.product_id}", data=fields | {"category": "424242"})
        assert bad.status_code == 422 and "No such category" in bad.text
        assert category_of(db_url, "KOPI-001") == "Drinks"
        r = await c.post(f"/products/{KOPI.product_id}", data=fields | {"category": ""})
        assert r.status_code == 303 and category_of(db_url, "KOPI-001") is None
    edits = sql(db_url, "SELECT action FROM admin_audit WHERE target = 'KOPI-001'")
    assert edits == [("product.edit",), ("product.edit",)]


CAT_HEADER = HEADER.rstrip("\n") + ",category\n"


async def test_the_csv_category_column_creates_keeps_and_refuses(app: FastAPI, db_url: str) -> None:
    async with logged_in(app, OWNER) as (c, csrf):
        await c.post("/categories", data={"name": "Drinks", "csrf_token": csrf})
        text = CAT_HEADER + (
            "KOPI-001,,Kopi-O Powder 500g,3.30,SR,yes,yes,drinks\n"
            "NEW-1,,Prawn crackers,2.00,SR,yes,yes,Snacks\n"
            "NEW-2,,Kaya,4.50,SR,yes,yes,  snacks \n"
            "NEW-3,,Plain,1.00,SR,yes,yes,\n"
            "NEW-4,,Ice,1.00,SR,yes,yes,Frozen\n"
        )
        preview = await upload(c, csrf, text)
        assert preview.status_code == 200
        assert "will create 2 new categories: Snacks, Frozen" in preview.text
        assert categories(db_url) == {"Drinks": True}  # a preview writes nothing
        r = await c.post(
            "/products/import", data={"csrf_token": csrf, "action": "import", "csv_text": text}
        )
        assert r.status_code == 200 and "New categories created: Snacks, Frozen" in r.text
        assert categories(db_url) == {"Drinks": True, "Snacks": True, "Frozen": True}
        assert category_of(db_url, "KOPI-001") == "Drinks"
        assert category_of(db_url, "NEW-1") == category_of(db_url, "NEW-2") == "Snacks"
        assert category_of(db_url, "NEW-3") is None
        [(detail,)] = sql(db_url, "SELECT detail FROM admin_audit WHERE action = 'catalog.import'")
        assert "2 new categories" in str(detail)

        # A file without the column keeps every category (and changes nothing).
        old_style = HEADER + "KOPI-001,,Kopi-O Powder 500g,3.30,SR,yes,yes\n"
        old_style += "NEW-1,,Prawn crackers,2.10,SR,yes,yes\n"
        r = await c.post(
            "/products/import",
            data={"csrf_token": csrf, "action": "import", "csv_text": old_style},
        )
        assert "Imported: 0 new, 1 changed, 1 unchanged" in r.text
        assert category_of(db_url, "KOPI-001") == "Drinks"
        assert category_of(db_url, "NEW-1") == "Snacks"

        # A category-only change is a change, but not one the tills are sent.
        [(seq,)] = sql(db_url, "SELECT change_seq FROM products WHERE sku = 'NEW-3'")
        moved = CAT_HEADER + "NEW-3,,Plain,1.00,SR,yes,yes,Frozen\n"
        r = await c.post(
            "/products/import", data={"csrf_token": csrf, "action": "import", "csv_text": moved}
        )
        assert "Imported: 0 new, 1 changed, 0 unchanged" in r.text
        assert category_of(db_url, "NEW-3") == "Frozen"
        assert sql(db_url, "SELECT change_seq FROM products WHERE sku = 'NEW-3'") == [(seq,)]

        # One bad row: nothing imported, no category made.
        bad = CAT_HEADER + (
            "NEW-5,,Chips,1.00,SR,yes,yes,Crisps\n"
            "NEW-6,,Bad,abc,SR,yes,yes,Crisps\n"
            f"NEW-7,,Long,1.00,SR,yes,yes,{'x' * 101}\n"
        )
        r = await c.post(
            "/products/import", data={"csrf_token": csrf, "action": "import", "csv_text": bad}
        )
        assert r.status_code == 422
        assert "<td>3</td>" in r.text and "<td>4</td>" in r.text and "category:" in r.text
        assert "Crisps" not in categories(db_url)
        assert sql(db_url, "SELECT count(*) FROM products WHERE sku IN ('NEW-5','NEW-6')") == [(0,)]

        export = (await c.get("/products/export.csv")).content.decode("utf-8-sig")
        assert export.splitlines()[0].endswith(",age_restricted,category")
        assert any(ln.startswith("NEW-1,") and ln.endswith(",Snacks") for ln in export.splitlines())
        again = await upload(c, csrf, export)
        assert again.status_code == 200 and " 0 new, 0 changed," in again.text
        assert "new categor" not in again.text


def test_import_catalog_command_says_which_categories_it_made(tmp_path: Path) -> None:
    csv = tmp_path / "cat.csv"
    csv.write_text("sku,name,price,category\nA1,Apple,1.20,Fruit\nA2,Pear,1.30,FRUIT\n")
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    out = subprocess.run(
        [sys.executable, "-m", "hq", "import-catalog", str(csv), "--database-url", url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "2 new" in out.stdout and "1 new categories created: Fruit" in out.stdout
    assert category_of(url, "A2") == "Fruit"
