"""Head office in a real browser: log in, the dashboard shows what a real till synced,
every report opens, CSVs add up to the test's own sums, CSRF and roles hold, log out.

Screenshots of the dashboard and GST F5 at laptop and tablet widths are saved under
``tests/browser/artifacts/`` for people to look at.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ACCOUNTANT, ARTIFACTS, OWNER, PASSWORD, Shop

LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 820, "height": 1180}
GST_PERCENT = 9  # Singapore's rate since 2024-01-01, as the test knows it


def dollars(cents: int) -> str:
    return f"S${cents // 100:,}.{cents % 100:02d}"


def plain(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def gst_in(total: int) -> int:
    tax = Decimal(total) * GST_PERCENT / (100 + GST_PERCENT)
    return int(tax.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def own_sums(sales: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything the reports should say, from the events the till sent."""
    by_code: dict[str, int] = defaultdict(int)
    tenders: dict[str, int] = defaultdict(int)
    tax = 0
    for s in sales:
        sr = 0
        for ln in s["lines"]:
            by_code[ln["tax_code"]] += ln["total_cents"]
            sr += ln["total_cents"] if ln["tax_code"] == "SR" else 0
        tax += gst_in(sr)
        for p in s["payments"]:
            tenders[p["tender"]] += p["amount_cents"]
    return {
        "net": sum(s["total_cents"] for s in sales),
        "count": len(sales),
        "tenders": dict(tenders),
        "sr": by_code["SR"],
        "zr": by_code["ZR"],
        "es": by_code["ES"],
        "tax": tax,
    }


def log_in(page: Any, url: str, user: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")


def download_csv(page: Any) -> list[list[str]]:
    with page.expect_download() as info:
        page.click("#csv")
    path = Path(info.value.path())
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def shoot(page: Any, name: str) -> None:
    for label, size in (("laptop", LAPTOP), ("tablet", TABLET)):
        page.set_viewport_size(size)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(LAPTOP)


@pytest.fixture
def page(browser: Any) -> Any:
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    try:
        yield context.new_page()
    finally:
        context.close()


CSP_WATCH = """
window.cspRefused = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.cspRefused.push(`${e.violatedDirective} ${e.blockedURI}`));
"""
"""Collects what the page's Content-Security-Policy refused (run before the page's own)."""


def test_owner_sees_the_synced_sales_and_every_report_adds_up(page: Any, shop: Shop) -> None:
    want = own_sums(shop.sales)
    page.add_init_script(CSP_WATCH)
    log_in(page, shop.url, OWNER, "not-the-password")
    assert page.locator(".alert").inner_text() == "Wrong username or password."
    shoot(page, "login-refused")
    assert page.url.startswith(f"{shop.url}/login")

    log_in(page, shop.url, OWNER)
    page.wait_for_url(f"{shop.url}/")
    today = page.locator("section.period").first
    assert today.locator("[data-kpi=net]").inner_text() == dollars(want["net"])
    assert today.locator("[data-kpi=transactions]").inner_text() == str(want["count"])
    till = page.locator("#tills tbody tr", has_text=shop.terminal_id)
    cells = till.locator("td").all_inner_texts()
    assert cells[1] == str(shop.quarantined_seq)  # HQ holds every seq, the bad one too
    assert cells[3] == "1" and "1 in quarantine" in cells[6]
    assert cells[4] == "0"  # the till said nothing waits after its last push
    assert cells[5] and cells[5][0].isdigit()  # and which Kedai it runs
    assert page.locator("figure.chart svg").count() == 2
    assert "ctrl+" not in page.content() and "http://kozea" not in page.content()
    assert page.evaluate("window.cspRefused") == []  # nothing the page has is blocked
    shoot(page, "dashboard")

    page.click("nav >> text=Sales")
    page.wait_for_url("**/reports/sales")
    page.select_option("#group_by", "terminal")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**group_by=terminal**")
    rows = download_csv(page)
    assert rows[0][:2] == ["terminal", "transactions"]
    assert rows[1][:2] == [shop.terminal_id, str(want["count"])]
    assert rows[-1][0] == "total" and rows[-1][5] == plain(want["net"])
    assert page.locator("#z-nodata").is_visible()

    page.click("nav >> text=Tenders")
    page.wait_for_url("**/reports/tenders")
    rows = download_csv(page)
    got = {r[0]: r[5] for r in rows[1:-1]}
    assert got == {k: plain(v) for k, v in want["tenders"].items()}
    assert rows[-1][5] == plain(sum(want["tenders"].values()))

    page.click("nav >> text=Products")
    page.wait_for_url("**/reports/top-products")
    rows = download_csv(page)
    assert len(rows) > 1 and rows[1][0] == "1"

    page.click("nav >> text=GST F5")
    page.wait_for_url("**/reports/gst-f5")
    box = {r[0]: r[2] for r in download_csv(page)[1:]}
    assert box["1"] == plain(want["sr"] - want["tax"])
    assert box["2"] == plain(want["zr"]) and box["3"] == plain(want["es"])
    assert box["4"] == plain(want["sr"] - want["tax"] + want["zr"] + want["es"])
    assert box["5"] == box["7"] == "0.00"
    assert box["6"] == box["8"] == plain(want["tax"])
    assert page.locator("#box6 td[data-cents]").get_attribute("data-cents") == str(want["tax"])
    assert "Boxes 5 and 7" in page.locator("p.note").inner_text()
    shoot(page, "gst-f5")

    page.click("nav >> text=Refunds")
    page.wait_for_url("**/reports/refunds")
    assert "No refunds in this period." in page.locator("#report").inner_text()
    assert download_csv(page)[0][:2] == ["credit_note", "at"]

    page.click("nav >> text=Reconciliation")
    page.wait_for_url("**/reports/reconciliation")
    assert "without a gap" in page.locator("section.card").first.inner_text()
    assert page.locator("#z-nodata").is_visible()
    assert download_csv(page)[0][:2] == ["shift", "terminal"]

    page.click("nav >> text=Quarantine")
    page.wait_for_url("**/reports/quarantine")
    shoot(page, "quarantine")
    item = page.locator("article.qitem", has_text=f"#{shop.quarantined_seq}")
    assert "lots" in item.locator("pre").text_content()
    rows = download_csv(page)
    assert len(rows) == 2 and rows[1][2] == str(shop.quarantined_seq)
    item.locator("input[name=note]").fill("test sale, nothing to repair")
    item.locator("button", has_text="Dismiss").click()
    page.wait_for_url("**/reports/quarantine")
    assert "dismissed by boss" in page.locator("article.qitem").first.inner_text()

    page.click("nav >> text=Audit")
    audit = page.locator("#audit").inner_text()
    assert "quarantine.dismiss" in audit and "report.export" in audit
    assert "login.failed" in audit

    page.click("text=Log out")
    page.wait_for_url(f"{shop.url}/login")
    page.goto(f"{shop.url}/")
    assert page.url.startswith(f"{shop.url}/login")


def post_from_page(page: Any, path: str, body: str, headers: dict[str, str]) -> int:
    """A same-origin ``fetch`` from the logged-in page: the browser sends the cookie."""
    return int(
        page.evaluate(
            """async ([path, body, headers]) => {
                const r = await fetch(path, {method: "POST", body, headers});
                return r.status;
            }""",
            [path, body, headers],
        )
    )


def test_a_request_without_the_csrf_token_is_refused(page: Any, shop: Shop) -> None:
    log_in(page, shop.url, OWNER)
    page.wait_for_url(f"{shop.url}/")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert post_from_page(page, "/logout", "", form) == 403
    assert post_from_page(page, "/logout", "csrf_token=guessed", form) == 403
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    event = page.evaluate("fetch('/v1/reports/quarantine').then(r => r.json())")["rows"][0]
    url = f"/v1/reports/quarantine/{event['event_id']}/dismiss"
    as_json = {"Content-Type": "application/json"}
    assert post_from_page(page, url, json.dumps({"note": "x"}), as_json) == 403
    assert post_from_page(page, url, "{}", {**as_json, "X-CSRF-Token": token}) == 422  # no reason
    reason = json.dumps({"note": "test sale"})
    assert post_from_page(page, url, reason, {**as_json, "X-CSRF-Token": token}) == 200
    page.goto(f"{shop.url}/")
    assert page.url == f"{shop.url}/"  # the refused log-outs did not log out


def test_an_accountant_can_read_but_not_change_anything(page: Any, shop: Shop) -> None:
    log_in(page, shop.url, ACCOUNTANT)
    page.wait_for_url(f"{shop.url}/")
    assert "accountant" in page.locator(".who").inner_text()
    assert page.locator("nav >> text=Audit").count() == 0
    page.goto(f"{shop.url}/reports/quarantine")
    assert page.locator("button", has_text="Dismiss").count() == 0
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    event = page.evaluate("fetch('/v1/reports/quarantine').then(r => r.json())")["rows"][0]
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    path = f"/reports/quarantine/{event['event_id']}/dismiss"
    assert post_from_page(page, path, f"csrf_token={token}&note=x", form) == 403
    api = f"/v1/reports/quarantine/{event['event_id']}/dismiss"
    headers = {"Content-Type": "application/json", "X-CSRF-Token": token}
    assert post_from_page(page, api, '{"note": "x"}', headers) == 403
    assert page.goto(f"{shop.url}/audit").status == 403
    page.goto(f"{shop.url}/reports/gst-f5")
    assert page.locator("#box6").is_visible()
