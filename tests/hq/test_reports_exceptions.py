"""The till exceptions report (discounts, voids, cancels, no-sale opens, approvals granted
and refused) against what this test pushed, on HQ over SQLite and PostgreSQL, through the
real sync API; its CSV has the same rows, and outlet managers see only their outlets."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from hq import manage
from sync import demo_data
from tests.events import envelope, push_body
from tests.hq.conftest import Hq
from tests.hq.test_reports_figures import line, pay, sale

SG = ZoneInfo("Asia/Singapore")
PASSWORD = "exceptions-pass-1"
AISHA, MANAGER = (c.cashier_id for c in demo_data.demo_cashiers()[:2])
NAMES = {c.cashier_id: c.name for c in demo_data.demo_cashiers()}


def approval(tid: str, seq: int, action: str, note: str = "") -> dict[str, Any]:
    return envelope(tid, seq, "approval.granted", {
        "approval_id": str(uuid.uuid4()), "action": action, "manager_id": str(MANAGER),
        "cashier_id": str(AISHA), "note": note,
    })  # fmt: skip


def refused(tid: str, seq: int, tries: int, locked: bool) -> dict[str, Any]:
    return envelope(tid, seq, "approval.refused", {
        "attempt_id": str(uuid.uuid4()), "action": "void", "cashier_id": str(AISHA),
        "failed_attempts": tries, "locked": locked,
    })  # fmt: skip


@pytest.fixture
def pushed(hq: Hq) -> dict[str, Any]:
    manage.seed_demo_sync(hq.database_url)  # the GST rates and the demo staff's names
    tid, token = hq.enroll(outlet="EXA")
    shift = str(uuid.uuid4())
    _, discounted = sale(
        tid, 1, [line(1, "D-SR", 2, 1000, "SR", discount=250)], [pay("nets", 1750)]
    )
    _, plain = sale(tid, 2, [line(1, "P-SR", 1, 500, "SR")], [pay("nets", 500)])
    events = [
        discounted,
        plain,
        approval(tid, 3, "price_override", "price 6.50 (was 7.89)"),
        refused(tid, 4, 1, False),
        refused(tid, 5, 3, True),
        envelope(tid, 6, "sale.cancelled", {
            "cancel_id": str(uuid.uuid4()), "cashier_id": str(AISHA),
            "approved_by": str(MANAGER), "approval_id": None, "line_count": 3,
            "total_cents": 2390, "reason": "customer left",
        }),
        envelope(tid, 7, "line.voided", {
            "void_id": str(uuid.uuid4()), "cashier_id": str(AISHA), "approved_by": str(MANAGER),
            "sku": "MILO-400", "qty": 2, "amount_cents": 1578,
        }),
        envelope(tid, 8, "cash.movement", {
            "movement_id": str(uuid.uuid4()), "shift_id": shift, "cashier_id": str(AISHA),
            "kind": "no_sale", "amount_cents": 0, "reason": "change for a float",
            "approved_by": str(MANAGER),
        }),
        envelope(tid, 9, "cash.movement", {  # petty cash is not an exception
            "movement_id": str(uuid.uuid4()), "shift_id": shift, "cashier_id": str(AISHA),
            "kind": "in", "amount_cents": 5000, "reason": "float top-up",
        }),
    ]  # fmt: skip
    # The sales' cashier ids are random: the test reads names only from approvals on.
    with hq.client(token) as client:
        answer = client.post("/v1/sync/push", json=push_body(tid, events)).json()
    assert {x["status"] for x in answer["results"]} == {"accepted"}, answer
    return {"terminal": tid}


def _owner(hq: Hq) -> tuple[str, str]:
    name = f"own-{uuid.uuid4().hex[:8]}"
    manage.create_admin_sync(hq.database_url, username=name, password=PASSWORD)
    return name, PASSWORD


def _period(terminal: str) -> dict[str, str]:
    """Around today, at this test's terminal (HQ is shared by the tests of a store)."""
    day = datetime.now(SG).date()
    return {
        "from": (day - timedelta(days=1)).isoformat(),
        "to": (day + timedelta(days=1)).isoformat(),
        "terminal": terminal,
    }


def test_every_exception_is_listed_and_counted(hq: Hq, pushed: dict[str, Any]) -> None:
    with httpx.Client(base_url=hq.base_url, timeout=30) as c:
        r = c.get("/v1/reports/exceptions", params=_period(pushed["terminal"]), auth=_owner(hq))
    assert r.status_code == 200, r.text
    report = r.json()
    totals = {t["kind"]: (t["count"], t["amount_cents"]) for t in report["totals"]}
    assert totals == {
        "discount": (1, 250), "void": (1, 1578), "cancel": (1, 2390), "no_sale": (1, 0),
        "approval": (1, 0), "refused": (2, 0),
    }  # fmt: skip
    rows = {(x["kind"], x["what"]): x for x in report["rows"]}
    aisha, manager = NAMES[AISHA], NAMES[MANAGER]
    assert rows[("discount", f"{pushed['terminal']}-000001")]["amount_cents"] == 250
    override = rows[("approval", "price_override")]
    assert (override["cashier"], override["manager"]) == (aisha, manager)
    assert override["note"] == "price 6.50 (was 7.89)"
    notes = sorted(x["note"] for x in report["rows"] if x["kind"] == "refused")
    assert notes == ["1 wrong PIN", "3 wrong PINs; locked"]
    assert rows[("cancel", "3 lines")]["note"] == "customer left"
    void = rows[("void", "MILO-400 x2")]
    assert (void["amount_cents"], void["cashier"], void["manager"]) == (1578, aisha, manager)
    assert rows[("no_sale", "drawer opened")]["note"] == "change for a float"
    assert [x["occurred_at"] for x in report["rows"]] == sorted(
        x["occurred_at"] for x in report["rows"]
    )
    assert not report["truncated"]

    only_aisha = httpx.get(
        f"{hq.base_url}/v1/reports/exceptions",
        params={**_period(pushed["terminal"]), "cashier": aisha}, auth=_owner(hq), timeout=30,
    ).json()  # fmt: skip
    assert {x["kind"] for x in only_aisha["rows"]} == {
        "approval", "refused", "cancel", "void", "no_sale"
    }  # the sales were rung up by other (unknown) cashiers  # fmt: skip


def test_the_page_and_its_csv_show_the_same_rows(hq: Hq, pushed: dict[str, Any]) -> None:
    user, password = _owner(hq)
    with httpx.Client(base_url=hq.base_url, timeout=30) as c:
        form = c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        login = {"username": user, "password": password, "csrf_token": token[1]}
        assert c.post("/login", data=login).status_code == 303
        page = c.get("/reports/exceptions", params=_period(pushed["terminal"]))
        download = c.get("/reports/exceptions.csv", params=_period(pushed["terminal"]))
    assert page.status_code == 200 and "Till exceptions" in page.text
    assert page.text.count('<tr data-kind="refused">') == 1 + 2  # the total, two rows
    assert "MILO-400 x2" in page.text
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["kind", "at"]
    assert sorted(r[0] for r in rows[1:]) == sorted(
        ["discount", "approval", "refused", "refused", "cancel", "void", "no_sale"]
    )


def test_an_outlet_manager_sees_only_their_outlets(hq: Hq, pushed: dict[str, Any]) -> None:
    name = f"mgr-{uuid.uuid4().hex[:8]}"
    manage.create_admin_sync(
        hq.database_url, username=name, password=PASSWORD, role="manager", outlets=["DEMO"]
    )
    with httpx.Client(base_url=hq.base_url, timeout=30) as c:
        r = c.get(
            "/v1/reports/exceptions", params=_period(pushed["terminal"]), auth=(name, PASSWORD)
        )
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == []
    assert all(t["count"] == 0 for t in r.json()["totals"])
