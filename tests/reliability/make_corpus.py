# ruff: noqa: E501  (the corpus table reads best one case per line)
"""Write the hostile-push corpus under ``tests/reliability/corpus/`` (run once; kept).

``python -m tests.reliability.make_corpus``. Each file is one case: pushes of events in
which ``{tid}`` / ``{tid2}`` stand for the case's own terminal and a second one, and
``{uuid:NAME}`` for a fresh UUID shared by every use of NAME within the case. The
``expect`` list gives the answer per event ("rejected" events must be quarantined, and
nothing else). ``raw`` cases send a body as is and expect an HTTP status.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).with_name("corpus")


def _sale(seq: int, *, tid: str = "{tid}", key: str | None = None, customer: str | None = None,
          points: int = 0) -> dict[str, Any]:  # fmt: skip
    k = key or f"s{seq}"
    line = {
        "line_no": 1, "product_id": "{uuid:p1}", "sku": "SKU-1", "name": "Item",
        "qty": 2, "unit_price_cents": 330, "discount_cents": 0, "total_cents": 660,
        "tax_code": "SR",
    }  # fmt: skip
    payload = {
        "sale_id": f"{{uuid:{k}}}", "receipt_no": f"{tid}-{seq:06d}",
        "cashier_id": "{uuid:cashier}", "customer_id": customer,
        "lines": [line, {**line, "line_no": 2}],
        "payments": [{"payment_id": f"{{uuid:{k}-pay}}", "tender": "nets",
                      "amount_cents": 1320, "tendered_cents": 1320}],
        "loyalty": [{"entry_id": f"{{uuid:{k}-pts}}", "customer_id": customer,
                     "points": points, "reason": "earn"}] if customer and points else [],
        "subtotal_cents": 1320, "discount_cents": 0, "total_cents": 1320, "tax_cents": 109,
        "gst_rate_bp": 900, "rounding_cents": 0, "change_cents": 0,
    }  # fmt: skip
    return _envelope(seq, "sale.completed", payload, tid=tid, key=f"e-{k}")


def _envelope(seq: Any, type_: str, payload: Any, *, tid: str = "{tid}",
              key: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "event_id": f"{{uuid:{key or f'e{seq}'}}}", "terminal_id": tid, "terminal_seq": seq,
        "occurred_at": "{now}", "schema_version": 1, "type": type_, "payload": payload,
    }  # fmt: skip


def _adjust(seq: int, customer: str, points: int) -> dict[str, Any]:
    delta = {"entry_id": f"{{uuid:adj{seq}}}", "customer_id": customer, "points": points,
             "reason": "adjust"}  # fmt: skip
    return _envelope(seq, "loyalty.adjusted", {"delta": delta})


def _between(name: str, why: str, mutate: Any) -> dict[str, Any]:
    """A bad event between two good ones: refused alone, the next one still applied."""
    bad = _sale(2)
    mutate(bad)
    return {"name": name, "why": why, "pushes": [[_sale(1), bad, _sale(3)]],
            "expect": [["accepted", "rejected", "accepted"]]}  # fmt: skip


def cases() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def pay(e: dict[str, Any]) -> dict[str, Any]:
        return e["payload"]["payments"][0]  # type: ignore[no-any-return]

    def line(e: dict[str, Any]) -> dict[str, Any]:
        return e["payload"]["lines"][0]  # type: ignore[no-any-return]

    mutations: list[tuple[str, str, Any]] = [
        ("seq-2-63", "beyond BIGINT", lambda e: e.update(terminal_seq=2**63)),
        ("seq-10-30", "beyond any integer column", lambda e: e.update(terminal_seq=10**30)),
        ("seq-float-fraction", "not an integer", lambda e: e.update(terminal_seq=2.5)),
        ("seq-string", "a string", lambda e: e.update(terminal_seq="2")),
        ("line-no-2-40", "beyond INTEGER", lambda e: line(e).update(line_no=2**40)),
        ("qty-2-40", "beyond INTEGER", lambda e: line(e).update(qty=2**40)),
        ("cents-10-13", "beyond the wire bound", lambda e: e["payload"].update(total_cents=10**13)),
        ("gst-rate-huge", "beyond INTEGER", lambda e: e["payload"].update(gst_rate_bp=10**12)),
        ("year-1-offset", "overflows on UTC", lambda e: e.update(occurred_at="0001-01-01T00:00:00+01:00")),
        ("year-9999-offset", "overflows on UTC", lambda e: e.update(occurred_at="9999-12-31T23:59:59-01:00")),
        ("occurred-at-0", "a number is not a date-time", lambda e: e.update(occurred_at=0)),
        ("occurred-at-garbage", "not a date", lambda e: e.update(occurred_at="yesterday")),
        ("nul-in-name", "no store holds NUL", lambda e: line(e).update(name="a\u0000b")),
        ("name-100k", "unbounded text", lambda e: line(e).update(name="n" * 100_000)),
        ("sku-65", "longer than the column", lambda e: line(e).update(sku="s" * 65)),
        ("receipt-41", "longer than the column", lambda e: e["payload"].update(receipt_no="r" * 41)),
        ("reference-101", "longer than the column", lambda e: pay(e).update(reference="r" * 101)),
        ("nested-payload", "deep nesting in a payload", lambda e: e["payload"].update(deep=_deep(60))),
        ("unknown-type-deep", "deep nesting, unknown type", lambda e: e.update(type="x.y", payload={"d": _deep(60)})),
        ("schema-2-40", "beyond INTEGER", lambda e: e.update(schema_version=2**40)),
        ("schema-99", "a future schema", lambda e: e.update(schema_version=99)),
        ("type-10k", "unbounded text", lambda e: e.update(type="t" * 10_000)),
        ("extra-field", "closed models", lambda e: e["payload"].update(surprise=True)),
        ("float-cents", "cents are integers", lambda e: e["payload"].update(total_cents=13.2)),
        ("total-negative", "HQ recomputes sums", lambda e: e["payload"].update(total_cents=-(10**12))),
        ("subtotal-off", "HQ recomputes sums", lambda e: e["payload"].update(subtotal_cents=1)),
        ("line-total-off", "HQ recomputes sums", lambda e: line(e).update(total_cents=1)),
        ("discount-over-line", "HQ recomputes sums", lambda e: line(e).update(discount_cents=10_000, total_cents=-9340)),
        ("gst-missing", "GST at the effective rate", lambda e: e["payload"].update(tax_cents=0)),
        ("gst-rate-wrong", "GST at the effective rate", lambda e: e["payload"].update(gst_rate_bp=100)),
        ("rounding-on-card", "only cash rounds", lambda e: e["payload"].update(rounding_cents=2)),
        ("change-on-card", "only cash gives change", lambda e: (pay(e).update(tendered_cents=2000), e["payload"].update(change_cents=680))),
        ("short-paid", "tenders cover the total", lambda e: pay(e).update(amount_cents=1000, tendered_cents=1000)),
        ("duplicate-line-no", "line_no unique", lambda e: e["payload"]["lines"][1].update(line_no=1)),
        ("foreign-receipt", "receipts are the terminal's", lambda e: e["payload"].update(receipt_no="OTHER-T01-000002")),
        ("points-no-customer", "points need a member", lambda e: e["payload"].update(loyalty=[{"entry_id": "{uuid:x}", "customer_id": "{uuid:m}", "points": 5, "reason": "earn"}])),
        ("earn-too-much", "points within rules", lambda e: e["payload"].update(customer_id="{uuid:m}", loyalty=[{"entry_id": "{uuid:x}", "customer_id": "{uuid:m}", "points": 10**6, "reason": "earn"}])),
        ("same-payment-twice", "ids unique", lambda e: e["payload"].update(payments=[{**pay(e), "amount_cents": 660, "tendered_cents": 660}] * 2)),
    ]  # fmt: skip
    for name, why, mutate in mutations:
        out.append(_between(name, why, mutate))

    out.append({
        "name": "loyalty-past-bound", "why": "one till once broke the feed for all",
        "pushes": [[_adjust(1, "{uuid:m}", 10**12), _adjust(2, "{uuid:m}", 10**12),
                    _adjust(3, "{uuid:m}", -(10**12)), _adjust(4, "{uuid:m}", -(10**12)),
                    _adjust(5, "{uuid:m}", 7)]],
        "expect": [["rejected", "rejected", "rejected", "rejected", "accepted"]],
    })  # fmt: skip
    out.append({
        "name": "customer-extremes", "why": "names the feed must carry",
        "pushes": [[
            _envelope(1, "customer.created", {"customer_id": "{uuid:c1}", "name": "名" * 200, "phone": "9" * 32}),
            _envelope(2, "customer.created", {"customer_id": "{uuid:c2}", "name": "n" * 201, "phone": None}),
            _envelope(3, "customer.created", {"customer_id": "{uuid:c3}", "name": "\U0001f600" * 200, "phone": None, "email": "e" * 200}),
            _envelope(4, "customer.created", {"customer_id": "{uuid:c1}", "name": "again", "phone": None}),
        ]],
        "expect": [["accepted", "rejected", "accepted", "rejected"]],
    })  # fmt: skip
    out.append({
        "name": "replayed-batch", "why": "a resend is a duplicate, never a second fact",
        "pushes": [[_sale(1), _sale(2)], [_sale(1), _sale(2)]],
        "expect": [["accepted", "accepted"], ["duplicate", "duplicate"]],
    })  # fmt: skip
    out.append({
        "name": "seq-reused", "why": "a new event on a held seq",
        "pushes": [[_sale(1)], [_sale(1, key="other")]],
        "expect": [["accepted"], ["rejected"]],
    })  # fmt: skip
    stolen = _sale(1, tid="{tid2}", key="theirs")
    mine = _sale(1, key="mine")
    mine["payload"]["sale_id"] = "{uuid:theirs}"
    out.append({
        "name": "sale-id-from-another-terminal", "why": "never merged into their sale",
        "other": [stolen], "pushes": [[mine, _sale(2)]], "expect": [["rejected", "accepted"]],
    })  # fmt: skip
    same_batch = _sale(2)
    same_batch["payload"]["sale_id"] = "{uuid:s1}"
    out.append({
        "name": "sale-id-twice-in-batch", "why": "the second is refused",
        "pushes": [[_sale(1), same_batch]], "expect": [["accepted", "rejected"]],
    })  # fmt: skip
    raw: list[tuple[str, str, str, int]] = [
        ("raw-not-json", "not JSON at all", '{"terminal_id": "{tid}", "events": [', 400),
        ("raw-nested-100k", "parse with limits", '{"terminal_id": "{tid}", "events": ' + "[" * 100_000, 400),
        ("raw-nan", "no NaN in JSON", '{"terminal_id": "{tid}", "events": [NaN]}', 400),
        ("raw-no-events", "the request itself", '{"terminal_id": "{tid}"}', 422),
        ("raw-event-not-object", "the request itself", '{"terminal_id": "{tid}", "events": [1]}', 422),
        ("raw-no-event-id", "nothing to answer it by", '{"terminal_id": "{tid}", "events": [{"terminal_seq": 1}]}', 422),
        ("raw-foreign-terminal", "a token pushing another terminal's events", '{"terminal_id": "{tid2}", "events": []}', 403),
        ("raw-lone-surrogate", "not UTF-8", '{"terminal_id": "\\ud800", "events": []}', 400),
    ]  # fmt: skip
    for name, why, body, status in raw:
        out.append({"name": name, "why": why, "raw": body, "status": status})
    out.append({"name": "raw-too-many", "why": "bounded batches", "raw_events": 501, "status": 422})
    out.append({"name": "raw-gzip-bomb", "why": "bounded after decompression", "gzip_bomb": True,
                "status": 413})  # fmt: skip
    return out


def _deep(n: int) -> Any:
    node: Any = 1
    for _ in range(n):
        node = {"d": node}
    return node


def main() -> None:
    CORPUS.mkdir(exist_ok=True)
    for old in CORPUS.glob("*.json"):
        old.unlink()
    for case in cases():
        path = CORPUS / f"{case['name']}.json"
        path.write_text(json.dumps(copy.deepcopy(case), ensure_ascii=False, indent=1) + "\n")
    print(f"{len(cases())} cases in {CORPUS}")


if __name__ == "__main__":
    main()
