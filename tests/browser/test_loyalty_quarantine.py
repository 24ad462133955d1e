"""The loyalty report and the quarantine's retry and dismiss in a real browser, against a
real ``kedai-hq serve`` a real till (``kedai-till simulate --customers``) synced to.

The loyalty figures expected are the test's own: the demo opening balances plus every
loyalty delta in the sales the till sent.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sync.demo_data import demo_customers, demo_opening_loyalty
from tests.browser.conftest import ARTIFACTS, OWNER, Shop
from tests.browser.test_back_office import download_csv, log_in, page  # noqa: F401

POINT_VALUE_CENTS = 1  # the demo store settings' redeem rate


def own_balances(shop: Shop) -> dict[str, int]:
    balances: dict[str, int] = defaultdict(int)
    for c in demo_customers():
        balances[str(c.customer_id)] += 0
    for d in demo_opening_loyalty():
        balances[str(d.customer_id)] += d.points
    for s in shop.sales:
        for d in s["loyalty"]:
            balances[d["customer_id"]] += d["points"]
    return dict(balances)


def test_owner_reads_loyalty_and_retries_then_dismisses_a_quarantined_event(
    page: Any,  # noqa: F811
    shop: Shop,
) -> None:
    balances = own_balances(shop)
    assert any(s["loyalty"] for s in shop.sales)  # the till did earn or redeem points
    outstanding = sum(b for b in balances.values() if b > 0)
    log_in(page, shop.url, OWNER)
    page.wait_for_url(f"{shop.url}/")

    page.click("nav >> text=Loyalty")
    page.wait_for_url("**/reports/loyalty")
    value = page.locator("#liability-value").get_attribute("data-cents")
    assert value == str(outstanding * POINT_VALUE_CENTS)
    page.screenshot(path=str(ARTIFACTS / "loyalty-laptop.png"), full_page=True)
    rows = download_csv(page)
    assert rows[0][:4] == ["customer_id", "name", "phone", "balance_points"]
    csv_balances = {r[0]: int(r[3]) for r in rows[1:]}
    assert {k: v for k, v in csv_balances.items() if v} == {k: v for k, v in balances.items() if v}

    richest = max(balances, key=lambda k: (balances[k], k))
    name = next(r[1] for r in rows[1:] if r[0] == richest)
    page.fill("#q", name)
    page.click("text=Find")
    page.wait_for_url("**q=**")
    page.click(f"a[href='/reports/loyalty/{richest}']")
    page.wait_for_url(f"**/reports/loyalty/{richest}")
    points = page.locator("#report tbody tr td:nth-child(3)").all_inner_texts()
    assert sum(int(p.replace(",", "")) for p in points) == balances[richest]

    page.click("nav >> text=Quarantine")
    page.wait_for_url("**/reports/quarantine")
    item = page.locator("article.qitem", has_text=f"#{shop.quarantined_seq}")
    item.locator("button", has_text="Retry").click()
    page.wait_for_url("**outcome=rejected**")
    assert "refused again" in page.locator("#retry-outcome").inner_text()
    item = page.locator("article.qitem", has_text=f"#{shop.quarantined_seq}")
    item.locator("input[name=note]").fill("poisoned on purpose: nothing to repair")
    item.locator("button", has_text="Dismiss").click()
    page.wait_for_url("**/reports/quarantine**")
    assert "dismissed by boss" in item.inner_text()
    assert item.locator("button", has_text="Retry").count() == 0

    page.click("nav >> text=Audit")
    audit = page.locator("#audit").inner_text()
    assert "quarantine.retry.rejected" in audit and "quarantine.dismiss" in audit
