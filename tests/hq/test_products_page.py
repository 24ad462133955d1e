"""The product form's age-restriction checkbox (real HQ app in-process, a real SQLite file):
ticking or clearing it on the edit page is an audited change with a fresh change_seq that
the tills pull; a new product can be created age-restricted; a post without the form's
CSRF token changes nothing."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

import httpx
from fastapi import FastAPI

from sync import demo_data
from tests.hq.test_catalog_import_page import app, db_url, owner, pull, till_token

__all__ = ["app", "db_url"]  # fixtures used by the tests below

KOPI = next(x for x in demo_data.demo_products() if x.sku == "KOPI-001")


def sql(db_url: str, query: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:
        return conn.execute(query).fetchall()


def kopi_row(db_url: str) -> tuple[object, ...]:
    [found] = sql(db_url, "SELECT age_restricted, change_seq FROM products WHERE sku = 'KOPI-001'")
    return found


def form_of(page: httpx.Response, **changes: str) -> dict[str, str]:
    """The edit form's fields as the page fills them (ticked checkboxes only), then changes."""
    form = re.search(r'<form[^>]*id="edit-product".*?</form>', page.text, re.S)
    assert form is not None
    text = r'<input(?![^>]*type="checkbox")[^>]*name="([^"]+)" value="([^"]*)"'
    fields = dict(re.findall(text, form[0]))
    fields |= dict.fromkeys(re.findall(r'name="([^"]+)" value="1" checked', form[0]), "1")
    fields["tax_code"] = KOPI.tax_code
    return {k: v for k, v in (fields | changes).items() if v}


async def test_editing_the_checkbox_flips_the_flag_and_the_tills_pull_it(
    app: FastAPI, db_url: str
) -> None:
    token = await till_token(db_url)
    age, seq = kopi_row(db_url)
    assert age == 0
    async with owner(app) as (c, _):
        page = await c.get(f"/products/{KOPI.product_id}")
        assert page.status_code == 200
        assert re.search(r'name="age_restricted" value="1">', page.text)  # not ticked
        fields = form_of(page, age_restricted="1")
        assert fields["sku"] == "KOPI-001" and fields["active"] == "1" and "csrf_token" in fields

        forged = await c.post(f"/products/{KOPI.product_id}", data=fields | {"csrf_token": "x"})
        assert forged.status_code == 403
        assert kopi_row(db_url) == (0, seq)

        r = await c.post(f"/products/{KOPI.product_id}", data=fields)
        assert r.status_code == 303, r.text
        age, ticked_seq = kopi_row(db_url)
        assert age == 1 and isinstance(ticked_seq, int) and isinstance(seq, int)
        assert ticked_seq > seq
        fed = await pull(c, token, seq)
        assert fed["KOPI-001"].age_restricted
        page = await c.get(f"/products/{KOPI.product_id}")
        assert 'name="age_restricted" value="1" checked' in page.text

        # Saving the same form again changes nothing; clearing the box is a change.
        assert (await c.post(f"/products/{KOPI.product_id}", data=fields)).status_code == 303
        assert kopi_row(db_url) == (1, ticked_seq)
        cleared = form_of(page, age_restricted="")
        assert (await c.post(f"/products/{KOPI.product_id}", data=cleared)).status_code == 303
        age, cleared_seq = kopi_row(db_url)
        assert age == 0 and isinstance(cleared_seq, int) and cleared_seq > ticked_seq
        assert not (await pull(c, token, ticked_seq))["KOPI-001"].age_restricted

    edits = sql(
        db_url,
        "SELECT detail FROM admin_audit WHERE action = 'product.edit' AND target = 'KOPI-001' "
        "ORDER BY audit_id",
    )
    assert len(edits) == 2
    assert '"age_restricted":true' in str(edits[0][0])
    assert '"age_restricted":false' in str(edits[1][0])


async def test_a_new_product_can_be_created_age_restricted(app: FastAPI, db_url: str) -> None:
    async with owner(app) as (c, csrf):
        index = await c.get("/products")
        assert re.search(r'name="age_restricted" value="1">', index.text)  # not ticked
        fields = {"sku": "wine-1", "name": "Red Wine 750ml", "price": "29.90", "csrf_token": csrf}
        r = await c.post("/products", data=fields | {"age_restricted": "1"})
        assert r.status_code == 303, r.text
        r = await c.post("/products", data=fields | {"sku": "jam-1", "name": "Kaya Jam"})
        assert r.status_code == 303, r.text
    made = "SELECT sku, age_restricted FROM products WHERE sku IN ('WINE-1', 'JAM-1') ORDER BY sku"
    assert sql(db_url, made) == [("JAM-1", 0), ("WINE-1", 1)]
    [(detail,)] = sql(db_url, "SELECT detail FROM admin_audit WHERE target = 'WINE-1'")
    assert '"age_restricted":true' in str(detail)


async def test_a_free_price_or_a_barcode_a_scan_could_confuse_is_refused(
    app: FastAPI, db_url: str
) -> None:
    count = "SELECT count(*) FROM products"
    before = sql(db_url, count)
    async with owner(app) as (c, csrf):
        fields = {"sku": "qb-9", "name": "Kopi Bag", "price": "3.30", "csrf_token": csrf}
        r = await c.post("/products", data=fields | {"price": "0"})
        assert r.status_code == 422 and "A price must be above S$0.00" in r.text
        r = await c.post("/products", data=fields | {"price": "1e3"})  # not S$1,000.00
        assert r.status_code == 422 and "&#39;1e3&#39; is not a price like 3.30" in r.text
        r = await c.post("/products", data=fields | {"barcode": KOPI.barcode or ""})
        assert r.status_code == 422
        assert "already belongs to KOPI-001: a scan could not tell them apart" in r.text
        r = await c.post("/products", data=fields | {"barcode": "abc def"})
        assert r.status_code == 422 and "has a space" in r.text
        assert sql(db_url, count) == before
        # editing: the product's own barcode is its own; a price of nothing is refused
        page = await c.get(f"/products/{KOPI.product_id}")
        r = await c.post(f"/products/{KOPI.product_id}", data=form_of(page, price="0.00"))
        assert r.status_code == 422 and "A price must be above S$0.00" in r.text
        r = await c.post(f"/products/{KOPI.product_id}", data=form_of(page, name="Kopi O"))
        assert r.status_code == 303, r.text
    assert sql(db_url, "SELECT name, price_cents FROM products WHERE sku = 'KOPI-001'") == [
        ("Kopi O", KOPI.price_cents)
    ]
