"""The change feed: demo master data pages down by change_seq, never by time."""

from __future__ import annotations

import pytest

from hq import manage
from sync import demo_data
from sync import protocol as p
from tests.hq.conftest import TEST_PAGE_MAX, Hq


@pytest.fixture
def seeded(hq: Hq) -> Hq:
    manage.seed_demo_sync(hq.database_url)  # idempotent: cheap after the first time
    return hq


def _pull_all(hq: Hq, token: str, limit: int) -> list[p.ProductChange | p.CustomerChange]:
    since, changes, pages = 0, [], 0
    with hq.client(token) as c:
        while True:
            r = c.get("/v1/sync/changes", params={"since": since, "limit": limit})
            assert r.status_code == 200, r.text
            page = p.ChangePage.model_validate_json(r.content)
            assert len(page.changes) <= limit
            assert all(ch.seq > since for ch in page.changes)
            changes += page.changes
            pages += 1
            if not page.more:
                assert page.next >= since
                return changes
            assert page.next == page.changes[-1].seq
            since = page.next


def test_feed_pages_through_the_demo_store_in_seq_order(seeded: Hq) -> None:
    _, token = seeded.enroll()
    changes = _pull_all(seeded, token, limit=7)
    seqs = [ch.seq for ch in changes]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    kinds = {ch.kind for ch in changes}
    assert kinds >= {"product", "customer", "cashier", "tender", "settings"}
    products = {ch.data.sku: ch.data for ch in changes if isinstance(ch, p.ProductChange)}
    assert len(products) >= 50
    kopi = next(pr for pr in products.values() if pr.barcode == demo_data.DEMO_BARCODE)
    assert kopi.price_cents == 330
    assert kopi.product_id == demo_data.product_uuid(kopi.sku)
    restricted = {sku for sku, pr in products.items() if pr.age_restricted}
    assert restricted == demo_data.AGE_RESTRICTED  # tills ask for the customer's age
    settings = next(ch.data for ch in changes if isinstance(ch, p.SettingsChange))
    assert settings.gst_rates[-1].rate_bp == 900
    cashiers = [ch.data for ch in changes if isinstance(ch, p.CashierChange)]
    assert {(c.name, c.role) for c in cashiers} >= {("Aisha", "cashier"), ("Mr Tan", "manager")}
    assert all(c.pin_hash.startswith("scrypt$") for c in cashiers)
    hafiz = next(
        c for c in changes if isinstance(c, p.CustomerChange) and c.data.phone == "98765432"
    )
    assert hafiz.data.loyalty_balance == 120


def test_page_size_is_capped_by_hq(seeded: Hq) -> None:
    _, token = seeded.enroll()
    with seeded.client(token) as c:
        page = c.get("/v1/sync/changes", params={"since": 0, "limit": 100_000}).json()
    assert len(page["changes"]) == TEST_PAGE_MAX
    assert page["more"] is True


def test_reseeding_changes_nothing_tills_would_pull(seeded: Hq) -> None:
    _, token = seeded.enroll()
    with seeded.client(token) as c:
        top = _pull_all(seeded, token, limit=TEST_PAGE_MAX)[-1].seq
        result = manage.seed_demo_sync(seeded.database_url)
        page = c.get("/v1/sync/changes", params={"since": top}).json()
    assert result.changed == 0
    assert page["changes"] == []


def test_price_change_at_hq_reaches_the_feed_once(seeded: Hq, tmp_path) -> None:
    _, token = seeded.enroll()
    top = _pull_all(seeded, token, limit=TEST_PAGE_MAX)[-1].seq
    csv = tmp_path / "prices.csv"
    csv.write_text(
        "sku,barcode,name,price,tax_code,cdc_eligible\n"
        f"KOPI-001,{demo_data.DEMO_BARCODE},Kopi-O Powder 500g,3.50,SR,yes\n"
        "NEW-777,,Kopi Peng Can 240ml,1.20,SR,yes\n"
    )
    imported = manage.import_catalog_sync(seeded.database_url, csv)
    assert (len(imported.records), imported.new, imported.changed) == (2, 1, 1)
    with seeded.client(token) as c:
        page = p.ChangePage.model_validate_json(
            c.get("/v1/sync/changes", params={"since": top}).content
        )
    products = {ch.data.sku: ch.data for ch in page.changes if isinstance(ch, p.ProductChange)}
    assert products["KOPI-001"].price_cents == 350
    assert products["KOPI-001"].product_id == demo_data.product_uuid("KOPI-001")
    assert products["NEW-777"].price_cents == 120
    # Put the price back so other tests see the demo price.
    csv.write_text(
        f"sku,barcode,name,price_cents\nKOPI-001,{demo_data.DEMO_BARCODE},Kopi-O Powder 500g,330\n"
    )
    assert manage.import_catalog_sync(seeded.database_url, csv).changed == 1
    # A bad row imports nothing, and says which line.
    csv.write_text("sku,name,price\nKOPI-001,Kopi-O Powder 500g,9.99\nBAD-1,Bad,1.234\n")
    refused = manage.import_catalog_sync(seeded.database_url, csv)
    assert refused.error_count == 1 and refused.errors[0].line == 3
    with seeded.client(token) as c:
        after = p.ChangePage.model_validate_json(
            c.get("/v1/sync/changes", params={"since": top}).content
        )
    kopi = [ch.data for ch in after.changes if isinstance(ch, p.ProductChange)]
    assert [k.price_cents for k in kopi if k.sku == "KOPI-001"] == [330]
