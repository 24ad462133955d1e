"""What one till (or anyone holding its token) sends cannot hurt HQ or the other tills.

Each test here is one finding of the hostile-input probe: every bad event is refused
alone, with a reason, and quarantined; the events after it still flow; HQ never answers
5xx; and the change feed keeps answering every till.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from sync import protocol as p
from tests.events import envelope, push_body, sale
from tests.hq.conftest import Hq


def _push(hq: Hq, token: str, tid: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    with hq.client(token) as c:
        r = c.post("/v1/sync/push", json=push_body(tid, events))
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def _results(answer: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(r["status"], r.get("reason")) for r in answer["results"]]


def _feed_ok(hq: Hq, token: str) -> int:
    """Pull the whole feed as ``token``'s till; every page 200 and valid. Changes seen."""
    since, seen = 0, 0
    with hq.client(token) as c:
        for _ in range(10_000):
            r = c.get("/v1/sync/changes", params={"since": since, "limit": 1000})
            assert r.status_code == 200, r.text
            page = p.ChangePage.model_validate_json(r.content)
            seen += len(page.changes)
            since = page.next
            if not page.more:
                return seen
    raise AssertionError("feed never ended")


def _adjust(tid: str, seq: int, customer: uuid.UUID, points: int) -> dict[str, Any]:
    return envelope(
        tid,
        seq,
        "loyalty.adjusted",
        {
            "delta": {
                "entry_id": str(uuid.uuid4()),
                "customer_id": str(customer),
                "points": points,
                "reason": "adjust",
            }
        },
    )


def _quarantined(hq: Hq, tid: str) -> int:
    return int(hq.scalar("SELECT count(*) FROM quarantine WHERE terminal_id = :t", t=tid))


# ------------------------------------------------------ one till breaks the feed for all


def test_loyalty_past_the_wire_bound_is_refused_and_the_feed_stays_up(
    hq: Hq, terminal: tuple[str, str]
) -> None:
    tid, token = terminal
    member = uuid.uuid4()
    big = p.WIRE_MAX_CENTS
    events = [
        _adjust(tid, 1, member, big),
        _adjust(tid, 2, member, big),
        _adjust(tid, 3, member, 5),
    ]
    answer = _push(hq, token, tid, events)
    statuses = [s for s, _ in _results(answer)]
    assert statuses.count("accepted") <= 2 and "rejected" in statuses[:2]
    assert statuses[2] == "accepted"
    reasons = [r for s, r in _results(answer) if s == "rejected"]
    assert all("loyalty balance" in (r or "") for r in reasons)
    _, newcomer = hq.enroll()
    assert _feed_ok(hq, newcomer) > 0
    assert _feed_ok(hq, token) > 0


def test_every_extreme_loyalty_and_customer_event_leaves_the_feed_answering(
    hq: Hq, terminal: tuple[str, str]
) -> None:
    tid, token = terminal
    members = [uuid.uuid4() for _ in range(3)]
    events: list[dict[str, Any]] = []
    seq = 0

    def add(type_: str, payload: dict[str, Any]) -> None:
        nonlocal seq
        seq += 1
        events.append(envelope(tid, seq, type_, payload))

    names = ["", "x" * 200, "x" * 201, "名" * 200, "\U0001f600" * 200, "a\x00b", "\u202e" * 10]
    for member, name in zip(members * 3, names, strict=False):
        add("customer.created", {"customer_id": str(member), "name": name, "phone": "9" * 32})
    add("customer.created", {"customer_id": str(uuid.uuid4()), "name": "n", "phone": "9" * 33})
    add("customer.created", {"customer_id": str(uuid.uuid4()), "name": "n", "email": "e" * 201})
    for member in members:
        for points in (p.WIRE_MAX_CENTS, -p.WIRE_MAX_CENTS, p.WIRE_MAX_CENTS + 1, 2**63, -(2**63)):
            for _ in range(2):
                add(
                    "loyalty.adjusted",
                    {
                        "delta": {
                            "entry_id": str(uuid.uuid4()),
                            "customer_id": str(member),
                            "points": points,
                            "reason": "adjust",
                        }
                    },
                )
    answer = _push(hq, token, tid, events)
    assert len(answer["results"]) == len(events)
    assert answer["contiguous_seq"] == seq  # every bad event is held, none blocks
    _, newcomer = hq.enroll()
    _feed_ok(hq, newcomer)
    _feed_ok(hq, token)
    for member in members:
        db_id = member.hex if hq.backend == "sqlite" else member
        balance = hq.scalar("SELECT loyalty_balance FROM customers WHERE customer_id = :c", c=db_id)
        assert balance is None or abs(balance) <= p.WIRE_MAX_CENTS


# ------------------------------------------------ bad events once failed the whole push


def _bad_sale(tid: str, seq: int, mutate: Any) -> dict[str, Any]:
    event = sale(tid, seq)
    mutate(event)
    return event


HOSTILE: dict[str, Any] = {
    "seq-beyond-bigint": lambda e: e.update(terminal_seq=2**63),
    "seq-beyond-json": lambda e: e.update(terminal_seq=10**30),
    "line-no-beyond-int": lambda e: e["payload"]["lines"][0].update(line_no=2**40),
    "gst-rate-beyond-int": lambda e: e["payload"].update(gst_rate_bp=10**12),
    "year-1-with-offset": lambda e: e.update(occurred_at="0001-01-01T00:00:00+01:00"),
    "year-9999-with-offset": lambda e: e.update(occurred_at="9999-12-31T23:59:59-01:00"),
    "shift-at-year-9999": lambda e: e.update(
        type="shift.closed",
        payload={
            "shift_id": str(uuid.uuid4()),
            "cashier_id": str(uuid.uuid4()),
            "opened_at": "0001-01-01T00:00:00+01:00",
            "closed_at": "9999-12-31T23:59:59-01:00",
            "opening_float_cents": 0,
            "expected_cash_cents": 0,
            "counted_cash_cents": 0,
            "sales_count": 0,
            "sales_total_cents": 0,
        },
    ),  # fmt: skip
    "occurred-at-zero": lambda e: e.update(occurred_at=0),
    "nul-in-name": lambda e: e["payload"]["lines"][0].update(name="bad\x00name"),
    "huge-name": lambda e: e["payload"]["lines"][0].update(name="n" * 100_000),
    "receipt-too-long": lambda e: e["payload"].update(receipt_no="r" * 41),
    "reference-too-long": lambda e: e["payload"]["payments"][0].update(reference="r" * 101),
    "schema-version-huge": lambda e: e.update(schema_version=2**40),
    "type-too-long": lambda e: e.update(type="t" * 10_000),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_event_is_quarantined_alone_and_later_events_flow(
    hq: Hq, terminal: tuple[str, str], case: str
) -> None:
    tid, token = terminal
    bad = _bad_sale(tid, 2, HOSTILE[case])
    answer = _push(hq, token, tid, [sale(tid, 1), bad, sale(tid, 3)])
    statuses = [s for s, _ in _results(answer)]
    assert statuses == ["accepted", "rejected", "accepted"], answer
    assert _quarantined(hq, tid) == 1
    assert hq.scalar("SELECT count(*) FROM sales WHERE terminal_id = :t", t=tid) == 2
    # Resent (its answer was lost): refused again with its reason, never a 5xx.
    again = _push(hq, token, tid, [bad])
    assert [s for s, _ in _results(again)] == ["rejected"]


def test_deep_nesting_is_refused_without_a_server_error(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    deep: Any = 1
    for _ in range(60):
        deep = {"d": deep}
    nested = envelope(tid, 2, "sale.teleported", {"deep": deep})
    answer = _push(hq, token, tid, [sale(tid, 1), nested, sale(tid, 3)])
    assert [s for s, _ in _results(answer)] == ["accepted", "rejected", "accepted"]
    body = b'{"terminal_id": "' + tid.encode() + b'", "events": [' + b"[" * 100_000
    with hq.client(token) as c:
        r = c.post("/v1/sync/push", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"


def test_a_cursor_beyond_any_seq_is_a_4xx(hq: Hq, terminal: tuple[str, str]) -> None:
    _, token = terminal
    with hq.client(token) as c:
        for since in (2**63, 10**30, -1):
            r = c.get("/v1/sync/changes", params={"since": since})
            assert r.status_code == 422, r.text
            assert r.json()["error"]["code"] == "validation_error"


def test_connection_survives_a_refused_event(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    bad = _bad_sale(tid, 1, HOSTILE["seq-beyond-bigint"])
    with httpx.Client(base_url=hq.base_url, headers={"Authorization": f"Bearer {token}"}) as c:
        first = c.post("/v1/sync/push", json=push_body(tid, [bad]))
        assert first.status_code == 200
        assert first.headers.get("connection", "").lower() != "close"
        assert c.post("/v1/sync/push", json=push_body(tid, [sale(tid, 1)])).status_code == 200


# ----------------------------------------------------------- HQ trusts the till's sums


def _sale_with(tid: str, seq: int, **changes: Any) -> dict[str, Any]:
    event = sale(tid, seq)
    event["payload"].update(changes)
    return event


def test_sale_arithmetic_is_recomputed_by_hq(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    lines_wrong = sale(tid, 7)
    lines_wrong["payload"]["lines"][0]["total_cents"] = 1
    no_change_on_card = sale(tid, 8)
    no_change_on_card["payload"]["payments"][0]["tendered_cents"] += 500
    no_change_on_card["payload"]["change_cents"] = 500
    wrong = [
        _sale_with(tid, 1, total_cents=-(10**12)),  # total below zero, subtotal off
        _sale_with(tid, 2, subtotal_cents=1),
        _sale_with(tid, 3, tax_cents=0),  # GST missing from a standard-rated sale
        _sale_with(tid, 4, gst_rate_bp=100),
        _sale_with(tid, 5, rounding_cents=3),  # no cash: no rounding
        _sale_with(tid, 6, change_cents=100),
        lines_wrong,
        no_change_on_card,
    ]
    short = sale(tid, 9)
    short["payload"]["payments"][0]["amount_cents"] -= 1
    short["payload"]["payments"][0]["tendered_cents"] -= 1
    wrong.append(short)
    good = sale(tid, 10)
    answer = _push(hq, token, tid, [*wrong, good])
    results = _results(answer)
    assert [s for s, _ in results] == ["rejected"] * len(wrong) + ["accepted"], results
    assert all(reason for _, reason in results[:-1])
    assert hq.scalar("SELECT count(*) FROM sales WHERE terminal_id = :t", t=tid) == 1
    assert hq.scalar("SELECT min(total_cents) FROM sales WHERE terminal_id = :t", t=tid) >= 0


def test_a_cash_sale_with_rounding_and_change_is_accepted(
    hq: Hq, terminal: tuple[str, str]
) -> None:
    tid, token = terminal
    event = sale(tid, 1, lines=1)  # 660 cents; make it 659 so cash rounds to 660
    payload = event["payload"]
    payload["lines"][0].update(unit_price_cents=659, qty=1, total_cents=659)
    payload.update(subtotal_cents=659, total_cents=659, tax_cents=54, rounding_cents=1)
    payload["payments"] = [
        {"payment_id": str(uuid.uuid4()), "tender": "cash", "amount_cents": 660,
         "tendered_cents": 1000},
    ]  # fmt: skip
    payload["change_cents"] = 340
    assert _results(_push(hq, token, tid, [event])) == [("accepted", None)]


def test_duplicate_line_no_is_refused_not_silently_merged(
    hq: Hq, terminal: tuple[str, str]
) -> None:
    tid, token = terminal
    event = sale(tid, 1, lines=2)
    event["payload"]["lines"][1]["line_no"] = 1
    answer = _push(hq, token, tid, [event])
    [(status, reason)] = _results(answer)
    assert status == "rejected" and "line_no 1" in (reason or "")
    assert hq.scalar("SELECT count(*) FROM sale_lines") is not None
    assert hq.scalar("SELECT count(*) FROM sales WHERE terminal_id = :t", t=tid) == 0


def test_a_sale_id_reused_by_another_terminal_is_quarantined_not_merged(hq: Hq) -> None:
    tid_a, token_a = hq.enroll()
    tid_b, token_b = hq.enroll()
    original = sale(tid_a, 1)
    assert _results(_push(hq, token_a, tid_a, [original])) == [("accepted", None)]
    copycat = sale(tid_b, 1)
    copycat["payload"]["sale_id"] = original["payload"]["sale_id"]
    [(status, reason)] = _results(_push(hq, token_b, tid_b, [copycat]))
    assert status == "rejected" and "already held" in (reason or "")
    sale_id = uuid.UUID(original["payload"]["sale_id"])
    db_id = sale_id.hex if hq.backend == "sqlite" else sale_id
    assert hq.scalar("SELECT count(*) FROM payments WHERE sale_id = :s", s=db_id) == 1
    assert hq.scalar("SELECT terminal_id FROM sales WHERE sale_id = :s", s=db_id) == tid_a
    # Ids shared between types (a payment id reused as a loyalty entry id) likewise.
    reuse = sale(tid_b, 2, customer_id=uuid.uuid4(), points=1)
    reuse["payload"]["payments"][0]["payment_id"] = original["payload"]["payments"][0]["payment_id"]
    assert [s for s, _ in _results(_push(hq, token_b, tid_b, [reuse]))] == ["rejected"]


def test_the_same_new_id_twice_in_one_batch_keeps_only_the_first(
    hq: Hq, terminal: tuple[str, str]
) -> None:
    tid, token = terminal
    first = sale(tid, 1)
    second = copy.deepcopy(sale(tid, 2))
    second["payload"]["sale_id"] = first["payload"]["sale_id"]
    answer = _push(hq, token, tid, [first, second])
    assert [s for s, _ in _results(answer)] == ["accepted", "rejected"]


def test_text_fields_are_bounded(hq: Hq, terminal: tuple[str, str]) -> None:
    tid, token = terminal
    member = uuid.uuid4()
    huge = envelope(tid, 1, "customer.created", {"customer_id": str(member), "name": "n" * 300_000})
    answer = _push(hq, token, tid, [huge])
    assert [s for s, _ in _results(answer)] == ["rejected"]


# ----------------------------------------------------------------- schema and validator


def test_integral_seq_is_an_integer_and_a_number_is_not_a_date(
    hq: Hq, terminal: tuple[str, str]
) -> None:
    tid, token = terminal
    as_float = sale(tid, 1)
    body = json.dumps(push_body(tid, [as_float])).replace(
        '"terminal_seq": 1,', '"terminal_seq": 1.0,'
    )
    assert '"terminal_seq": 1.0' in body
    with hq.client(token) as c:
        r = c.post("/v1/sync/push", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "accepted", r.text
    epoch = sale(tid, 2)
    epoch["occurred_at"] = 0
    assert [s for s, _ in _results(_push(hq, token, tid, [epoch]))] == ["rejected"]


def test_a_far_off_clock_is_flagged_and_its_facts_dated_by_hq(
    hq: Hq, terminal: tuple[str, str]
) -> None:
    tid, token = terminal
    future = sale(tid, 1)
    future["occurred_at"] = "2999-01-01T00:00:00+00:00"
    past = sale(tid, 2)
    past["occurred_at"] = "1970-01-01T00:00:00Z"  # a flat RTC battery
    assert _results(_push(hq, token, tid, [future, past])) == [("accepted", None)] * 2
    assert hq.scalar("SELECT count(*) FROM events WHERE terminal_id = :t AND clock_off", t=tid) == 2
    for year in (2999, 1970):
        dated = (
            "SELECT count(*) FROM sales WHERE terminal_id = :t"
            " AND occurred_at >= :start AND occurred_at < :end"
        )
        start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
        if hq.backend == "sqlite":
            start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)  # type: ignore[assignment]
        assert hq.scalar(dated, t=tid, start=start, end=end) == 0
