"""Refunds at the till (Ctrl+R): whole sale, one line, approvals, and every refusal.

Each sale is made through the real checkout (the sale and payment screens); the refund
goes through the real refund service and the real manager-PIN check; what was written
is read back from the till's SQLite file.
"""

from __future__ import annotations

from sqlalchemy import func, select

from sync.demo_data import demo_products
from terminal.db.models import ApprovalRow, Cashier, OutboxEvent, Refund, RefundLine
from terminal.printing.printer import FilePrinter, PrinterError
from terminal.services import refunds
from terminal.services.cashiers import record_own_approval
from terminal.services.schemas import RefundLineIn, RefundRequest
from terminal.services.uow import reading
from terminal.ui.screens.approve import ApproveModal
from terminal.ui.screens.confirm import ConfirmModal
from terminal.ui.screens.document import DocumentModal
from terminal.ui.screens.prompt import PromptModal
from terminal.ui.screens.receipt import ReceiptModal
from terminal.ui.screens.refund import RefundScreen
from terminal.ui.screens.sale import SaleScreen
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import login, scan, settle, text_of

BARCODES = {p.sku: p.barcode for p in demo_products()}
KOPI, MILO = DEMO_BARCODE, BARCODES["MILO-400"]  # 3.30 and 7.89


async def sell(pilot, *codes: str) -> str:
    """Scan, pay exact cash (F9, F1), close the receipt; the receipt number."""
    await scan(pilot, *codes)
    await pilot.press("f9")
    await settle(pilot)
    await pilot.press("f1")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReceiptModal)
    number = screen.receipt.receipt_no
    await pilot.press("enter")
    await settle(pilot)
    return number


async def open_refund(pilot, number: str) -> RefundScreen:
    await pilot.press("ctrl+r")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RefundScreen)
    await pilot.press(*number, "enter")
    await settle(pilot)
    return screen


async def refund_with_reason(pilot, reason: str = "faulty") -> None:
    await pilot.press("f9")
    await settle(pilot)
    assert isinstance(pilot.app.screen, PromptModal)
    await pilot.press(*reason, "enter")
    await settle(pilot)


async def written(app) -> dict[str, int]:
    """What refunds left in the till's database: rows and outbox events by type."""
    async with reading(app.database) as s:
        counted = {
            "refunds": (await s.execute(select(func.count()).select_from(Refund))).scalar_one(),
            "refund_lines": (
                await s.execute(select(func.count()).select_from(RefundLine))
            ).scalar_one(),
        }
        for kind, n in await s.execute(
            select(OutboxEvent.type, func.count()).group_by(OutboxEvent.type)
        ):
            counted[kind] = n
    return counted


async def test_full_refund_with_the_managers_pin(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        number = await sell(pilot, KOPI, MILO)
        assert number == "DEMO-T01-000001"
        screen = await open_refund(pilot, "1")  # this till's receipt 1
        assert screen.sale is not None and screen.sale.receipt_no == number
        assert "Total S$11.19" in text_of(app, "#refund-sale")
        await pilot.press("f7")  # everything left
        await settle(pilot)
        assert screen.chosen == {1: 1, 2: 1}
        assert "Refund 2 items, about S$11.19" in text_of(app, "#refund-chosen")
        await refund_with_reason(pilot, "changed mind")
        assert isinstance(app.screen, ApproveModal)  # every refund needs a manager here
        assert "Refund" in text_of(app, "#approve-what")
        await pilot.press(*"9999", "enter")  # Mr Tan
        await settle(pilot)
        assert isinstance(app.screen, DocumentModal)
        assert "REFUNDED  S$11.19" in text_of(app, "#doc-title")
        text = text_of(app, "#doc-text")
        for expected in ("CREDIT NOTE", "DEMO-T01-CN000001", number, "-11.19", "changed mind"):
            assert expected in text, expected
        got = await written(app)
        assert got["refunds"] == 1 and got["refund_lines"] == 2
        assert got["sale.refunded"] == 1 and got["approval.granted"] == 1
        async with reading(app.database) as s:
            refund = (await s.execute(select(Refund))).scalar_one()
            approval = (await s.execute(select(ApprovalRow))).scalar_one()
        assert refund.total_cents == 1119 and refund.reason == "changed mind"
        assert refund.approved_by == approval.manager_id and approval.action == "refund"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen)
        sale = await refunds.find_sale(app.database, number)
        assert [ln.refunded_qty for ln in sale.lines] == [1, 1]


async def test_partial_refund_of_one_line(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        number = await sell(pilot, f"3*{KOPI}", MILO)  # 3 x 3.30 + 7.89
        await open_refund(pilot, number)
        await pilot.press("f6")  # the first line is selected
        await settle(pilot)
        assert isinstance(app.screen, PromptModal)
        assert "sold 3, already refunded 0, 3 can come back" in text_of(app, "#prompt-question")
        await pilot.press("1", "enter")
        await settle(pilot)
        assert "Refund 1 item, about S$3.30" in text_of(app, "#refund-chosen")
        await refund_with_reason(pilot)
        await pilot.press(*"9999", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DocumentModal)
        assert "REFUNDED  S$3.30" in text_of(app, "#doc-title")
        async with reading(app.database) as s:
            lines = (await s.execute(select(RefundLine))).scalars().all()
        assert [(ln.line_no, ln.qty, ln.total_cents) for ln in lines] == [(1, 1, 330)]
        sale = await refunds.find_sale(app.database, number)
        assert [(ln.qty, ln.refunded_qty) for ln in sale.lines] == [(3, 1), (1, 0)]


async def test_over_refund_is_refused_and_nothing_is_written(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        number = await sell(pilot, f"2*{KOPI}")
        screen = await open_refund(pilot, number)
        before = await written(app)
        await pilot.press("f6", "backspace", "3", "enter")  # 3 of the 2 sold
        await settle(pilot)
        assert app.screen is screen and screen.chosen == {}
        message = text_of(app, "#message")
        assert "Cannot refund 3 of line 1 (Kopi-O Powder 500g): sold 2" in message
        assert "at most 2 can be refunded" in message
        assert screen.query_one("#message").has_class("error")
        await pilot.press("f9")  # nothing chosen: nothing to send
        await settle(pilot)
        assert app.screen is screen
        assert "Choose what comes back first" in text_of(app, "#message")
        await pilot.press("f6", "backspace", "2", "enter", "f6", "backspace", "1", "enter")
        await settle(pilot)
        assert screen.chosen == {1: 1}  # a quantity can be changed
        assert await written(app) == before
        assert before["refunds"] == 0 and "sale.refunded" not in before


async def test_refund_of_a_refunded_line_is_refused(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        number = await sell(pilot, KOPI, MILO)
        screen = await open_refund(pilot, number)
        await pilot.press("f7")  # both lines, as the screen read them
        await settle(pilot)
        # Meanwhile line 1 is refunded at this till (another screen, or `simulate`).
        async with reading(app.database) as s:
            manager = (
                await s.execute(select(Cashier.id).where(Cashier.role == "manager"))
            ).scalar_one()
        own = await record_own_approval(app.database, action="refund", manager_id=manager)
        await refunds.refund_sale(
            app.database,
            RefundRequest(
                receipt_no=number,
                cashier_id=manager,
                lines=[RefundLineIn(line_no=1, qty=1)],
                approvals=[own.as_approval()],
            ),
        )
        before = await written(app)
        await refund_with_reason(pilot)
        assert app.screen is screen
        assert "line 1 sold 1, 1 already refunded: at most 0 can be refunded" in text_of(
            app, "#message"
        )
        assert await written(app) == before and before["refunds"] == 1
        await pilot.press("escape")  # look it up again: line 1 now shows as refunded
        await settle(pilot)
        screen = await open_refund(pilot, number)
        assert "Refunded before: DEMO-T01-CN000001" in text_of(app, "#refund-sale")
        await pilot.press("f6")
        await settle(pilot)
        assert app.screen is screen
        assert "all 1 already refunded" in text_of(app, "#message")
        await pilot.press("down", "f6")  # line 2 can still come back
        await settle(pilot)
        assert isinstance(app.screen, PromptModal)
        await pilot.press("escape")
        await settle(pilot)
        assert await written(app) == before


async def test_unknown_receipt_and_another_tills_receipt(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        screen = await open_refund(pilot, "999")
        assert screen.sale is None
        message = text_of(app, "#message")
        assert "No sale DEMO-T01-000999 in this till's history" in message
        await pilot.press(*"demo-t02-000001", "enter")
        await settle(pilot)
        message = text_of(app, "#message")
        assert "DEMO-T02-000001 was sold at DEMO-T02" in message
        assert "not syncing with HQ. Make a manual return (F5)" in message
        # The message wraps inside 80 columns rather than running off the screen.
        label = screen.query_one("#message")
        assert label.size.width <= 80 and label.size.height >= 2
        await pilot.press("f7")
        await settle(pilot)
        assert "Find the sale first" in text_of(app, "#message")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen)
        await scan(pilot, KOPI)  # a cart on screen: no refund until it is done
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen)
        assert "before a refund" in text_of(app, "#message")


async def test_wrong_manager_pin_leaves_nothing_written(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        number = await sell(pilot, KOPI)
        screen = await open_refund(pilot, number)
        await pilot.press("f7")
        await refund_with_reason(pilot)
        assert isinstance(app.screen, ApproveModal)
        await pilot.press(*"1111", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ApproveModal)
        assert "not a manager's PIN" in text_of(app, "#approve-error")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        message = text_of(app, "#message")
        assert message.startswith("Not refunded:") and "Nothing was saved." in message
        got = await written(app)
        assert got["refunds"] == 0 and "sale.refunded" not in got
        assert "approval.granted" not in got and got["approval.refused"] == 1
        sale = await refunds.find_sale(app.database, number)
        assert sale.lines[0].refunded_qty == 0


async def test_refund_to_cash_by_a_manager_and_printer_failure(make_app, tmp_path) -> None:
    """A manager confirms each approval (refund, to cash); a dead printer says so."""

    class Jammed:
        def print_text(self, text: str) -> None:
            raise PrinterError("The receipt printer failed: paper out")

    app = make_app(printer=Jammed())
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot, "9999")
        await scan(pilot, MILO)
        await pilot.press("f9", "f6")  # all on NETS
        await settle(pilot)
        assert isinstance(app.screen, ReceiptModal)
        number = app.screen.receipt.receipt_no
        await pilot.press("enter")
        await settle(pilot)
        await open_refund(pilot, number)
        assert "NETS 7.89" in text_of(app, "#refund-sale")
        await pilot.press("f7", "f10")
        await settle(pilot)
        assert "in cash (a manager approves" in text_of(app, "#refund-chosen")
        await refund_with_reason(pilot, "card reader down")
        for _ in range(2):  # refund, then refund to cash
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("enter")
            await settle(pilot)
        assert isinstance(app.screen, DocumentModal)
        assert "Give back: Cash S$7.90" in text_of(app, "#doc-summary")
        assert "Not printed: F12 to reprint." in text_of(app, "#doc-printed")
        app.printer = FilePrinter(tmp_path / "roll.txt")
        await pilot.press("f12")
        await settle(pilot)
        assert "Printed" in text_of(app, "#doc-printed")
        assert "CREDIT NOTE" in (tmp_path / "roll.txt").read_text()
        async with reading(app.database) as s:
            refund = (await s.execute(select(Refund))).scalar_one()
            actions = sorted((await s.execute(select(ApprovalRow.action))).scalars())
        assert refund.to_cash and actions == ["refund", "refund_to_cash"]
