"""Reading push bodies: the one-pass typed read agrees with the per-event read."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.exceptions import RequestValidationError

from hq import wire
from sync import protocol as p
from tests.events import envelope, push_body, sale


def _body(events: list[dict]) -> bytes:
    return json.dumps(push_body("TST-T1", events)).encode()


def _refund(seq: int) -> dict:
    return envelope(
        "TST-T1",
        seq,
        "sale.refunded",
        {
            "refund_id": str(uuid.uuid4()),
            "original_sale_id": str(uuid.uuid4()),
            "receipt_no": f"TST-T1-{seq:06d}",
            "cashier_id": str(uuid.uuid4()),
            "approved_by": None,
            "lines": sale("TST-T1", seq)["payload"]["lines"],
            "payments": sale("TST-T1", seq)["payload"]["payments"],
            "total_cents": 1320,
            "tax_cents": 109,
        },
    )


def test_typed_read_matches_the_per_event_read() -> None:
    events = [sale("TST-T1", 1, customer_id=uuid.uuid4(), points=3), _refund(2), sale("TST-T1", 3)]
    body = _body(events)
    fast = wire.read_push(body)
    slow = wire._read_each(body)
    assert fast == slow
    assert [type(e.payload) for e in fast.events] == [p.SaleCompleted, p.SaleRefunded] + [
        p.SaleCompleted
    ]
    assert fast.events[1].payload.reason == ""  # defaults filled in, as per event


def test_one_bad_payload_is_refused_alone_with_its_reason() -> None:
    bad_cents = sale("TST-T1", 2)
    bad_cents["payload"]["total_cents"] = 19.8
    string_cents = sale("TST-T1", 3)
    string_cents["payload"]["tax_cents"] = "109"
    future = envelope("TST-T1", 4, "sale.completed", {"anything": 1}, schema_version=2)
    push = wire.read_push(_body([sale("TST-T1", 1), bad_cents, string_cents, future]))
    first, *refused = push.events
    assert isinstance(first.payload, p.SaleCompleted)
    assert all(isinstance(e.payload, wire.Refused) for e in refused)
    reasons = [e.payload.reason for e in refused if isinstance(e.payload, wire.Refused)]
    assert "total_cents" in reasons[0] and "tax_cents" in reasons[1]
    assert reasons[2] == "unsupported schema_version 2"
    assert refused[0].raw()["payload"]["total_cents"] == 19.8  # kept as it came


def test_a_valid_payload_of_a_future_schema_version_is_still_refused() -> None:
    event = sale("TST-T1", 1)
    event["schema_version"] = 2  # the payload would pass v1's model
    (only,) = wire.read_push(_body([event])).events
    assert isinstance(only.payload, wire.Refused)


def test_uuid_spellings_are_read_to_the_same_uuid() -> None:
    event = sale("TST-T1", 1)
    sale_id = uuid.UUID(event["payload"]["sale_id"])
    event["payload"]["sale_id"] = str(sale_id).upper()
    event["event_id"] = event["event_id"].replace("-", "")
    (only,) = wire.read_push(_body([event])).events
    assert isinstance(only.payload, p.SaleCompleted)
    assert only.payload.sale_id == sale_id
    assert json.loads(only.payload.model_dump_json())["sale_id"] == str(sale_id)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b'{"terminal_id": "x", "events": [', "json_invalid"),
        (_body([sale("TST-T1", 1)] * (p.MAX_PUSH_EVENTS + 1)), "too_long"),
        (_body([{**sale("TST-T1", 1), "event_id": 7}]), "uuid_parsing"),
        (json.dumps({"events": []}).encode(), "missing"),
        (b"[" * 5000 + b"]" * 5000, "json_invalid"),
    ],
    ids=["bad-json", "too-many", "event-id-not-uuid", "no-terminal", "nested-too-deep"],
)
def test_a_bad_request_raises_a_request_validation_error(body: bytes, kind: str) -> None:
    with pytest.raises(RequestValidationError) as caught:
        wire.read_push(body)
    (error, *_) = caught.value.errors()
    assert error["type"] == kind
    assert error["loc"][0] == "body"


def test_the_openapi_request_schema_is_self_contained() -> None:
    schema = wire.push_request_schema()["content"]["application/json"]["schema"]
    assert "$ref" not in json.dumps(schema)
    items = schema["properties"]["events"]["items"]
    assert items["required"] == ["event_id"] and items["additionalProperties"] is True
    assert set(items["x-kedai-envelope"]["properties"]) == set(p.EventEnvelope.model_fields)
