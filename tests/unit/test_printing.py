"""Documents through python-escpos's Dummy printer, byte for byte; the till settings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

pytest.importorskip("escpos")
from escpos.printer import Dummy  # noqa: E402

from sync import demo_data  # noqa: E402
from terminal.db.engine import Database  # noqa: E402
from terminal.domain.invoice import invoice_kind  # noqa: E402
from terminal.printing.documents import (  # noqa: E402
    render_credit_note,
    render_shift_report,
    render_tax_invoice,
)
from terminal.printing.escpos_out import EscposDocuments, open_printer, print_safely  # noqa: E402
from terminal.printing.printer import PrinterError  # noqa: E402
from terminal.printing.settings import TillSettings, load_settings  # noqa: E402
from terminal.services.cashiers import approve  # noqa: E402
from terminal.services.checkout import finalize_sale  # noqa: E402
from terminal.services.refunds import refund_sale  # noqa: E402
from terminal.services.schemas import (  # noqa: E402
    CartItemIn,
    CheckoutRequest,
    RefundLineIn,
    RefundRequest,
    ShiftReport,
    TaxLine,
    TenderIn,
    TenderLine,
)

PRODUCTS = {p.sku: p for p in demo_data.demo_products()}
KOPI, STAMP = PRODUCTS["KOPI-001"], PRODUCTS["STAMP-10"]
CASHIER = demo_data.demo_cashiers()[0].cashier_id
NOW = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)  # 09:30 in Singapore

CODEPAGE = b"\x1bt\x00"  # ESC t 0, sent before the first text
FEED_AND_CUT = b"\x1bd\x06\x1dV\x00"  # ESC d 6, GS V 0 (full cut)
DRAWER_KICK = b"\x1bp\x0022"  # ESC p 0 50 50: pulse pin 2 for 100 ms


def has_row(lines: list[str], left: str, right: str, width: int = 42) -> bool:
    """A line with ``left`` and ``right`` at the two edges of the paper."""
    return f"{left:<{width - len(right) - 1}} {right}" in lines


def test_invoice_kind_follows_the_rules() -> None:
    assert invoice_kind(100_000, ["SR", "SR"]) == "simplified"
    assert invoice_kind(100_001, ["SR"]) == "full"
    assert invoice_kind(500, ["SR", "ES"]) == "full"
    assert invoice_kind(500, ["ZR"]) == "simplified"


async def test_a_cash_sale_prints_a_simplified_invoice_and_kicks_the_drawer(
    till_db: Database,
) -> None:
    receipt = await finalize_sale(
        till_db,
        CheckoutRequest(
            cashier_id=CASHIER,
            items=[CartItemIn(product_id=KOPI.product_id, qty=2)],
            tenders=[TenderIn(kind="cash", amount_cents=1000)],
        ),
        now=NOW,
    )
    text = render_tax_invoice(receipt)
    lines = text.splitlines()
    stripped = [ln.strip() for ln in lines]
    assert "SIMPLIFIED TAX INVOICE" in stripped and "GST Reg No: M90312345X" in stripped
    for left, right in (
        ("Invoice", "DEMO-T01-000001"),
        ("Date", "01/03/2026 09:30"),
        ("Cashier", "Aisha"),
        ("TOTAL (incl. GST) S$", "6.60"),
        ("GST 9% included", "0.54"),
        ("Cash", "10.00"),
        ("Change", "3.40"),
    ):
        assert has_row(lines, left, right), (left, right)
    dummy = Dummy()
    EscposDocuments(dummy).print_document(text, kick_drawer=True)
    assert dummy.output == CODEPAGE + text.encode("ascii") + b"\n" + DRAWER_KICK + FEED_AND_CUT


async def test_mixed_codes_print_a_full_invoice_with_gst_per_code(till_db: Database) -> None:
    receipt = await finalize_sale(
        till_db,
        CheckoutRequest(
            cashier_id=CASHIER,
            items=[
                CartItemIn(product_id=KOPI.product_id, qty=1),
                CartItemIn(product_id=STAMP.product_id, qty=1),
            ],
            tenders=[TenderIn(kind="nets", amount_cents=830)],
        ),
        now=NOW,
    )
    text = render_tax_invoice(
        receipt, customer_name="Lim Trading Pte Ltd", customer_address="1 Tampines Ave 3"
    )
    lines = text.splitlines()
    assert has_row(lines, "Customer", "Lim Trading Pte Ltd")
    assert not any(ln.startswith(("Member", "Points")) for ln in lines), "no member on the sale"
    assert "TAX INVOICE" in [ln.strip() for ln in lines]
    assert has_row(lines, "SR 9% excl. GST", "3.03")
    assert has_row(lines, "SR GST 9%", "0.27")
    assert has_row(lines, "ES 0% excl. GST", "5.00")
    assert any(ln.startswith(STAMP.name[:20]) and ln.endswith(" ES") for ln in lines)
    assert "  1 Tampines Ave 3" in lines
    dummy = Dummy()
    EscposDocuments(dummy).print_document(text)
    assert DRAWER_KICK not in dummy.output  # no cash: the drawer stays shut


async def test_a_credit_note_prints_its_fields(till_db: Database) -> None:
    receipt = await finalize_sale(
        till_db,
        CheckoutRequest(
            cashier_id=CASHIER,
            items=[CartItemIn(product_id=KOPI.product_id, qty=3)],
            tenders=[TenderIn(kind="cash", amount_cents=1000)],
        ),
        now=NOW,
    )
    ok = await approve(till_db, "9999", action="refund", cashier_id=CASHIER, now=NOW)
    note = await refund_sale(
        till_db,
        RefundRequest(
            receipt_no=receipt.receipt_no,
            cashier_id=CASHIER,
            lines=[RefundLineIn(line_no=1, qty=1)],
            reason="spilt",
            approvals=[ok.as_approval()],
        ),
        now=NOW,
    )
    text = render_credit_note(note)
    lines = text.splitlines()
    assert "CREDIT NOTE" in [ln.strip() for ln in lines]
    for left, right in (
        ("Credit note", "DEMO-T01-CN000001"),
        ("For invoice", "DEMO-T01-000001"),
        ("REFUND (incl. GST) S$", "-3.30"),
        ("GST 9% reversed", "-0.27"),
        ("To Cash", "3.30"),
        ("Reason", "spilt"),
    ):
        assert has_row(lines, left, right), (left, right)
    dummy = Dummy()
    EscposDocuments(dummy).print_document(text, kick_drawer=True)
    assert dummy.output == CODEPAGE + text.encode("ascii") + b"\n" + DRAWER_KICK + FEED_AND_CUT


def test_a_z_report_prints_byte_for_byte() -> None:
    report = ShiftReport(
        kind="z",
        shift_id=uuid.UUID("12345678-1234-5678-1234-567812345678"),
        cashier_id=CASHIER,
        opened_at=NOW,
        closed_at=NOW.replace(hour=9),
        gross_sales_cents=10_000,
        discounts_cents=500,
        sales_total_cents=9_500,
        refunds_cents=330,
        net_sales_cents=9_170,
        sales_count=4,
        refunds_count=1,
        voids_count=2,
        voids_cents=660,
        cancels_count=1,
        cancels_cents=1_200,
        no_sale_count=0,
        tax=[TaxLine(tax_code="SR", net_sales_cents=9_170, tax_cents=757)],
        tenders=[TenderLine(tender="cash", sales_cents=9_500, refunds_cents=330)],
        rounding_cents=-2,
        opening_float_cents=10_000,
        cash_in_cents=0,
        cash_out_cents=1_000,
        expected_cash_cents=18_170,
        counted_cash_cents=18_100,
        variance_cents=-70,
        first_receipt_no="DEMO-T01-000001",
        last_receipt_no="DEMO-T01-000004",
        parked_count=1,
    )
    text = render_shift_report(report, width=32, store_name="Kedai")
    assert text == "\n".join(
        [
            "             Kedai",
            "            Z REPORT",
            "Shift                   12345678",
            "Opened          01/03/2026 09:30",
            "Closed          01/03/2026 17:30",
            "Receipts         DEMO-T01-000001",
            "      to         DEMO-T01-000004",
            "-" * 32,
            "Gross sales               100.00",
            "Discounts                  -5.00",
            "Sales (4)                  95.00",
            "Refunds (1)                -3.30",
            "NET SALES                  91.70",
            "Voids (2)                   6.60",
            "Cancels (1)                12.00",
            "No-sale opens                  0",
            "-" * 32,
            "SR net sales               91.70",
            "SR GST                      7.57",
            "-" * 32,
            "Cash                       95.00",
            "Cash refunded              -3.30",
            "Cash rounding              -0.02",
            "-" * 32,
            "Float                     100.00",
            "Cash in                     0.00",
            "Cash out                  -10.00",
            "Expected cash             181.70",
            "Counted cash              181.00",
            "Variance                   -0.70",
            "PARKED SALES OPEN              1",
            "-" * 32,
        ]
    )
    dummy = Dummy()
    EscposDocuments(dummy).print_document(text)
    assert dummy.output == CODEPAGE + text.encode("ascii") + b"\n" + FEED_AND_CUT


class _Broken:
    def text(self, _: str) -> None:
        raise OSError("paper out")


def test_a_failing_printer_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(PrinterError, match="paper out"):
        EscposDocuments(_Broken()).print_document("x")
    assert print_safely(EscposDocuments(_Broken()), "x") is False
    assert "not printed" in caplog.text
    assert print_safely(None, "x") is False


def test_settings_from_env_and_file(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    assert load_settings().printer_kind == "none"
    monkeypatch.setenv("KEDAI_TILL_PRINTER_KIND", "file")
    monkeypatch.setenv("KEDAI_TILL_PRINTER_ADDRESS", str(tmp_path / "roll.txt"))
    monkeypatch.setenv("KEDAI_TILL_RECEIPT_WIDTH", "32")
    settings = load_settings()
    assert (settings.printer_kind, settings.receipt_width) == ("file", 32)
    printer = open_printer(settings)
    assert printer is not None
    printer.print_document("hello", kick_drawer=True)
    assert "hello\n[drawer opened]" in (tmp_path / "roll.txt").read_text()
    monkeypatch.delenv("KEDAI_TILL_PRINTER_KIND")
    monkeypatch.delenv("KEDAI_TILL_PRINTER_ADDRESS")
    monkeypatch.delenv("KEDAI_TILL_RECEIPT_WIDTH")
    env = tmp_path / "till.env"
    env.write_text("KEDAI_TILL_PRINTER_KIND=network\nKEDAI_TILL_LOGO_LINE=KEDAI\n")
    monkeypatch.setenv("KEDAI_TILL_SETTINGS_FILE", str(env))
    with pytest.raises(ValueError, match="needs a printer_address"):
        load_settings()
    env.write_text("KEDAI_TILL_PRINTER_KIND=network\nKEDAI_TILL_PRINTER_ADDRESS=10.0.0.9\n")
    assert load_settings().printer_address == "10.0.0.9"
    with pytest.raises(ValueError):
        TillSettings(receipt_width=10)
