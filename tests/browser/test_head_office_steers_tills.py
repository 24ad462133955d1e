"""Head office steers real tills from the browser: a price scheduled on the product page
applies at its moment on a till that is offline by then, and a cashier added at outlet A
logs in at an A till and not at a B till.

Real headless Chromium against a real ``kedai-hq serve``; two real tills enrolled and
synced with ``kedai-till enroll`` / ``kedai-till sync``; then HQ is stopped and the tills
sell and log in from their own SQLite files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest

from sync import demo_data
from terminal.db.engine import open_database
from terminal.services.cashiers import login
from terminal.services.checkout import finalize_sale
from terminal.services.errors import LoginError
from terminal.services.schemas import CartItemIn, CheckoutRequest, TenderIn
from tests.browser.conftest import ARTIFACTS, CHROMIUM, OWNER, PASSWORD
from tests.sync.hq_site import HQ_CLI, Site, run, till_sync

SG = ZoneInfo("Asia/Singapore")
KOPI = next(p for p in demo_data.demo_products() if p.sku == "KOPI-001")  # S$3.30
NEW_PIN = "482613"
T = TypeVar("T")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    hq = Site(tmp_path)
    hq.start()
    try:
        hq.seed_demo()
        run([*HQ_CLI, "create-admin", "--username", OWNER, "--password", PASSWORD,
             "--database-url", hq.database_url])  # fmt: skip
        yield hq
    finally:
        hq.stop()


@pytest.fixture
def page(site: Site) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            tab = chromium.new_page(viewport={"width": 1366, "height": 900})
            tab.goto(f"{site.url}/login")
            tab.fill("input[name=username]", OWNER)
            tab.fill("input[name=password]", PASSWORD)
            tab.click("button[type=submit]")
            tab.wait_for_url(f"{site.url}/")
            yield tab
        finally:
            chromium.close()


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run till code on its own event loop (Playwright's sync API holds this thread's)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


async def _sell(db_path: Path, cashier: Any, at: datetime) -> int:
    db = open_database(db_path)
    try:
        receipt = await finalize_sale(
            db,
            CheckoutRequest(
                cashier_id=cashier,
                items=[CartItemIn(product_id=KOPI.product_id, qty=1)],
                tenders=[TenderIn(kind="cash", amount_cents=1000)],
            ),
            now=at,
        )
        return receipt.lines[0].unit_price_cents
    finally:
        await db.dispose()


async def _login(db_path: Path, pin: str) -> Any:
    db = open_database(db_path)
    try:
        return await login(db, pin)
    finally:
        await db.dispose()


def test_a_price_and_a_cashier_set_in_the_browser_reach_the_right_tills(
    page: Any, site: Site
) -> None:
    a_till, _ = site.enroll_till("till-a", outlet="DEMO")
    b_till, _ = site.enroll_till("till-b", outlet="EAST")

    # A new cashier at outlet DEMO (A), on the Staff page.
    page.goto(f"{site.url}/staff")
    form = page.locator("#add-staff")
    form.locator("#name").fill("Nadia Rahman")
    form.locator("#role").select_option("manager")
    form.locator("#outlet").select_option("DEMO")
    form.locator("#pin").fill(NEW_PIN)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("text=Nadia Rahman").count() >= 1

    # Kopi-O to S$3.80 from a moment two hours ahead, chain-wide, on the product page.
    moment = (datetime.now(SG) + timedelta(hours=2)).replace(second=0, microsecond=0)
    page.goto(f"{site.url}/products/{KOPI.product_id}")
    schedule = page.locator("#schedule-price")
    schedule.locator("#price").fill("3.80")
    schedule.locator("#effective_from").fill(moment.strftime("%Y-%m-%dT%H:%M"))
    schedule.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "3.80" in page.locator("#prices").inner_text()
    page.screenshot(path=str(ARTIFACTS / "price-scheduled.png"), full_page=True)

    for till in (a_till, b_till):
        synced = till_sync(till)
        assert synced.returncode == 0, synced.stderr
    site.stop()  # from here on the tills are on their own

    nadia = _run(_login(a_till, NEW_PIN))
    assert nadia.name == "Nadia Rahman"
    with pytest.raises(LoginError):
        _run(_login(b_till, NEW_PIN))  # outlet EAST never received her

    before = moment - timedelta(minutes=1)
    after = moment + timedelta(minutes=1)
    assert _run(_sell(a_till, nadia.id, before)) == 330
    assert _run(_sell(a_till, nadia.id, after)) == 380


def test_revoking_a_till_asks_first_and_then_the_till_is_refused(page: Any, site: Site) -> None:
    """Revoke on the Outlets page is a question first (Cancel leaves the till as it was);
    the second press revokes, and the real till's next sync is refused."""
    till, terminal_id = site.enroll_till("till-a", outlet="DEMO")
    assert till_sync(till).returncode == 0
    row = f'tr[data-terminal="{terminal_id}"]'

    page.goto(f"{site.url}/outlets")
    page.locator(row).get_by_role("button", name="Revoke").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name=f"Revoke terminal {terminal_id}?").is_visible()
    page.screenshot(path=str(ARTIFACTS / "revoke-asks.png"), full_page=True)
    page.get_by_role("link", name="Cancel: go back without changing anything").click()
    page.wait_for_load_state()
    assert page.locator(row).locator("td").nth(4).inner_text() == "active"
    assert till_sync(till).returncode == 0

    page.locator(row).get_by_role("button", name="Revoke").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Revoke terminal").click()
    page.wait_for_load_state()
    assert "Revoked" in page.get_by_role("status").inner_text()
    assert page.locator(row).locator("td").nth(4).inner_text() == "revoked"
    refused = till_sync(till)
    assert refused.returncode != 0
