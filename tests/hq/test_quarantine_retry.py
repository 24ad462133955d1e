"""Retrying a quarantined event after a fix, on HQ over SQLite and PostgreSQL (real
``kedai-hq serve`` processes), through an owner's browser session.

The event: a till's points adjustment that would take a member past the balance HQ will
hold. Retried as it stands it is refused again (new reason, still quarantined); after an
owner deducts points at HQ it is ingested, exactly once, and leaves quarantine.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from hq import manage
from hq.checks import MAX_LOYALTY_BALANCE
from tests.events import envelope, push_body
from tests.hq.conftest import Hq

PASSWORD = "retry-pass-1"


def adjusted(tid: str, seq: int, customer: uuid.UUID, points: int) -> dict[str, Any]:
    delta = {"entry_id": str(uuid.uuid4()), "customer_id": str(customer), "points": points,
             "reason": "adjust"}  # fmt: skip
    return envelope(tid, seq, "loyalty.adjusted", {"delta": delta, "note": "goodwill"})


def session_for(hq: Hq, username: str, role: str) -> tuple[httpx.Client, str]:
    """A logged-in browser-like client and its CSRF token."""
    manage.create_admin_sync(hq.database_url, username=username, password=PASSWORD, role=role)
    c = httpx.Client(base_url=hq.base_url, timeout=30)
    form = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    done = c.post("/login", data={"username": username, "password": PASSWORD,
                                   "csrf_token": token[1], "next": "/"})  # fmt: skip
    assert done.status_code == 303, done.text
    page = c.get("/reports/quarantine")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    return c, csrf[1]


def test_a_retried_event_is_ingested_once_after_the_fix(hq: Hq) -> None:
    tid, token = hq.enroll()
    member = uuid.uuid4()
    near_top = MAX_LOYALTY_BALANCE - 100
    first, over = adjusted(tid, 1, member, near_top), adjusted(tid, 2, member, 500)
    with hq.client(token) as till:
        answer = till.post("/v1/sync/push", json=push_body(tid, [first, over])).json()
    assert [x["status"] for x in answer["results"]] == ["accepted", "rejected"]
    event_id = over["event_id"]
    owner, csrf = session_for(hq, f"own-{uuid.uuid4().hex[:8]}", "owner")
    accountant, acsrf = session_for(hq, f"acc-{uuid.uuid4().hex[:8]}", "accountant")
    url = f"/v1/reports/quarantine/{event_id}/retry"
    try:
        listed = owner.get("/v1/reports/quarantine", params={"terminal": tid}).json()["rows"]
        received = listed[0]["received_at"]

        assert accountant.post(url, headers={"X-CSRF-Token": acsrf}).status_code == 403
        assert owner.post(url).status_code == 403  # no CSRF token
        assert httpx.post(hq.base_url + url, headers={"X-CSRF-Token": csrf}).status_code == 401

        again = owner.post(url, headers={"X-CSRF-Token": csrf})
        assert again.status_code == 200, again.text
        assert again.json()["status"] == "rejected" and "beyond" in again.json()["reason"]
        [still] = owner.get("/v1/reports/quarantine", params={"terminal": tid}).json()["rows"]
        assert still["event_id"] == event_id and still["received_at"] == received

        cap = {"csrf_token": csrf, "points": "-1000", "reason": "cap"}
        fixed = owner.post(f"/members/{member}/points", data=cap)
        assert fixed.status_code == 303
        done = owner.post(url, headers={"X-CSRF-Token": csrf})
        assert done.json() == {"event_id": event_id, "status": "accepted", "reason": None,
                               "contiguous_seq": 2}  # fmt: skip
        gone = owner.get("/v1/reports/quarantine", params={"terminal": tid}).json()
        assert gone["rows"] == []
        assert owner.post(url, headers={"X-CSRF-Token": csrf}).status_code == 404

        ledger = owner.get(f"/v1/reports/loyalty/members/{member}").json()
        assert ledger["balance"] == ledger["ledger_sum"] == near_top - 1000 + 500
        assert [r["event_id"] for r in ledger["rows"]].count(event_id) == 1
        audit = owner.get("/v1/admin/audit").json()
        mine = [a["action"] for a in audit if a["target"] == event_id]
        assert sorted(mine) == ["quarantine.retry.accepted", "quarantine.retry.rejected"]
    finally:
        owner.close()
        accountant.close()

    with hq.client(token) as till:  # the till, never told, sends it again: a duplicate
        resent = till.post("/v1/sync/push", json=push_body(tid, [over])).json()
    assert resent["results"][0]["status"] == "duplicate"
    assert resent["contiguous_seq"] == 2
