"""Top categories against sums this test computes from its own sales, on HQ over SQLite
and PostgreSQL: a catalog with categories imported, sales (and a partial refund) pushed
through the real sync API by tills of two outlets, read back as JSON, page and CSV with
the date and outlet filters."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hq import manage
from sync.demo_data import product_uuid
from tests.hq.conftest import Hq
from tests.hq.test_reports_figures import PASSWORD, SG, line, pay, refund, sale


def item(no: int, sku: str, qty: int, price: int, discount: int = 0) -> dict[str, Any]:
    """A line naming its product as a till does (the catalog's product id)."""
    return line(no, sku, qty, price, "SR", discount) | {"product_id": str(product_uuid(sku))}


@pytest.fixture
def shop(hq: Hq, tmp_path: Path) -> dict[str, Any]:
    manage.seed_demo_sync(hq.database_url)
    tag = uuid.uuid4().hex[:6].upper()
    drinks, snacks = f"Drinks {tag}", f"Snacks {tag}"
    sku = {k: f"{k}-{tag}" for k in ("KOPI", "TEH", "CHIPS", "PLAIN")}
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(
        "sku,name,price,category\n"
        f"{sku['KOPI']},Kopi,1.50,{drinks}\n{sku['TEH']},Teh,1.80,{drinks.upper()}\n"
        f"{sku['CHIPS']},Chips,2.20,{snacks}\n{sku['PLAIN']},Plain,3.00,\n"
    )
    result = manage.import_catalog_sync(hq.database_url, catalog)
    assert result.ok and result.new_categories == [drinks, snacks]
    outlet_a, outlet_b = f"A{tag}", f"B{tag}"
    tid_a, token_a = hq.enroll(outlet=outlet_a)
    tid_b, token_b = hq.enroll(outlet=outlet_b)
    unknown = line(3, f"GONE-{tag}", 1, 700, "SR") | {"product_id": str(uuid.uuid4())}
    sales_a = [
        [item(1, sku["KOPI"], 2, 150), item(2, sku["CHIPS"], 1, 220, discount=20)],
        [item(1, sku["TEH"], 3, 180), item(2, sku["PLAIN"], 1, 300), unknown],
        [item(1, sku["KOPI"], 1, 150)],
    ]
    sales_b = [[item(1, sku["CHIPS"], 4, 220), item(2, sku["TEH"], 1, 180)]]
    expected: dict[str, dict[str, dict[str, int]]] = {}
    for tid, token, all_lines in ((tid_a, token_a, sales_a), (tid_b, token_b, sales_b)):
        events, sums = [], defaultdict(lambda: {"qty": 0, "net": 0, "receipts": 0})
        first_id = None
        for seq, lines in enumerate(all_lines, 1):
            total = sum(ln["total_cents"] for ln in lines)
            sale_id, event = sale(tid, seq, lines, [pay("nets", total)])
            first_id = first_id or sale_id
            events.append(event)
            seen = set()
            for ln in lines:
                group = {sku["KOPI"]: drinks, sku["TEH"]: drinks, sku["CHIPS"]: snacks}.get(
                    ln["sku"], "Uncategorised"
                )
                sums[group]["qty"] += ln["qty"]
                sums[group]["net"] += ln["total_cents"]
                seen.add(group)
            for group in seen:
                sums[group]["receipts"] += 1
        if tid == tid_a:  # one Kopi of the first sale comes back
            back = [item(1, sku["KOPI"], 1, 150)]
            events.append(refund(tid, len(events) + 1, first_id or "", back, [pay("nets", 150)]))
            sums[drinks]["qty"] -= 1
            sums[drinks]["net"] -= 150
            sums[drinks]["receipts"] += 1  # a refund is a receipt of its own
        with hq.client(token) as client:
            answer = client.post(
                "/v1/sync/push", json={"terminal_id": tid, "events": events}
            ).json()
        assert {x["status"] for x in answer["results"]} == {"accepted"}, answer
        expected[tid] = dict(sums)
    return {"tid_a": tid_a, "tid_b": tid_b, "outlet_a": outlet_a, "outlet_b": outlet_b,
            "expected": expected, "drinks": drinks, "snacks": snacks}  # fmt: skip


def _params(**extra: str) -> dict[str, str]:
    day = datetime.now(SG).date()
    return {
        "from": (day - timedelta(days=1)).isoformat(),
        "to": (day + timedelta(days=1)).isoformat(),
        **extra,
    }


def _accountant(hq: Hq) -> tuple[str, str]:
    name = f"acct-{uuid.uuid4().hex[:8]}"
    manage.create_admin_sync(hq.database_url, username=name, password=PASSWORD, role="accountant")
    return name, PASSWORD


def _rows(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {
        r["category"]: {"qty": r["qty"], "net": r["net_sales_cents"], "receipts": r["sales"]}
        for r in report["rows"]
    }


def test_top_categories_equal_the_tests_own_sums(hq: Hq, shop: dict[str, Any]) -> None:
    auth = _accountant(hq)
    with httpx.Client(base_url=hq.base_url, timeout=30, auth=auth) as c:
        by_outlet = {}
        for outlet, tid in (("outlet_a", "tid_a"), ("outlet_b", "tid_b")):
            r = c.get("/v1/reports/top-categories", params=_params(outlet=shop[outlet]))
            assert r.status_code == 200, r.text
            by_outlet[tid] = r.json()
        a = by_outlet["tid_a"]
        assert _rows(a) == shop["expected"][shop["tid_a"]]
        assert _rows(by_outlet["tid_b"]) == shop["expected"][shop["tid_b"]]
        nets = [r["net_sales_cents"] for r in a["rows"]]
        assert nets == sorted(nets, reverse=True)
        assert next(r for r in a["rows"] if r["category"] == "Uncategorised")["category_id"] is None
        # A day with no sales has no rows.
        past = {"from": "2020-01-01", "to": "2020-01-02", "outlet": shop["outlet_a"]}
        assert c.get("/v1/reports/top-categories", params=past).json()["rows"] == []
        # Both outlets' terminals together: the sums add up.
        both = defaultdict(lambda: {"qty": 0, "net": 0, "receipts": 0})
        for tid in ("tid_a", "tid_b"):
            for group, s in shop["expected"][shop[tid]].items():
                for k, v in s.items():
                    both[group][k] += v
        for group in (shop["drinks"], shop["snacks"]):
            total = {"qty": 0, "net": 0, "receipts": 0}
            for outlet in ("outlet_a", "outlet_b"):
                got = _rows(
                    c.get("/v1/reports/top-categories", params=_params(outlet=shop[outlet])).json()
                )[group]
                total = {k: total[k] + got[k] for k in total}
            assert total == both[group]


def test_top_categories_page_and_csv_show_the_same_figures(hq: Hq, shop: dict[str, Any]) -> None:
    auth = _accountant(hq)
    expected = shop["expected"][shop["tid_a"]]
    with httpx.Client(base_url=hq.base_url, timeout=30) as c:
        form = c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        r = c.post(
            "/login", data={"username": auth[0], "password": auth[1], "csrf_token": token[1]}
        )
        assert r.status_code == 303
        page = c.get("/reports/top-categories", params=_params(terminal=shop["tid_a"]))
        assert page.status_code == 200
        drinks = expected[shop["drinks"]]
        assert re.search(
            rf'<th scope="row">{shop["drinks"]}</th><td>{drinks["qty"]}</td>'
            rf"<td>{drinks['net'] // 100}\.{drinks['net'] % 100:02d}</td>",
            page.text,
        ), page.text
        assert "Uncategorised" in page.text and 'href="/reports/top-products' in page.text
        got = c.get("/reports/top-categories.csv", params=_params(terminal=shop["tid_a"]))
        assert got.status_code == 200
        rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0] == ["rank", "category", "qty", "net_sales", "receipts"]
    table = {r[1]: (int(r[2]), r[3], int(r[4])) for r in rows[1:]}
    assert table == {
        group: (s["qty"], f"{s['net'] // 100}.{s['net'] % 100:02d}", s["receipts"])
        for group, s in expected.items()
    }


def test_an_outlet_manager_sees_only_their_outlets_categories(hq: Hq, shop: dict[str, Any]) -> None:
    name = f"mgr-{uuid.uuid4().hex[:8]}"
    manage.create_admin_sync(
        hq.database_url, username=name, password=PASSWORD, role="manager",
        outlets=[shop["outlet_b"]],
    )  # fmt: skip
    with httpx.Client(base_url=hq.base_url, timeout=30, auth=(name, PASSWORD)) as c:
        mine = c.get("/v1/reports/top-categories", params=_params())
        assert mine.status_code == 200, mine.text
        theirs = c.get("/v1/reports/top-categories", params=_params(outlet=shop["outlet_a"]))
        assert c.get("/v1/reports/top-categories").status_code == 200
    # Only outlet B's sales (other tests' shops are other outlets, so B's are these).
    assert _rows(mine.json()) == shop["expected"][shop["tid_b"]]
    assert theirs.status_code == 200 and theirs.json()["rows"] == []  # not their outlet
