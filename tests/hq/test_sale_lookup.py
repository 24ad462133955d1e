"""``GET /v1/sync/sales/{ref}``: a terminal looks up a synced sale to refund it, on SQLite
and PostgreSQL, against a real ``kedai-hq serve``."""

from __future__ import annotations

import uuid
from typing import Any

from sync.protocol import SaleLookup
from tests.events import envelope, push_body, sale_line, sale_payload
from tests.hq.conftest import Hq


def _push(hq: Hq, token: str, terminal_id: str, events: list[dict]) -> list[str]:
    with hq.client(token) as c:
        r = c.post("/v1/sync/push", json=push_body(terminal_id, events))
    assert r.status_code == 200, r.text
    return [x["status"] for x in r.json()["results"]]


def _refund(
    terminal_id: str, seq: int, sold: dict[str, Any], qty: int, *, points: int, cn: int
) -> dict[str, Any]:
    """A refund of ``qty`` of the sale's line 1 (3.33 each), in cash (rounded to 5 cents),
    taking back ``points`` earned points."""
    total = qty * 333
    rounding = (total + 2) // 5 * 5 - total
    return envelope(
        terminal_id,
        seq,
        "sale.refunded",
        {
            "refund_id": str(uuid.uuid4()),
            "original_sale_id": sold["sale_id"],
            "receipt_no": sold["receipt_no"],
            "cashier_id": sold["cashier_id"],
            "approved_by": None,
            "lines": [sale_line(1, 0, qty=qty, unit_price_cents=333)],
            "payments": [
                {
                    "payment_id": str(uuid.uuid4()),
                    "tender": "cash",
                    "amount_cents": total + rounding,
                    "tendered_cents": total + rounding,
                }
            ],
            "loyalty": [
                {
                    "entry_id": str(uuid.uuid4()),
                    "customer_id": sold["customer_id"],
                    "points": -points,
                    "reason": "refund",
                }
            ],
            "total_cents": total,
            "tax_cents": total * 9 // 109,
            "rounding_cents": rounding,
            "credit_note_no": f"{terminal_id}-CN{cn:06d}",
            "to_cash": True,
        },
    )


def test_a_sale_and_what_every_till_refunded_of_it(hq: Hq) -> None:
    seller, seller_token = hq.enroll()
    other, other_token = hq.enroll(outlet="EAST")  # the chain: another outlet may ask
    customer = uuid.uuid4()
    sold = sale_payload(
        seller,
        1,
        customer_id=customer,
        points=19,
        lines=[sale_line(1, 0, qty=4, unit_price_cents=333), sale_line(2, 1)],
    )
    assert _push(hq, seller_token, seller, [envelope(seller, 1, "sale.completed", sold)]) == [
        "accepted"
    ]
    assert _push(hq, seller_token, seller, [_refund(seller, 2, sold, 1, points=3, cn=1)]) == [
        "accepted"
    ]
    assert _push(hq, other_token, other, [_refund(other, 1, sold, 2, points=6, cn=1)]) == [
        "accepted"
    ]

    with hq.client(other_token) as c:
        found = SaleLookup.model_validate_json(
            c.get(f"/v1/sync/sales/{sold['receipt_no']}").content
        )
        by_id = c.get(f"/v1/sync/sales/{sold['sale_id']}")
        missing = c.get(f"/v1/sync/sales/{seller}-999999")
        refund_row = c.get(f"/v1/sync/sales/{found.refund_ids[0]}")  # a refund is not a sale
        too_long = c.get("/v1/sync/sales/" + "9" * 41)
    with hq.client() as c:
        anonymous = c.get(f"/v1/sync/sales/{sold['receipt_no']}")
    assert SaleLookup.model_validate_json(by_id.content) == found
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert refund_row.status_code == 404
    assert too_long.status_code == 422 and "error" in too_long.json()
    assert anonymous.status_code == 401

    assert found.terminal_id == seller and str(found.customer_id) == str(customer)
    assert [(ln.line_no, ln.qty) for ln in found.lines] == [(1, 4), (2, 2)]
    assert [(r.line_no, r.qty, r.total_cents) for r in found.refunded] == [(1, 3, 999)]
    # Paid out 3.35 + 6.65 in cash; without the rounding (+2, -1) that is the 9.99 refunded.
    assert [(t.tender, t.amount_cents) for t in found.refunded_tenders] == [("cash", 999)]
    assert found.refunded_rounding_cents == 1 and len(found.refund_ids) == 2
    assert found.refunded_tax_cents == 333 * 9 // 109 + 666 * 9 // 109
    assert (found.points_earned, found.points_reversed) == (19, 9)
