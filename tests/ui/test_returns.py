"""Returns of a sale made at another till (Ctrl+R): found at HQ, or a manual return.

The HQ is the real app in-process (``httpx.ASGITransport``) over its own SQLite file, as
in the sync tests; the till is enrolled with it as DEMO-T01 and the sale is made and
synced by a second real till, DEMO-T02. The refund goes through the real screens,
services and manager-PIN check; what was written is read back from both stores.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from sync import demo_data
from sync.agent import SyncAgent, enroll
from terminal.db.engine import Database, open_database
from terminal.db.models import OutboxEvent, Refund, RefundLine
from terminal.services.checkout import finalize_sale
from terminal.services.schemas import CartItemIn, CheckoutRequest, TenderIn
from terminal.services.sync_store import TillSyncStore
from terminal.services.uow import reading
from terminal.ui.screens.approve import ApproveModal
from terminal.ui.screens.document import DocumentModal
from terminal.ui.screens.manual_return import ManualReturnScreen
from terminal.ui.screens.prompt import PromptModal
from terminal.ui.screens.refund import RefundScreen
from terminal.ui.screens.sale import SaleScreen
from tests.sync import conftest as sync_site
from tests.sync.conftest import OTHER_TERMINAL, TERMINAL, URL, LocalHq, make_agent
from tests.ui.helpers import login, settle, text_of

PRODUCTS = {p.sku: p for p in demo_data.demo_products()}
KOPI, MILO = PRODUCTS["KOPI-001"], PRODUCTS["MILO-400"]  # 3.30 and 7.89, both SR
CASHIER = demo_data.demo_cashiers()[0].cashier_id

# The sync tests' real HQ app in-process (its fixtures, used here by name).
hq_template = sync_site.hq_template
hq = sync_site.hq
_fast_retries = sync_site._fast_retries


class _Agent(SyncAgent):
    """The real agent; its loop is not run (the test syncs when it means to)."""

    async def run(self) -> None:
        await self.refresh()


@pytest.fixture
async def other_sale(tmp_path: Path, till_path: Path, hq: LocalHq) -> AsyncIterator[str]:
    """A sale made at DEMO-T02 and synced to HQ; its receipt number."""
    path = tmp_path / "t02.db"
    shutil.copyfile(till_path, path)
    db = open_database(path)
    try:
        await enroll(
            TillSyncStore(db), server=URL, token=hq.tokens[OTHER_TERMINAL], transport=hq.transport
        )
        receipt = await finalize_sale(
            db,
            CheckoutRequest(
                cashier_id=CASHIER,
                items=[
                    CartItemIn(product_id=KOPI.product_id, qty=2),
                    CartItemIn(product_id=MILO.product_id, qty=1),
                ],
                tenders=[TenderIn(kind="nets", amount_cents=2 * 330 + 789)],
            ),
        )
        agent = make_agent(db, hq)
        await agent.sync_once()
        await agent.aclose()
        yield receipt.receipt_no
    finally:
        await db.dispose()


async def enrolled(till_path: Path, hq: LocalHq) -> Database:
    """The UI till's file (another handle on it), enrolled with HQ as DEMO-T01."""
    db = open_database(till_path)
    await enroll(TillSyncStore(db), server=URL, token=hq.tokens[TERMINAL], transport=hq.transport)
    return db


async def open_refund(pilot, number: str) -> RefundScreen:
    await pilot.press("ctrl+r")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RefundScreen)
    await pilot.press(*number, "enter")
    await settle(pilot)
    return screen


async def answer(pilot, text: str) -> None:
    assert isinstance(pilot.app.screen, PromptModal), type(pilot.app.screen)
    await pilot.press(*text, "enter")
    await settle(pilot)


async def refunds_written(db: Database) -> list[tuple]:
    async with reading(db) as s:
        rows = await s.execute(
            select(Refund.original_sale_id, Refund.original_receipt_no, Refund.total_cents)
        )
        return [tuple(r) for r in rows]


async def test_another_tills_receipt_is_found_at_hq_and_refunded(
    make_app, till_path: Path, hq: LocalHq, other_sale: str
) -> None:
    db = await enrolled(till_path, hq)
    agent = _Agent(TillSyncStore(db), transport=hq.transport)
    app = make_app(agent=agent)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await login(pilot)
            screen = await open_refund(pilot, other_sale.lower())
            assert screen.sale is not None and screen.hq_sale is not None
            assert "from HQ: sold at DEMO-T02" in text_of(app, "#refund-sale")
            await pilot.press("f6")  # line 1: 2 x Kopi
            await settle(pilot)
            await answer(pilot, "1")
            await pilot.press("f9")
            await settle(pilot)
            await answer(pilot, "faulty")
            assert isinstance(app.screen, ApproveModal)
            await pilot.press(*"9999", "enter")
            await settle(pilot)
            assert isinstance(app.screen, DocumentModal)
            assert "REFUNDED  S$3.30" in text_of(app, "#doc-title")
            doc = text_of(app, "#doc-text")
            assert "DEMO-T01-CN000001" in doc and other_sale in doc
            (row,) = await refunds_written(app.database)
            assert row[0] == screen.hq_sale.sale_id and row[1:] == (other_sale, 330)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, SaleScreen)
            await agent.sync_once()
    finally:
        await agent.aclose()
        await db.dispose()
    (event,) = await hq.rows(
        "SELECT original_sale_id, total_cents FROM sales WHERE kind = 'refund'"
        " AND terminal_id = :t",
        t=TERMINAL,
    )
    assert event[1] == -330 and event[0] is not None
    assert await hq.quarantined(TERMINAL) == {}


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


async def test_offline_a_manual_return_needs_a_reason_and_a_manager(
    make_app, till_path: Path, hq: LocalHq
) -> None:
    db = await enrolled(till_path, hq)
    offline = _Agent(TillSyncStore(db), transport=httpx.MockTransport(_refuse))
    app = make_app(agent=offline)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await login(pilot)
            screen = await open_refund(pilot, "DEMO-T02-000004")
            assert screen.sale is None
            message = text_of(app, "#message")
            assert "HQ cannot be reached (offline)" in message and "manual return (F5)" in message
            await pilot.press("f5")
            await settle(pilot)
            manual = app.screen
            assert isinstance(manual, ManualReturnScreen)
            assert "DEMO-T02-000004" in text_of(app, "#return-ref")
            await pilot.press("f9")  # nothing scanned yet
            await settle(pilot)
            assert "Scan what comes back first" in text_of(app, "#message")
            await pilot.press(*KOPI.barcode, "enter", *KOPI.barcode, "enter", *MILO.sku, "enter")
            await settle(pilot)
            assert [(ln.product.sku, ln.qty) for ln in manual.lines] == [
                ("KOPI-001", 2),
                ("MILO-400", 1),
            ]
            await pilot.press("down", "f7")  # Milo was bought on offer at 6.50
            await settle(pilot)
            await answer(pilot, "6.50")
            assert "Give back S$13.10 to Cash" in text_of(app, "#return-total")

            await pilot.press("f9")
            await settle(pilot)
            await answer(pilot, "   ")  # no reason: refused, nothing saved
            assert "a reason is needed" in text_of(app, "#message")
            await pilot.press("f9")
            await settle(pilot)
            await answer(pilot, "wrong flavour")
            assert isinstance(app.screen, ApproveModal)
            await pilot.press("escape")  # the manager does not approve
            await settle(pilot)
            assert app.screen is manual
            assert "It was not given. Nothing was saved." in text_of(app, "#message")
            assert await refunds_written(app.database) == []

            await pilot.press("f9")
            await settle(pilot)
            await answer(pilot, "wrong flavour")
            await pilot.press(*"9999", "enter")
            await settle(pilot)
            assert isinstance(app.screen, DocumentModal), text_of(app, "#message")
            assert "RETURNED  S$13.10" in text_of(app, "#doc-title")
            doc = text_of(app, "#doc-text")
            assert "CREDIT NOTE" in doc and "wrong flavour" in doc and "To Cash" in doc
            assert "MANUAL RETURN" in doc and "DEMO-T02-000004" in doc
            assert await refunds_written(app.database) == [(None, "DEMO-T02-000004", 1310)]
            async with reading(app.database) as s:
                lines = (await s.execute(select(RefundLine.qty, RefundLine.total_cents))).all()
                kinds = (await s.execute(select(OutboxEvent.type))).scalars().all()
            assert sorted(tuple(r) for r in lines) == [(1, 650), (2, 660)]
            assert "sale.refunded" in kinds and "approval.granted" in kinds
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, SaleScreen)
    finally:
        await offline.aclose()
        await db.dispose()
