"""Report figures against sums this test computes itself, on HQ over SQLite and PostgreSQL.

The sales are built here with known lines, tax codes and tenders (and a partial refund),
pushed through the real sync API, then read back from ``/v1/reports/...``. The expected
GST is computed with ``Decimal`` half-up at invoice level, independently of HQ's code.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from hq import manage
from tests.events import envelope, push_body
from tests.hq.conftest import Hq

SG = ZoneInfo("Asia/Singapore")
REPORTS = ("sales", "tenders", "top-products", "top-categories", "gst-f5", "refunds",
           "reconciliation", "quarantine", "dashboard")  # fmt: skip
PASSWORD = "figures-pass-1"


def gst_in(total_cents: int, rate_pct: int = 9) -> int:
    tax = Decimal(total_cents) * rate_pct / (100 + rate_pct)
    return int(tax.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def line(no: int, sku: str, qty: int, price: int, code: str, discount: int = 0) -> dict[str, Any]:
    return {
        "line_no": no, "product_id": None, "sku": sku, "name": f"Product {sku}", "qty": qty,
        "unit_price_cents": price, "discount_cents": discount,
        "total_cents": qty * price - discount, "tax_code": code,
    }  # fmt: skip


def pay(tender: str, amount: int, tendered: int | None = None) -> dict[str, Any]:
    return {
        "payment_id": str(uuid.uuid4()), "tender": tender, "amount_cents": amount,
        "tendered_cents": amount if tendered is None else tendered,
    }  # fmt: skip


def sale(tid: str, seq: int, lines: list[dict[str, Any]], payments: list[dict[str, Any]],
         rounding: int = 0, change: int = 0) -> tuple[str, dict[str, Any]]:  # fmt: skip
    total = sum(ln["total_cents"] for ln in lines)
    sr = sum(ln["total_cents"] for ln in lines if ln["tax_code"] == "SR")
    sale_id = str(uuid.uuid4())
    payload = {
        "sale_id": sale_id, "receipt_no": f"{tid}-{seq:06d}", "cashier_id": str(uuid.uuid4()),
        "customer_id": None, "lines": lines, "payments": payments, "loyalty": [],
        "subtotal_cents": sum(ln["qty"] * ln["unit_price_cents"] for ln in lines),
        "discount_cents": sum(ln["discount_cents"] for ln in lines), "total_cents": total,
        "tax_cents": gst_in(sr), "gst_rate_bp": 900, "rounding_cents": rounding,
        "change_cents": change,
    }  # fmt: skip
    return sale_id, envelope(tid, seq, "sale.completed", payload)


def refund(tid: str, seq: int, original: str, lines: list[dict[str, Any]],
           payments: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    total = sum(ln["total_cents"] for ln in lines)
    sr = sum(ln["total_cents"] for ln in lines if ln["tax_code"] == "SR")
    payload = {
        "refund_id": str(uuid.uuid4()), "original_sale_id": original,
        "receipt_no": f"{tid}-R{seq:05d}", "cashier_id": str(uuid.uuid4()),
        "approved_by": None, "lines": lines, "payments": payments, "loyalty": [],
        "total_cents": total, "tax_cents": gst_in(sr), "reason": "customer changed mind",
    }  # fmt: skip
    return envelope(tid, seq, "sale.refunded", payload)


@pytest.fixture
def pushed(hq: Hq) -> dict[str, Any]:
    """Three sales and a partial refund on a fresh terminal; what the test expects."""
    manage.seed_demo_sync(hq.database_url)  # HQ's settings: the GST rate schedule
    tid, token = hq.enroll()
    a_lines = [line(1, "A-SR", 2, 1000, "SR", discount=100), line(2, "A-ZR", 1, 553, "ZR"),
               line(3, "A-ES", 1, 1200, "ES")]  # fmt: skip
    a_total = 1900 + 553 + 1200  # 3653, cash rounds to 3655
    a_id, a = sale(tid, 1, a_lines, [pay("cash", 3655, 4000)], rounding=2, change=345)
    _, b = sale(tid, 2, [line(1, "B-SR", 3, 333, "SR")], [pay("nets", 500), pay("card", 499)])
    c_lines = [line(1, "C-SR", 1, 4999, "SR"), line(2, "C-ES", 1, 100, "ES")]
    _, c = sale(tid, 3, c_lines, [pay("paynow", 5099)])
    r_lines = [line(1, "A-SR", 1, 1000, "SR", discount=50)]
    r = refund(tid, 4, a_id, r_lines, [pay("cash", 950)])
    with hq.client(token) as client:
        answer = client.post("/v1/sync/push", json=push_body(tid, [a, b, c, r])).json()
    assert [x["status"] for x in answer["results"]] == ["accepted"] * 4, answer
    sr = 1900 + 999 + 4999 - 950
    tax = gst_in(1900) + gst_in(999) + gst_in(4999) - gst_in(950)
    return {
        "terminal": tid,
        "sr": sr,
        "zr": 553,
        "es": 1200 + 100,
        "tax": tax,
        "gross": a_total + 999 + 5099,
        "refunded": 950,
        "tenders": {"cash": 3655 - 950, "nets": 500, "card": 499, "paynow": 5099},
    }


@pytest.fixture
def accountant(hq: Hq) -> tuple[str, str]:
    name = f"acct-{uuid.uuid4().hex[:8]}"
    manage.create_admin_sync(hq.database_url, username=name, password=PASSWORD, role="accountant")
    return name, PASSWORD


def _get(hq: Hq, auth: tuple[str, str], path: str, terminal: str, **extra: str) -> Any:
    day = datetime.now(SG).date()
    params = {
        "from": (day - timedelta(days=1)).isoformat(),
        "to": (day + timedelta(days=1)).isoformat(),
        "terminal": terminal,
        **extra,
    }
    with httpx.Client(base_url=hq.base_url, timeout=30) as c:
        r = c.get(path, params=params, auth=auth)
    assert r.status_code == 200, r.text
    return r.json()


def test_gst_f5_boxes_equal_the_tests_own_sums(
    hq: Hq, pushed: dict[str, Any], accountant: tuple[str, str]
) -> None:
    f5 = _get(hq, accountant, "/v1/reports/gst-f5", pushed["terminal"])
    assert f5["box6_output_tax_cents"] == pushed["tax"]
    assert f5["box1_standard_rated_cents"] == pushed["sr"] - pushed["tax"]
    assert f5["box2_zero_rated_cents"] == pushed["zr"]
    assert f5["box3_exempt_cents"] == pushed["es"]
    assert f5["box4_total_supplies_cents"] == pushed["sr"] - pushed["tax"] + 553 + 1300
    assert f5["box5_taxable_purchases_cents"] == f5["box7_input_tax_cents"] == 0
    assert "purchas" in f5["note"]
    assert f5["box8_net_gst_cents"] == pushed["tax"]
    assert f5["rates_in_period"] == [900]
    assert f5["recomputed_output_tax_cents"] == pushed["tax"]
    assert f5["mismatches"] == [] and f5["sales_checked"] == 3


def test_tenders_and_sales_equal_the_tests_own_sums(
    hq: Hq, pushed: dict[str, Any], accountant: tuple[str, str]
) -> None:
    tenders = _get(hq, accountant, "/v1/reports/tenders", pushed["terminal"])
    assert {r["tender"]: r["net_cents"] for r in tenders["rows"]} == pushed["tenders"]
    assert tenders["total"]["net_cents"] == sum(pushed["tenders"].values())
    cash = next(r for r in tenders["rows"] if r["tender"] == "cash")
    assert (cash["sales_cents"], cash["refunds_cents"], cash["payments"]) == (3655, 950, 1)

    by_terminal = _get(hq, accountant, "/v1/reports/sales", pushed["terminal"], group_by="terminal")
    [row] = by_terminal["rows"]
    assert row["key"] == pushed["terminal"]
    assert row["transactions"] == 3 and row["refunds"] == 1
    assert row["gross_sales_cents"] == pushed["gross"]
    assert row["refunds_cents"] == pushed["refunded"]
    assert row["net_sales_cents"] == pushed["gross"] - pushed["refunded"]
    assert row["tax_cents"] == pushed["tax"]
    assert row["average_basket_cents"] == round(pushed["gross"] / 3)
    assert by_terminal["total"] == {**row, "key": "total"}

    products = _get(hq, accountant, "/v1/reports/top-products", pushed["terminal"])
    top = {r["sku"]: (r["qty"], r["net_sales_cents"]) for r in products["rows"]}
    assert top["A-SR"] == (1, 1900 - 950)
    assert top["C-SR"] == (1, 4999)
    assert products["rows"][0]["sku"] == "C-SR"


def test_reports_answer_only_to_an_admin(hq: Hq, pushed: dict[str, Any]) -> None:
    _, token = hq.enroll()
    with httpx.Client(base_url=hq.base_url, timeout=30) as c:
        for path in REPORTS:
            assert c.get(f"/v1/reports/{path}").status_code == 401
            bearer = {"Authorization": f"Bearer {token}"}
            assert c.get(f"/v1/reports/{path}", headers=bearer).status_code == 401
        schema = c.get("/openapi.json").json()
    for path in REPORTS:
        assert f"/v1/reports/{path}" in schema["paths"]
    assert "/" not in schema["paths"] and "/login" not in schema["paths"]


def test_a_manager_sees_only_their_outlets(hq: Hq, pushed: dict[str, Any]) -> None:
    other, _ = hq.enroll(outlet="OTH")
    name = f"mgr-{uuid.uuid4().hex[:8]}"
    manage.create_admin_sync(
        hq.database_url, username=name, password=PASSWORD, role="manager",
        outlets=[other.split("-")[0]],
    )  # fmt: skip
    mine = _get(hq, (name, PASSWORD), "/v1/reports/sales", pushed["terminal"])
    assert mine["rows"] == [] and mine["total"]["transactions"] == 0
    dash = _get(hq, (name, PASSWORD), "/v1/reports/dashboard", pushed["terminal"])
    assert {t["terminal_id"].split("-")[0] for t in dash["tills"]} == {"OTH"}


def test_gst_check_uses_the_rate_in_force_on_each_local_date(hq: Hq) -> None:
    """Two sales either side of the 2024 rate change (8% -> 9%), 1 hour apart in
    Singapore, both charged 9%: only the 2023 one is flagged. Rows are written straight
    into the store, as no validating till would send the wrong one, and the report rollups
    rebuilt from them (the F5 reads the flagged hour's sales from the facts)."""
    from sqlalchemy import create_engine, insert
    from sqlalchemy.engine import make_url

    from hq import models as m
    from hq import rollups

    manage.seed_demo_sync(hq.database_url)
    tid, _ = hq.enroll()
    url = make_url(hq.database_url)
    driver = "postgresql+psycopg" if url.get_backend_name() == "postgresql" else "sqlite"
    engine = create_engine(url.set(drivername=driver))
    late_2023 = datetime(2023, 12, 31, 23, 30, tzinfo=SG)
    early_2024 = datetime(2024, 1, 1, 0, 30, tzinfo=SG)
    try:
        with engine.begin() as conn:
            for n, at in enumerate((late_2023, early_2024), 1):
                sale_id = uuid.uuid4()
                conn.execute(
                    insert(m.Sale.__table__),
                    {
                        "sale_id": sale_id, "kind": "sale", "event_id": uuid.uuid4(),
                        "terminal_id": tid, "receipt_no": f"{tid}-{n:06d}",
                        "cashier_id": uuid.uuid4(), "subtotal_cents": 10900,
                        "discount_cents": 0, "total_cents": 10900, "tax_cents": 900,
                        "gst_rate_bp": 900, "rounding_cents": 0, "change_cents": 0,
                        "occurred_at": at, "received_at": at,
                    },
                )  # fmt: skip
                conn.execute(
                    insert(m.SaleLine.__table__),
                    {
                        "sale_id": sale_id, "line_no": 1, "sku": "X", "name": "X", "qty": 1,
                        "unit_price_cents": 10900, "discount_cents": 0, "total_cents": 10900,
                        "tax_code": "SR",
                    },
                )  # fmt: skip
            rollups.rebuild(conn)  # facts written around ingest: the rollups follow them
    finally:
        engine.dispose()
    name = f"acct-{uuid.uuid4().hex[:8]}"
    manage.create_admin_sync(hq.database_url, username=name, password=PASSWORD, role="accountant")
    with httpx.Client(base_url=hq.base_url, timeout=30) as c:
        f5 = c.get(
            "/v1/reports/gst-f5",
            params={"from": "2023-12-20", "to": "2024-01-10", "terminal": tid},
            auth=(name, PASSWORD),
        ).json()
    assert f5["rates_in_period"] == [800, 900]
    assert f5["box6_output_tax_cents"] == 1800
    eight_pct = int((Decimal(10900) * 8 / 108).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert f5["recomputed_output_tax_cents"] == eight_pct + 900
    assert [(x["receipt_no"], x["day"], x["expected_tax_cents"]) for x in f5["mismatches"]] == [
        (f"{tid}-000001", "2023-12-31", eight_pct)
    ]


def shift_closed(tid: str, seq: int, shift: uuid.UUID, **figures: int) -> dict[str, Any]:
    now = datetime.now(SG)
    payload = {
        "shift_id": str(shift), "cashier_id": str(uuid.uuid4()),
        "opened_at": (now - timedelta(hours=1)).isoformat(), "closed_at": now.isoformat(),
        **figures,
    }  # fmt: skip
    return envelope(tid, seq, "shift.closed", payload)


def test_reconciliation_and_refunds_to_the_cent(hq: Hq, accountant: tuple[str, str]) -> None:
    """Shift 1's close agrees with its events; shift 2's close claims a sale HQ never got;
    seq 7 never arrives (a gap); a refund is listed beside the receipt it refunds."""
    tid, token = hq.enroll()
    one, two = uuid.uuid4(), uuid.uuid4()
    a_id, a = sale(tid, 1, [line(1, "X", 1, 1000, "SR")], [pay("cash", 1000, 1000)])
    _, b = sale(tid, 2, [line(1, "Y", 1, 500, "ZR")], [pay("nets", 500)])
    _, c = sale(tid, 4, [line(1, "Z", 1, 700, "SR")], [pay("cash", 700, 1000)], change=300)
    for ev, shift in ((a, one), (b, one), (c, two)):
        ev["payload"]["shift_id"] = str(shift)
    events = [
        a, b,
        shift_closed(tid, 3, one, opening_float_cents=2000, expected_cash_cents=3000,
                     counted_cash_cents=2990, sales_count=2, sales_total_cents=1500),
        c,
        refund(tid, 5, a_id, [line(1, "X", 1, 1000, "SR")], [pay("cash", 1000)]),
        shift_closed(tid, 6, two, opening_float_cents=2000, expected_cash_cents=3400,
                     counted_cash_cents=3400, sales_count=2, sales_total_cents=1400),
        sale(tid, 8, [line(1, "W", 1, 100, "ES")], [pay("card", 100)])[1],
    ]  # fmt: skip
    with hq.client(token) as client:
        answer = client.post("/v1/sync/push", json=push_body(tid, events)).json()
    assert {x["status"] for x in answer["results"]} == {"accepted"}

    rec = _get(hq, accountant, "/v1/reports/reconciliation", tid)
    shifts = {s["shift_id"]: s for s in rec["shifts"]}
    first, second = shifts[str(one)], shifts[str(two)]
    assert (first["hq_sales_count"], first["hq_sales_cents"]) == (2, 1500)
    assert first["hq_expected_cash_cents"] == 3000 and first["variance_cents"] == -10
    assert first["differences"] == []
    assert (second["till_sales_count"], second["hq_sales_count"]) == (2, 1)
    assert (second["till_sales_cents"], second["hq_sales_cents"]) == (1400, 700)
    assert second["hq_expected_cash_cents"] == 2700
    assert second["differences"] == [
        "sales count 2 at the till, 1 at HQ",
        "sales 7.00 more at the till",
        "expected cash 7.00 more at the till",
    ]
    assert rec["differing"] == 1
    assert rec["gaps"] == [
        {"terminal_id": tid, "contiguous_seq": 6, "highest_seq": 8, "missing": 1}
    ]

    refunds = _get(hq, accountant, "/v1/reports/refunds", tid)
    [row] = refunds["rows"]
    assert row["original_receipt_no"] == f"{tid}-000001"
    assert (row["total_cents"], row["tax_cents"]) == (1000, gst_in(1000))
    assert refunds["total_cents"] == 1000


def test_hq_expected_cash_counts_cash_refunds_and_petty_cash(
    hq: Hq, accountant: tuple[str, str]
) -> None:
    """The till's rule: float + cash taken - cash refunded + cash in - cash out. A shift
    with a cash refund and petty cash both ways reconciles with no difference."""
    tid, token = hq.enroll()
    shift, cashier = uuid.uuid4(), str(uuid.uuid4())
    a_id, a = sale(tid, 1, [line(1, "X", 1, 1000, "SR")], [pay("cash", 1000, 1000)])
    _, b = sale(tid, 2, [line(1, "Y", 1, 600, "SR")], [pay("cash", 600, 1000)], change=400)
    back = refund(tid, 3, a_id, [line(1, "X", 1, 1000, "SR")], [pay("cash", 1000)])

    def moved(seq: int, kind: str, amount: int) -> dict[str, Any]:
        payload = {
            "movement_id": str(uuid.uuid4()), "shift_id": str(shift), "cashier_id": cashier,
            "kind": kind, "amount_cents": amount, "reason": "float top-up" if kind == "in"
            else "cleaner",
        }  # fmt: skip
        return envelope(tid, seq, "cash.movement", payload)

    for ev in (a, b, back):
        ev["payload"]["shift_id"] = str(shift)
    expected = 2000 + 1000 + 600 - 1000 + 500 - 250
    events = [
        a, b, back, moved(4, "in", 500), moved(5, "out", 250), moved(6, "no_sale", 0),
        shift_closed(tid, 7, shift, opening_float_cents=2000, expected_cash_cents=expected,
                     counted_cash_cents=expected, sales_count=2, sales_total_cents=1600),
    ]  # fmt: skip
    with hq.client(token) as client:
        answer = client.post("/v1/sync/push", json=push_body(tid, events)).json()
    assert {x["status"] for x in answer["results"]} == {"accepted"}, answer
    rec = _get(hq, accountant, "/v1/reports/reconciliation", tid)
    [row] = [s for s in rec["shifts"] if s["shift_id"] == str(shift)]
    assert row["hq_expected_cash_cents"] == expected == 2850
    assert row["differences"] == []
