"""Loyalty and offline-overspend reports against sums this test computes itself, on HQ
over SQLite and PostgreSQL (real ``kedai-hq serve`` processes).

Two tills each redeem a member's points while offline, each within the balance the till
knew, together beyond it: HQ applies both deltas and the balance goes below zero. The
expected figures come from the deltas the test built, not from HQ's code.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from hq import manage
from tests.events import envelope, push_body, sale_line, sale_payload
from tests.hq.conftest import Hq

SG = ZoneInfo("Asia/Singapore")
PASSWORD = "loyalty-pass-1"


def member_created(tid: str, seq: int, customer: uuid.UUID, name: str) -> dict[str, Any]:
    payload = {"customer_id": str(customer), "name": name, "phone": f"9{seq:07d}"}
    return envelope(tid, seq, "customer.created", payload)


def earn(tid: str, seq: int, customer: uuid.UUID, points: int) -> dict[str, Any]:
    lines = [sale_line(1, 1, qty=1, unit_price_cents=points)]
    payload = sale_payload(tid, seq, customer_id=customer, points=points, lines=lines)
    return envelope(tid, seq, "sale.completed", payload)


def redeem(tid: str, seq: int, customer: uuid.UUID, points: int, at: datetime) -> dict[str, Any]:
    """A sale of ``points + 100`` cents paid ``points`` by points and the rest by NETS."""
    lines = [sale_line(1, 2, qty=1, unit_price_cents=points + 100)]
    payload = sale_payload(tid, seq, customer_id=customer, lines=lines)
    payload["payments"] = [
        {"payment_id": str(uuid.uuid4()), "tender": "points", "amount_cents": points,
         "tendered_cents": points},
        {"payment_id": str(uuid.uuid4()), "tender": "nets", "amount_cents": 100,
         "tendered_cents": 100},
    ]  # fmt: skip
    payload["loyalty"] = [
        {"entry_id": str(uuid.uuid4()), "customer_id": str(customer), "points": -points,
         "reason": "redeem"}
    ]  # fmt: skip
    return envelope(tid, seq, "sale.completed", payload, occurred_at=at.isoformat())


def push(hq: Hq, tid: str, token: str, events: list[dict[str, Any]]) -> None:
    with hq.client(token) as c:
        answer = c.post("/v1/sync/push", json=push_body(tid, events)).json()
    assert [x["status"] for x in answer["results"]] == ["accepted"] * len(events), answer


@pytest.fixture
def offline_pair(hq: Hq) -> dict[str, Any]:
    """Member A: 1000 points earned at T1; T1 redeems 700 and T2 redeems 650, both made
    two hours ago while each till still knew a balance of 1000. Member B: the same with
    300 + 300, within the balance. Member C: T1 alone redeems 400 of 500 twice (its
    second redemption is refused by nobody, but one till saw its own first one)."""
    manage.seed_demo_sync(hq.database_url)
    t1, tok1 = hq.enroll()
    t2, tok2 = hq.enroll()
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    offline = datetime.now(UTC) - timedelta(hours=2)
    push(hq, t1, tok1, [
        member_created(t1, 1, a, "Ah Huat"), member_created(t1, 2, b, "Bee Lian"),
        member_created(t1, 3, c, "Chong Wei"),
        earn(t1, 4, a, 1000), earn(t1, 5, b, 1000), earn(t1, 6, c, 500),
    ])  # fmt: skip
    r1 = redeem(t1, 7, a, 700, offline)
    push(hq, t1, tok1, [r1, redeem(t1, 8, b, 300, offline),
                        redeem(t1, 9, c, 400, offline),
                        redeem(t1, 10, c, 400, offline + timedelta(minutes=1))])  # fmt: skip
    r2 = redeem(t2, 1, a, 650, offline + timedelta(minutes=5))
    push(hq, t2, tok2, [r2, redeem(t2, 2, b, 300, offline)])
    name = f"acct-{uuid.uuid4().hex[:8]}"
    manage.create_admin_sync(hq.database_url, username=name, password=PASSWORD, role="accountant")
    return {"t1": t1, "t2": t2, "a": a, "b": b, "c": c, "r1": r1, "r2": r2,
            "auth": (name, PASSWORD)}  # fmt: skip


def get(hq: Hq, auth: tuple[str, str], path: str, **params: Any) -> Any:
    with httpx.Client(base_url=hq.base_url, timeout=30) as c:
        r = c.get(path, params=params, auth=auth)
    assert r.status_code == 200, r.text
    return r.json()


def test_overspend_lists_the_member_two_tills_took_below_zero(
    hq: Hq, offline_pair: dict[str, Any]
) -> None:
    x = offline_pair
    day = datetime.now(SG).date()
    span = {
        "from": (day - timedelta(days=1)).isoformat(),
        "to": (day + timedelta(days=1)).isoformat(),
    }
    value = int(hq.scalar("SELECT loyalty_point_value_cents FROM settings WHERE id = 1"))
    for terminal in (x["t1"], x["t2"]):
        report = get(hq, x["auth"], "/v1/reports/overspend", terminal=terminal, **span)
        [row] = report["rows"]
        assert row["customer_id"] == str(x["a"]) and row["name"] == "Ah Huat"
        assert row["terminals"] == sorted([x["t1"], x["t2"]])
        assert row["balance_before"] == 1000
        assert row["redeemed_points"] == 700 + 650
        assert row["lowest_balance"] == 1000 - 700 - 650
        assert row["overspent_points"] == 350 and row["overspent_cents"] == 350 * value
        assert row["current_balance"] == 1000 - 700 - 650
        got = [(e["event_id"], e["terminal_id"], e["terminal_seq"], e["points"], e["balance_after"])
               for e in row["events"]]  # fmt: skip
        assert got == [
            (x["r1"]["event_id"], x["t1"], 7, -700, 300),
            (x["r2"]["event_id"], x["t2"], 1, -650, -350),
        ]
        assert report["members"] == 1 and report["overspent_points"] == 350
    earlier = get(hq, x["auth"], "/v1/reports/overspend", terminal=x["t1"],
                  **{"from": "2020-01-01", "to": "2020-01-31"})  # fmt: skip
    assert earlier["rows"] == []


def test_loyalty_liability_balances_and_ledger_add_up(hq: Hq, offline_pair: dict[str, Any]) -> None:
    x = offline_pair
    per_member = {x["a"]: 1000 - 700 - 650, x["b"]: 1000 - 300 - 300, x["c"]: 500 - 800}
    # the liability over the whole store, summed here from the stored balances (this
    # server is shared: other tests write customers directly, without ledger entries)
    outstanding = int(hq.scalar(
        "SELECT coalesce(sum(loyalty_balance), 0) FROM customers WHERE loyalty_balance > 0"
    ))  # fmt: skip
    value = int(hq.scalar("SELECT loyalty_point_value_cents FROM settings WHERE id = 1"))
    report = get(hq, x["auth"], "/v1/reports/loyalty", q="Ah Huat")
    li = report["liability"]
    assert li["outstanding_points"] == outstanding
    assert li["outstanding_cents"] == outstanding * value and li["point_value_cents"] == value
    assert li["negative_points"] <= per_member[x["a"]] + per_member[x["c"]]
    found = {r["customer_id"]: r["balance"] for r in report["rows"]}
    assert found[str(x["a"])] == per_member[x["a"]]
    assert str(x["b"]) not in found  # the search narrows the list
    paged = get(hq, x["auth"], "/v1/reports/loyalty", size=1, page=2)
    assert paged["page"] == 2 and len(paged["rows"]) == 1 and paged["pages"] == paged["matching"]

    ledger = get(hq, x["auth"], f"/v1/reports/loyalty/members/{x['a']}")
    assert ledger["balance"] == ledger["ledger_sum"] == per_member[x["a"]]
    assert [(r["points"], r["reason"], r["terminal_id"], r["terminal_seq"], r["balance_after"])
            for r in ledger["rows"]] == [
        (1000, "earn", x["t1"], 4, 1000),
        (-700, "redeem", x["t1"], 7, 300),
        (-650, "redeem", x["t2"], 1, -350),
    ]  # fmt: skip
    assert {r["event_type"] for r in ledger["rows"]} == {"sale.completed"}
    assert ledger["rows"][2]["event_id"] == x["r2"]["event_id"]

    # one till overspending alone is not an offline overspend between tills
    single = get(hq, x["auth"], "/v1/reports/overspend", terminal=x["t1"])
    assert str(x["c"]) not in {r["customer_id"] for r in single["rows"]}
    assert str(x["b"]) not in {r["customer_id"] for r in single["rows"]}


def test_loyalty_reports_answer_only_to_an_admin(hq: Hq, offline_pair: dict[str, Any]) -> None:
    _, token = hq.enroll()
    paths = ("/v1/reports/loyalty", f"/v1/reports/loyalty/members/{offline_pair['a']}",
             "/v1/reports/overspend")  # fmt: skip
    with httpx.Client(base_url=hq.base_url, timeout=30) as c:
        for path in paths:
            assert c.get(path).status_code == 401
            assert c.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 401
        schema = c.get("/openapi.json").json()
        missing = c.get(f"/v1/reports/loyalty/members/{uuid.uuid4()}", auth=offline_pair["auth"])
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        bad = c.get("/v1/reports/loyalty/members/not-a-uuid", auth=offline_pair["auth"])
        assert bad.status_code == 422
        big = c.get("/v1/reports/loyalty", params={"size": 10**9}, auth=offline_pair["auth"])
        assert big.status_code == 422
    for path in ("/v1/reports/loyalty", "/v1/reports/loyalty/members/{customer_id}",
                 "/v1/reports/overspend"):  # fmt: skip
        assert path in schema["paths"]
