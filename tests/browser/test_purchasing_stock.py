"""Purchasing and stock in a real browser, against a real ``kedai-hq serve``: add a
supplier, raise a purchase order, receive it in two deliveries, and watch the stock move
on the stock page and the dashboard's low-stock panel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import ARTIFACTS, CHROMIUM, OWNER, PASSWORD, _missing
from tests.browser.test_back_office import LAPTOP, log_in
from tests.sync.hq_site import HQ_CLI, Site, run


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A head office with the demo catalog and an owner; no till needed here."""
    if _missing() is not None:
        pytest.skip(_missing() or "")
    site = Site(tmp_path_factory.mktemp("browser-stock"))
    site.start()
    try:
        site.seed_demo()
        run([*HQ_CLI, "create-admin", "--username", OWNER, "--password", PASSWORD,
             "--role", "owner", "--database-url", site.database_url])  # fmt: skip
        yield site
    finally:
        site.stop()


@pytest.fixture
def page(store: Site) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = chromium.new_context(viewport=LAPTOP)
            yield context.new_page()
        finally:
            chromium.close()


def on_hand(page: Any, outlet: str, sku: str) -> str:
    cell = page.locator(f'#stock tr[data-outlet="{outlet}"][data-sku="{sku}"] td[data-on-hand]')
    return str(cell.inner_text())


def test_a_purchase_order_received_in_two_deliveries_moves_the_stock(
    page: Any, store: Site
) -> None:
    url = store.url
    log_in(page, url, OWNER)
    page.click("nav >> text=Purchasing")
    page.click("text=Suppliers")
    page.fill("#sname", "Kopi Supplies Pte Ltd")
    page.fill("#sgst", "201912345K")
    page.click("#save-supplier button[type=submit]")
    assert page.locator(".ok").inner_text() == "Supplier saved."
    assert "Kopi Supplies Pte Ltd" in page.locator("#suppliers").inner_text()

    page.goto(f"{url}/purchasing/orders")
    page.select_option("#po_supplier", label="Kopi Supplies Pte Ltd")
    page.select_option("#po_outlet", "DEMO")
    page.locator("#new-po input[name=sku]").nth(0).fill("KOPI-001")
    page.locator("#new-po input[name=qty]").nth(0).fill("12")
    page.locator("#new-po input[name=cost]").nth(0).fill("1.10")
    page.locator("#new-po select[name=tax_code]").nth(0).select_option("SR")
    page.click("#new-po button[type=submit]")
    assert page.locator("#po-status").inner_text() == "draft"
    page.click("text=Mark as ordered")
    assert page.locator("#po-status").inner_text() == "ordered"

    page.fill('input[name="recv.1"]', "5")
    page.fill("#ref", "DO-0001")
    page.click("#receive button[type=submit]")
    assert page.locator(".ok").inner_text().startswith("Goods received")
    assert page.locator("#po-status").inner_text() == "partly received"
    assert page.locator('#po-lines tr[data-line="1"] td[data-received]').inner_text() == "5"
    assert page.input_value('input[name="recv.1"]') == "7"  # what still awaits
    page.screenshot(path=str(ARTIFACTS / "purchase-order.png"), full_page=True)

    page.click("nav >> text=Stock")
    assert on_hand(page, "DEMO", "KOPI-001") == "5"
    page.fill("#th_sku", "KOPI-001")
    page.fill("#min_qty", "20")
    page.select_option("#th_outlet", "DEMO")
    page.click("#threshold button[type=submit]")
    assert page.locator(".ok").inner_text() == "Threshold saved."
    page.screenshot(path=str(ARTIFACTS / "stock.png"), full_page=True)

    page.goto(f"{url}/purchasing/orders")
    page.click("#orders >> text=PO 1")
    page.click("#receive button[type=submit]")  # the remaining 7, as prefilled
    assert page.locator("#po-status").inner_text() == "received"

    page.click("nav >> text=Stock")
    assert on_hand(page, "DEMO", "KOPI-001") == "12"
    page.click("nav >> text=Dashboard")
    low = page.locator('#low-stock tr[data-outlet="DEMO"][data-sku="KOPI-001"]')
    assert low.locator("td[data-on-hand]").inner_text() == "12"
    page.screenshot(path=str(ARTIFACTS / "dashboard-low-stock.png"), full_page=True)

    page.goto(f"{url}/reports/stock-valuation?outlet=DEMO")
    assert page.locator('[data-kpi="total"]').inner_text() == "S$13.20"  # 12 x 1.10
