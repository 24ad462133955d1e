"""Returns of a sale made at another till: HQ's sale lookup, the refund from it, and the
manual return when HQ cannot be asked. Real HQ app in-process, real till files."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from hq import enroll as hq_enroll
from sync import demo_data
from sync.agent import SyncAgent, SyncTransportError, enroll
from sync.protocol import SaleLookup
from terminal.db.engine import Database, open_database
from terminal.services.cashiers import approve
from terminal.services.checkout import finalize_sale
from terminal.services.errors import ApprovalRequired, RefundError
from terminal.services.returns import hq_sale_view, manual_return, refund_hq_sale
from terminal.services.schemas import (
    CartItemIn,
    CheckoutRequest,
    ManualReturnLineIn,
    ManualReturnRequest,
    RefundLineIn,
    RefundRequest,
    TenderIn,
)
from terminal.services.sync_store import TillSyncStore
from tests.sync.conftest import OTHER_TERMINAL, TERMINAL, URL, LocalHq, make_agent

PRODUCTS = {p.sku: p for p in demo_data.demo_products()}
KOPI = PRODUCTS["KOPI-001"]  # S$3.30 SR
STAMP = PRODUCTS["STAMP-10"]  # S$5.00 ES
CASHIER = demo_data.demo_cashiers()[0].cashier_id
TABLES = ("refunds", "refund_lines", "refund_payments", "loyalty_ledger", "outbox", "stock")


def snapshot(db: Database) -> dict[str, list[tuple]]:
    with closing(sqlite3.connect(db.path)) as c:
        return {t: sorted(c.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}


def stock(db: Database, product_id: uuid.UUID) -> int:
    with closing(sqlite3.connect(db.path)) as c:
        row = c.execute("SELECT on_hand FROM stock WHERE product_id = ?", (product_id.hex,))
        found = row.fetchone()
    return found[0] if found else 0


@pytest.fixture
async def other_till(tmp_path: Path, hq: LocalHq, till_template: Path) -> AsyncIterator[Database]:
    """A second till, DEMO-T02, enrolled with the same HQ."""
    path = tmp_path / "other.db"
    shutil.copyfile(till_template, path)
    db = open_database(path)
    await enroll(
        TillSyncStore(db), server=URL, token=hq.tokens[OTHER_TERMINAL], transport=hq.transport
    )
    try:
        yield db
    finally:
        await db.dispose()


async def sell(db: Database) -> str:
    receipt = await finalize_sale(
        db,
        CheckoutRequest(
            cashier_id=CASHIER,
            items=[
                CartItemIn(product_id=KOPI.product_id, qty=3),
                CartItemIn(product_id=STAMP.product_id, qty=1),
            ],
            tenders=[TenderIn(kind="card", amount_cents=3 * 330 + 500)],
        ),
    )
    return receipt.receipt_no


async def sync(db: Database, hq: LocalHq) -> None:
    agent = make_agent(db, hq)
    try:
        await agent.sync_once()
    finally:
        await agent.aclose()


async def ask(hq: LocalHq, terminal: str | None, ref: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {hq.tokens[terminal]}"} if terminal else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=hq.app), base_url=URL) as c:
        return await c.get(f"/v1/sync/sales/{ref}", headers=headers)


async def manager_ok(db: Database, action: str = "refund") -> list:
    granted = await approve(db, "9999", action=action, cashier_id=CASHIER)  # type: ignore[arg-type]
    return [granted.as_approval()]


# ------------------------------------------------------------------------ HQ lookup


async def test_hq_looks_a_sale_up_for_any_terminal_of_the_chain(
    till: Database, hq: LocalHq
) -> None:
    number = await sell(till)
    await sync(till, hq)

    assert (await ask(hq, None, number)).status_code == 401
    missing = await ask(hq, OTHER_TERMINAL, "DEMO-T01-999999")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert (await ask(hq, OTHER_TERMINAL, str(uuid.uuid4()))).status_code == 404
    for bad in ("x" * 41, "DEMO%20T01", "a%2Fb"):
        answer = await ask(hq, OTHER_TERMINAL, bad)
        assert answer.status_code in (404, 422) and "error" in answer.json(), bad

    found = SaleLookup.model_validate_json((await ask(hq, OTHER_TERMINAL, number)).content)
    assert found.receipt_no == number and found.terminal_id == TERMINAL
    assert [(ln.sku, ln.qty) for ln in found.lines] == [("KOPI-001", 3), ("STAMP-10", 1)]
    assert [p.tender for p in found.payments] == ["card"] and found.refunded == []
    by_id = await ask(hq, OTHER_TERMINAL, str(found.sale_id))
    assert SaleLookup.model_validate_json(by_id.content) == found

    # Scope is the chain: a terminal of another outlet sees it too.
    async with hq.db.sessions() as s, s.begin():
        east = await hq_enroll.enroll_terminal(session=s, outlet_code="EAST", terminal_code="T01")
    hq.tokens[east.terminal_id] = east.token
    assert (await ask(hq, east.terminal_id, number.lower())).status_code == 200


async def test_a_refund_at_another_till_from_hqs_copy_and_the_over_refund_hq_catches(
    till: Database, other_till: Database, hq: LocalHq
) -> None:
    number = await sell(till)
    await sync(till, hq)
    agent = make_agent(other_till, hq)
    try:
        sale = await agent.lookup_sale(number)
        assert sale is not None
        assert await agent.lookup_sale("DEMO-T01-999999") is None
        before = stock(other_till, KOPI.product_id)
        note = await refund_hq_sale(
            other_till,
            RefundRequest(
                receipt_no=number,
                cashier_id=CASHIER,
                lines=[RefundLineIn(line_no=1, qty=2)],
                reason="faulty",
                approvals=await manager_ok(other_till),
            ),
            sale,
        )
        assert note.original_receipt_no == number and note.total_cents == 660
        assert not note.manual
        assert note.credit_note_no == "DEMO-T02-CN000001" and note.tax_cents == 54
        assert [(p.tender, p.amount_cents) for p in note.payments] == [("card", 660)]
        assert stock(other_till, KOPI.product_id) == before + 2

        # Not synced yet: this till still counts its own refund against HQ's copy.
        view = await hq_sale_view(other_till, sale)
        assert [ln.refunded_qty for ln in view.lines] == [2, 0]
        with pytest.raises(RefundError, match="at most 1"):
            await refund_hq_sale(
                other_till,
                RefundRequest(
                    receipt_no=number,
                    cashier_id=CASHIER,
                    lines=[RefundLineIn(line_no=1, qty=2)],
                    approvals=await manager_ok(other_till),
                ),
                sale,
            )
        await agent.sync_once()
        again = await agent.lookup_sale(number)
        assert again is not None
        assert [(r.line_no, r.qty, r.total_cents) for r in again.refunded] == [(1, 2, 660)]
        assert [(t.tender, t.amount_cents) for t in again.refunded_tenders] == [("card", 660)]
        assert again.refunded_tax_cents == 54 and len(again.refund_ids) == 1
        assert [ln.refunded_qty for ln in (await hq_sale_view(other_till, again)).lines] == [2, 0]
    finally:
        await agent.aclose()
    events = await hq.rows(
        "SELECT payload FROM events WHERE terminal_id = :t AND type = 'sale.refunded'",
        t=OTHER_TERMINAL,
    )
    assert len(events) == 1 and str(sale.sale_id) in events[0][0]
    assert await hq.quarantined(OTHER_TERMINAL) == {}

    # The selling till, not knowing, refunds all 3 of the line: HQ refuses that one.
    from terminal.services.refunds import refund_sale

    await refund_sale(
        till,
        RefundRequest(
            receipt_no=number,
            cashier_id=CASHIER,
            lines=[RefundLineIn(line_no=1, qty=3)],
            approvals=await manager_ok(till),
        ),
    )
    await sync(till, hq)
    (reason,) = (await hq.quarantined(TERMINAL)).values()
    assert reason.startswith("over-refund: line 1")


async def test_the_lookup_offline_is_a_typed_error(other_till: Database) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    agent = SyncAgent(TillSyncStore(other_till), transport=httpx.MockTransport(refuse))
    try:
        with pytest.raises(SyncTransportError):
            await agent.lookup_sale("DEMO-T01-000001")
    finally:
        await agent.aclose()


# -------------------------------------------------------------------- manual return


async def test_a_manual_return_needs_a_reason_and_a_manager_and_writes_nothing_without(
    other_till: Database, hq: LocalHq
) -> None:
    request = ManualReturnRequest(
        cashier_id=CASHIER,
        lines=[
            ManualReturnLineIn(product_id=KOPI.product_id, qty=2),
            ManualReturnLineIn(product_id=STAMP.product_id, qty=1, unit_price_cents=450),
        ],
        receipt_no="demo-t01-000007",
        reason="wrong size",
    )
    before = snapshot(other_till)
    with pytest.raises(RefundError, match="reason"):
        await manual_return(other_till, request.model_copy(update={"reason": "  "}))
    with pytest.raises(ApprovalRequired) as caught:
        await manual_return(other_till, request)
    assert caught.value.needs == [("refund", None)]
    # An approval of something else does not do.
    with pytest.raises(ApprovalRequired):
        await manual_return(
            other_till,
            request.model_copy(update={"approvals": await manager_ok(other_till, "void")}),
        )
    after_refusals = snapshot(other_till)
    assert {t: r for t, r in after_refusals.items() if t != "outbox"} == {
        t: r for t, r in before.items() if t != "outbox"
    }

    note = await manual_return(
        other_till,
        request.model_copy(update={"approvals": await manager_ok(other_till)}),
    )
    # 2 x 3.30 (SR) + 4.50 (ES) = 11.10 in cash; GST 9/109 of 6.60 = 0.54.
    assert note.total_cents == 1110 and note.tax_cents == 54 and note.rounding_cents == 0
    assert note.original_receipt_no == "DEMO-T01-000007" and note.manual
    assert [(p.tender, p.amount_cents) for p in note.payments] == [("cash", 1110)]
    assert stock(other_till, KOPI.product_id) == snapshot_stock(before, KOPI.product_id) + 2

    await sync(other_till, hq)
    assert await hq.quarantined(OTHER_TERMINAL) == {}
    (row,) = await hq.rows(
        "SELECT original_sale_id, receipt_no, total_cents, tax_cents, reason, approved_by"
        " FROM sales WHERE kind = 'refund' AND terminal_id = :t",
        t=OTHER_TERMINAL,
    )
    assert row[0] is None and row[1] == "DEMO-T01-000007"
    assert (row[2], row[3], row[4]) == (-1110, -54, "wrong size") and row[5] is not None
    # HQ's reports count it as any refund.
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from hq.reports.common import ReportQuery, Scope
    from hq.reports.refunds import refunds
    from hq.reports.summary import summary

    day = datetime.now(UTC).date()
    async with hq.db.readers() as s, s.begin():
        totals = await summary(session=s)
        report = await refunds(
            session=s,
            query=ReportQuery(date_from=day, date_to=day),
            scope=Scope(tz=ZoneInfo("UTC")),
        )
    assert totals.refunds_count == 1
    (listed,) = report.rows
    assert (listed.total_cents, listed.reason, listed.original_receipt_no) == (
        1110,
        "wrong size",
        None,
    )


def snapshot_stock(snap: dict[str, list[tuple]], product_id: uuid.UUID) -> int:
    return {r[0]: r[1] for r in snap["stock"]}.get(product_id.hex, 0)


# ------------------------------------------------------------------ line facts at HQ


async def test_hq_keeps_a_lines_override_and_age_check_and_older_lines_still_validate(
    hq: LocalHq,
) -> None:
    from tests.events import sale, sale_line

    manager = uuid.uuid4()
    newer = sale_line(1, 1) | {
        "list_price_cents": 400,
        "price_override_by": str(manager),
        "age_confirmed": True,
    }
    older = sale_line(2, 2)  # a till of the previous release: no such fields
    assert "age_confirmed" not in older
    answer = await hq.push(TERMINAL, [sale(TERMINAL, 1, lines=[newer, older])])
    assert [r["status"] for r in answer["results"]] == ["accepted"]
    rows = await hq.rows(
        "SELECT line_no, list_price_cents, price_override_by, age_confirmed FROM sale_lines"
        " ORDER BY line_no"
    )
    assert [(r[0], r[1], r[2] is not None, bool(r[3])) for r in rows] == [
        (1, 400, True, True),
        (2, None, False, False),
    ]
    # A bad value is refused at the door, as any other field's.
    bad = sale_line(1, 1) | {"age_confirmed": "yes"}
    answer = await hq.push(TERMINAL, [sale(TERMINAL, 2, lines=[bad])])
    assert [r["status"] for r in answer["results"]] == ["rejected"]
