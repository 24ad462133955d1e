"""Wire-format events as a till would send them (plain JSON-ready dicts): the one builder
for HQ's tests, the sync tests and the ingest benchmark.

A sale's arithmetic always adds up (lines, total, GST at 9/109, tenders), so HQ accepts
it unless a test breaks it on purpose.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
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
    occurred_at: str | None = None,
) -> dict[str, Any]:
    return {
        "event_id": str(event_id or uuid.uuid4()),
        "terminal_id": terminal_id,
        "terminal_seq": seq,
        "occurred_at": occurred_at or datetime.now(UTC).isoformat(),
        "schema_version": schema_version,
        "type": type_,
        "payload": payload,
    }


def sale_line(
    line_no: int, product: int, *, qty: int = 2, unit_price_cents: int = 330, name: str = "Item"
) -> dict[str, Any]:
    """One line of product number ``product`` (its id is derived from the number)."""
    return {
        "line_no": line_no,
        "product_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"p{product}")),
        "sku": f"SKU-{product:03d}",
        "name": f"{name} {product}",
        "qty": qty,
        "unit_price_cents": unit_price_cents,
        "discount_cents": 0,
        "total_cents": qty * unit_price_cents,
        "tax_code": "SR",
    }


def sale_payload(
    terminal_id: str,
    seq: int,
    *,
    customer_id: uuid.UUID | None = None,
    points: int = 0,
    lines: int | Sequence[dict[str, Any]] = 2,
    cashier_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """A card (NETS) sale; ``lines`` is a count of identical lines or the lines themselves."""
    rows = [sale_line(i + 1, i) for i in range(lines)] if isinstance(lines, int) else list(lines)
    total = sum(row["total_cents"] for row in rows)
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
        "cashier_id": str(cashier_id or uuid.uuid4()),
        "customer_id": str(customer_id) if customer_id else None,
        "lines": rows,
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


def sale(
    terminal_id: str, seq: int, *, occurred_at: str | None = None, **kw: Any
) -> dict[str, Any]:
    payload = sale_payload(terminal_id, seq, **kw)
    return envelope(terminal_id, seq, "sale.completed", payload, occurred_at=occurred_at)


def push_body(terminal_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"terminal_id": terminal_id, "events": events}


def grocery_sales(
    terminal_id: str, first_seq: int, n: int, customers: Sequence[uuid.UUID]
) -> list[dict[str, Any]]:
    """``n`` three-line sales from a 60-product range, every other one earning points for
    a customer (the ingest benchmark's workload)."""
    now = datetime.now(UTC).isoformat()
    out = []
    for seq in range(first_seq, first_seq + n):
        customer = customers[seq % len(customers)] if seq % 2 else None
        lines = [
            sale_line(
                i + 1,
                (seq + i) % 60,
                qty=1 + i,
                unit_price_cents=330 + 10 * i,
                name="Grocery item",
            )
            for i in range(3)
        ]
        total = sum(line["total_cents"] for line in lines)
        points = total // 100 if customer else 0
        out.append(
            sale(
                terminal_id,
                seq,
                occurred_at=now,
                customer_id=customer,
                points=points,
                lines=lines,
                cashier_id=customers[0],
            )
        )
    return out
