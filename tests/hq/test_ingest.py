"""Ingest over HTTP against a real ``kedai-hq serve``, on SQLite and on PostgreSQL."""

from __future__ import annotations

import gzip
import json
import uuid

from tests.events import envelope, push_body, sale
from tests.hq.conftest import Hq


def _push(hq: Hq, token: str, terminal_id: str, events: list[dict]) -> dict:
    with hq.client(token) as c:
        r = c.post("/v1/sync/push", json=push_body(terminal_id, events))
    assert r.status_code == 200, r.text
    return r.json()


def _statuses(answer: dict) -> list[str]:
    return [r["status"] for r in answer["results"]]


def test_sale_is_stored_as_facts_with_loyalty(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    customer = uuid.uuid4()
    event = sale(tid, 1, customer_id=customer, points=13, lines=3)
    answer = _push(hq, token, tid, [event])
    assert _statuses(answer) == ["accepted"]
    assert answer["contiguous_seq"] == 1
    assert answer["hq_time"]
    sale_id = event["payload"]["sale_id"]
    assert hq.scalar("SELECT count(*) FROM sales WHERE terminal_id = :t", t=tid) == 1
    assert hq.scalar("SELECT total_cents FROM sales WHERE terminal_id = :t", t=tid) == 1980
    lines = "SELECT count(*) FROM sale_lines l JOIN sales s ON s.sale_id = l.sale_id "
    assert hq.scalar(lines + "WHERE s.terminal_id = :t", t=tid) == 3
    pays = "SELECT sum(p.amount_cents) FROM payments p JOIN sales s ON s.sale_id = p.sale_id "
    assert hq.scalar(pays + "WHERE s.terminal_id = :t", t=tid) == 1980
    assert hq.scalar("SELECT receipt_no FROM sales WHERE terminal_id = :t", t=tid).endswith(
        "-000001"
    )
    # A customer HQ never heard of gets a placeholder row carrying the points.
    assert _balance(hq, customer) == 13
    assert sale_id


def test_duplicate_push_is_answered_duplicate_and_applied_once(
    hq: Hq, terminal: tuple[str, str]
) -> None:
    tid, token = terminal
    customer = uuid.uuid4()
    events = [sale(tid, seq, customer_id=customer, points=5) for seq in (1, 2, 3)]
    assert _statuses(_push(hq, token, tid, events)) == ["accepted"] * 3
    again = _push(hq, token, tid, events)
    assert _statuses(again) == ["duplicate"] * 3
    assert again["contiguous_seq"] == 3
    assert hq.scalar("SELECT count(*) FROM sales WHERE terminal_id = :t", t=tid) == 3
    assert _balance(hq, customer) == 15


def test_event_repeated_inside_one_batch_counts_once(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    customer = uuid.uuid4()
    event = sale(tid, 1, customer_id=customer, points=7)
    assert _statuses(_push(hq, token, tid, [event, event])) == ["accepted", "duplicate"]
    assert _balance(hq, customer) == 7


def test_contiguous_mark_stops_at_a_gap_until_it_is_filled(
    hq: Hq, terminal: tuple[str, str]
) -> None:
    tid, token = terminal
    answer = _push(hq, token, tid, [sale(tid, 1), sale(tid, 2), sale(tid, 4), sale(tid, 5)])
    assert answer["contiguous_seq"] == 2
    answer = _push(hq, token, tid, [sale(tid, 3)])
    assert answer["contiguous_seq"] == 5
    with hq.client(token) as c:
        assert c.get("/v1/sync/whoami").json()["contiguous_seq"] == 5


def test_unknown_schema_version_is_quarantined_and_later_events_flow(
    hq: Hq, terminal: tuple[str, str]
) -> None:
    tid, token = terminal
    future = envelope(tid, 2, "sale.completed", {"anything": 1}, schema_version=99)
    events = [sale(tid, 1), future, sale(tid, 3)]
    answer = _push(hq, token, tid, events)
    assert _statuses(answer) == ["accepted", "rejected", "accepted"]
    assert "schema_version 99" in answer["results"][1]["reason"]
    assert answer["contiguous_seq"] == 3  # the quarantined event is held, just not applied
    raw = hq.scalar("SELECT raw FROM quarantine WHERE terminal_id = :t", t=tid)
    assert json.loads(raw)["event_id"] == future["event_id"]
    assert hq.scalar("SELECT count(*) FROM sales WHERE terminal_id = :t", t=tid) == 2
    # A resend (the first answer was lost) is still answered "rejected", with the reason.
    again = _push(hq, token, tid, [future])
    assert _statuses(again) == ["rejected"]
    assert "schema_version" in again["results"][0]["reason"]


def test_invalid_payloads_are_quarantined_not_fatal(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    float_cents = sale(tid, 1)
    float_cents["payload"]["total_cents"] = 19.8
    unknown_type = envelope(tid, 2, "sale.teleported", {})
    extra_field = sale(tid, 3)
    extra_field["payload"]["surprise"] = True
    answer = _push(hq, token, tid, [float_cents, unknown_type, extra_field, sale(tid, 4)])
    assert _statuses(answer) == ["rejected", "rejected", "rejected", "accepted"]
    assert "unknown event type" in answer["results"][1]["reason"]
    assert hq.scalar("SELECT count(*) FROM quarantine WHERE terminal_id = :t", t=tid) == 3
    assert answer["contiguous_seq"] == 4


def test_a_reused_terminal_seq_is_rejected(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    _push(hq, token, tid, [sale(tid, 1)])
    answer = _push(hq, token, tid, [sale(tid, 1)])  # new event_id, same seq: a till bug
    assert _statuses(answer) == ["rejected"]
    assert "already held" in answer["results"][0]["reason"]
    assert hq.scalar("SELECT count(*) FROM sales WHERE terminal_id = :t", t=tid) == 1


def test_gzip_request_body_is_accepted(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    body = gzip.compress(json.dumps(push_body(tid, [sale(tid, 1), sale(tid, 2)])).encode())
    with hq.client(token) as c:
        r = c.post(
            "/v1/sync/push",
            content=body,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )
    assert r.status_code == 200, r.text
    assert _statuses(r.json()) == ["accepted", "accepted"]
    assert hq.scalar("SELECT count(*) FROM sales WHERE terminal_id = :t", t=tid) == 2


def test_refund_is_a_negative_fact_with_loyalty_reversal(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    customer = uuid.uuid4()
    original = sale(tid, 1, customer_id=customer, points=13, lines=1)
    line = original["payload"]["lines"][0]
    refund = envelope(
        tid,
        2,
        "sale.refunded",
        {
            "refund_id": str(uuid.uuid4()),
            "original_sale_id": original["payload"]["sale_id"],
            "receipt_no": f"{tid}-000002",
            "cashier_id": str(uuid.uuid4()),
            "approved_by": str(uuid.uuid4()),
            "lines": [line],
            "payments": [
                {
                    "payment_id": str(uuid.uuid4()),
                    "tender": "nets",
                    "amount_cents": 660,
                    "tendered_cents": 660,
                }
            ],
            "loyalty": [
                {
                    "entry_id": str(uuid.uuid4()),
                    "customer_id": str(customer),
                    "points": -6,
                    "reason": "refund",
                }
            ],
            "total_cents": 660,
            "tax_cents": 54,
            "reason": "damaged",
        },
    )
    assert _statuses(_push(hq, token, tid, [original, refund])) == ["accepted", "accepted"]
    assert hq.scalar("SELECT sum(total_cents) FROM sales WHERE terminal_id = :t", t=tid) == 0
    refund_qty = "SELECT sum(l.qty) FROM sale_lines l JOIN sales s ON s.sale_id = l.sale_id "
    assert hq.scalar(refund_qty + "WHERE s.terminal_id = :t", t=tid) == 0
    assert _balance(hq, customer) == 7


def test_other_event_types_are_stored(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    cashier, manager, customer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    shift_id = uuid.uuid4()
    events = [
        envelope(
            tid,
            1,
            "shift.closed",
            {
                "shift_id": str(shift_id),
                "cashier_id": str(cashier),
                "opened_at": "2025-01-02T01:00:00Z",
                "closed_at": "2025-01-02T09:00:00Z",
                "opening_float_cents": 10000,
                "expected_cash_cents": 25000,
                "counted_cash_cents": 24990,
                "sales_count": 12,
                "sales_total_cents": 15000,
            },
        ),
        envelope(
            tid,
            2,
            "approval.granted",
            {
                "approval_id": str(uuid.uuid4()),
                "action": "no_sale",
                "manager_id": str(manager),
                "cashier_id": str(cashier),
            },
        ),
        envelope(
            tid,
            3,
            "loyalty.adjusted",
            {
                "delta": {
                    "entry_id": str(uuid.uuid4()),
                    "customer_id": str(customer),
                    "points": 50,
                    "reason": "adjust",
                },
                "approved_by": str(manager),
                "note": "goodwill",
            },
        ),
    ]
    assert _statuses(_push(hq, token, tid, events)) == ["accepted"] * 3
    assert hq.scalar("SELECT counted_cash_cents FROM shifts WHERE terminal_id = :t", t=tid) == (
        24990
    )
    assert hq.scalar("SELECT action FROM approvals WHERE terminal_id = :t", t=tid) == "no_sale"
    assert _balance(hq, customer) == 50


def test_customer_created_at_a_till_reaches_the_change_feed(
    hq: Hq, terminal: tuple[str, str]
) -> None:
    tid, token = terminal
    customer = uuid.uuid4()
    # Points arrive first (placeholder), then the customer's details: both must land.
    _push(hq, token, tid, [sale(tid, 1, customer_id=customer, points=4)])
    created = envelope(
        tid,
        2,
        "customer.created",
        {"customer_id": str(customer), "name": "Nur Aisyah", "phone": "+6581112222"},
    )
    assert _statuses(_push(hq, token, tid, [created])) == ["accepted"]
    record = _feed_customer(hq, token, customer)
    assert record == {
        "customer_id": str(customer),
        "name": "Nur Aisyah",
        "phone": "+6581112222",
        "email": None,
        "loyalty_balance": 4,
    }


def test_loyalty_change_bumps_the_customer_change_seq(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    customer = uuid.uuid4()
    _push(hq, token, tid, [sale(tid, 1, customer_id=customer, points=3)])
    seq_before = hq.scalar(
        "SELECT change_seq FROM customers WHERE customer_id = :c", c=_db(customer, hq)
    )
    _push(hq, token, tid, [sale(tid, 2, customer_id=customer, points=3)])
    seq_after = hq.scalar(
        "SELECT change_seq FROM customers WHERE customer_id = :c", c=_db(customer, hq)
    )
    assert seq_after > seq_before
    with hq.client(token) as c:
        page = c.get("/v1/sync/changes", params={"since": seq_before, "limit": 50}).json()
    ids = [ch["data"].get("customer_id") for ch in page["changes"] if ch["kind"] == "customer"]
    assert str(customer) in ids


def test_a_full_batch_of_mixed_events_lands_once(hq: Hq, terminal: tuple[str, str]) -> None:
    """MAX_PUSH_EVENTS sales, refunds and adjustments in one push; then resent whole."""
    from sync.protocol import MAX_PUSH_EVENTS

    tid, token = terminal
    customers = [uuid.uuid4() for _ in range(7)]
    events, expected_points, expected_total = [], dict.fromkeys(customers, 0), 0
    for seq in range(1, MAX_PUSH_EVENTS + 1):
        customer = customers[seq % len(customers)]
        if seq % 50 == 0:
            event = envelope(
                tid,
                seq,
                "loyalty.adjusted",
                {
                    "delta": {
                        "entry_id": str(uuid.uuid4()),
                        "customer_id": str(customer),
                        "points": -2,
                        "reason": "adjust",
                    }
                },
            )
            expected_points[customer] -= 2
        else:
            event = sale(tid, seq, customer_id=customer, points=seq % 4, lines=1 + seq % 3)
            expected_points[customer] += seq % 4
            expected_total += event["payload"]["total_cents"]
        events.append(event)
    answer = _push(hq, token, tid, events)
    assert _statuses(answer) == ["accepted"] * MAX_PUSH_EVENTS
    assert answer["contiguous_seq"] == MAX_PUSH_EVENTS
    again = _push(hq, token, tid, events)
    assert _statuses(again) == ["duplicate"] * MAX_PUSH_EVENTS
    total = hq.scalar("SELECT sum(total_cents) FROM sales WHERE terminal_id = :t", t=tid)
    assert total == expected_total
    lines = "SELECT sum(l.total_cents) FROM sale_lines l JOIN sales s ON s.sale_id = l.sale_id "
    assert hq.scalar(lines + "WHERE s.terminal_id = :t", t=tid) == expected_total
    assert {c: _balance(hq, c) for c in customers} == expected_points
    held = "SELECT count(*) FROM loyalty_entries WHERE terminal_id = :t"
    assert hq.scalar(held, t=tid) == sum(1 for e in events if _has_points(e))


def test_stored_payload_is_the_validated_canonical_form(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    event = sale(tid, 1)
    sale_id = uuid.UUID(event["payload"]["sale_id"])
    event["payload"]["sale_id"] = sale_id.hex.upper()  # a spelling pydantic accepts
    assert _statuses(_push(hq, token, tid, [event])) == ["accepted"]
    raw = hq.scalar("SELECT payload FROM events WHERE terminal_id = :t", t=tid)
    stored = raw if isinstance(raw, dict) else json.loads(raw)
    assert stored["sale_id"] == str(sale_id)
    assert stored["shift_id"] is None  # defaults are written out
    assert hq.scalar("SELECT kind FROM sales WHERE sale_id = :s", s=_db(sale_id, hq)) == "sale"


# ----------------------------------------------------------------------------- helpers


def _db(customer: uuid.UUID, hq: Hq) -> object:
    """UUIDs are CHAR(32) hex on SQLite and native uuid on PostgreSQL."""
    return customer.hex if hq.backend == "sqlite" else customer


def _balance(hq: Hq, customer: uuid.UUID) -> int:
    return hq.scalar(
        "SELECT loyalty_balance FROM customers WHERE customer_id = :c", c=_db(customer, hq)
    )


def _feed_customer(hq: Hq, token: str, customer: uuid.UUID) -> dict:
    since, found = 0, None
    with hq.client(token) as c:
        while True:
            page = c.get("/v1/sync/changes", params={"since": since, "limit": 50}).json()
            for ch in page["changes"]:
                if ch["kind"] == "customer" and ch["data"]["customer_id"] == str(customer):
                    found = ch["data"]
            since = page["next"]
            if not page["more"]:
                return found


def _has_points(event: dict) -> bool:
    if event["type"] == "loyalty.adjusted":
        return True
    return bool(event["payload"]["loyalty"])
