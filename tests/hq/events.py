"""Builders for wire-format events (plain JSON-ready dicts, as a till would send)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def envelope(
    terminal_id: str,
    seq: int,
    type_: str,
    payload: dict[str, Any],
    *,
    event_id: uuid.UUID | None = None,
    schema_version: int = 1,
) -> dict[str, Any]:
    return {
        "event_id": str(event_id or uuid.uuid4()),
        "terminal_id": terminal_id,
        "terminal_seq": seq,
        "occurred_at": datetime.now(UTC).isoformat(),
        "schema_version": schema_version,
        "type": type_,
        "payload": payload,
    }


def sale_payload(
    terminal_id: str,
    seq: int,
    *,
    customer_id: uuid.UUID | None = None,
    points: int = 0,
    lines: int = 2,
) -> dict[str, Any]:
    line_rows = [
        {
            "line_no": i + 1,
            "product_id": str(uuid.uuid4()),
            "sku": f"SKU-{i:03d}",
            "name": f"Item {i}",
            "qty": 2,
            "unit_price_cents": 330,
            "discount_cents": 0,
            "total_cents": 660,
            "tax_code": "SR",
        }
        for i in range(lines)
    ]
    total = 660 * lines
    loyalty = (
        [
            {
                "entry_id": str(uuid.uuid4()),
                "customer_id": str(customer_id),
                "points": points,
                "reason": "earn",
            }
        ]
        if customer_id is not None and points
        else []
    )
    return {
        "sale_id": str(uuid.uuid4()),
        "receipt_no": f"{terminal_id}-{seq:06d}",
        "cashier_id": str(uuid.uuid4()),
        "customer_id": str(customer_id) if customer_id else None,
        "lines": line_rows,
        "payments": [
            {
                "payment_id": str(uuid.uuid4()),
                "tender": "nets",
                "amount_cents": total,
                "tendered_cents": total,
            }
        ],
        "loyalty": loyalty,
        "subtotal_cents": total,
        "discount_cents": 0,
        "total_cents": total,
        "tax_cents": total * 9 // 109,
        "gst_rate_bp": 900,
        "rounding_cents": 0,
        "change_cents": 0,
    }


def sale(terminal_id: str, seq: int, **kw: Any) -> dict[str, Any]:
    return envelope(terminal_id, seq, "sale.completed", sale_payload(terminal_id, seq, **kw))


def push_body(terminal_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"terminal_id": terminal_id, "events": events}
