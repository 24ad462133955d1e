"""Tax invoices, credit notes and X/Z reports as text, for the screen and the printer.

One renderer per document, so the screen shows exactly what the customer (or the
manager) takes home. ASCII only: every ESC/POS code page prints it the same.
"""

from __future__ import annotations

from collections import defaultdict

from terminal.domain.gst import inclusive_tax
from terminal.domain.invoice import CODE_MARKS, CODE_NAMES, invoice_kind
from terminal.domain.money import format_cents
from terminal.domain.tender import TENDER_NAMES
from terminal.printing.clock import local_text
from terminal.printing.receipt_text import wrap_words
from terminal.services.schemas import CreditNote, Receipt, ShiftReport


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")


def _pair(left: str, right: str, width: int) -> str:
    room = width - len(right) - 1
    if len(left) > room:
        left = left[: max(0, room - 1)] + "~"
    return f"{left:<{room}} {right}"


def _center(text: str, width: int) -> str:
    return text.center(width).rstrip()


def _head(width: int, name: str, address: str, gst_reg_no: str, title: str, logo: str) -> list[str]:
    out = [_center(logo, width)] if logo else []
    out.append(_center(name, width))
    out += [_center(line, width) for line in wrap_words(address, width)]
    out.append(_center(f"GST Reg No: {gst_reg_no}", width))
    out.append(_center(title, width))
    return out


def _gst_by_code(lines: list[tuple[str, int]], rate_bp: int) -> dict[str, tuple[int, int]]:
    """Per tax code: (GST-inclusive amount, GST in it)."""
    totals: dict[str, int] = defaultdict(int)
    for code, amount in lines:
        totals[code] += amount
    return {
        code: (amount, inclusive_tax(amount, rate_bp) if code == "SR" else 0)
        for code, amount in sorted(totals.items())
    }


def render_tax_invoice(
    r: Receipt,
    *,
    width: int = 42,
    copy: bool = False,
    logo: str = "",
    customer_name: str = "",
    customer_address: str = "",
) -> str:
    """``customer_name``: whom a full tax invoice is made out to (the cashier asks;
    default the sale's member). The member block below is the loyalty member's alone."""
    kind = invoice_kind(r.total_cents, (ln.tax_code for ln in r.lines))
    title = "TAX INVOICE" if kind == "full" else "SIMPLIFIED TAX INVOICE"
    rule = "-" * width
    out = _head(width, r.store_name, r.address, r.gst_reg_no, title, logo)
    if copy:
        out.append(_center("** COPY **", width))
    out.append(rule)
    out.append(_pair("Invoice", r.receipt_no, width))
    out.append(_pair("Date", local_text(r.created_at), width))
    out.append(_pair("Cashier", r.cashier_name, width))
    if kind == "full":
        out.append(_pair("Customer", customer_name or r.customer_name or "", width))
        out += [f"  {line}" for line in wrap_words(customer_address, width - 2)]
    out.append(rule)
    for ln in r.lines:
        mark = CODE_MARKS[ln.tax_code] if kind == "simplified" else ln.tax_code
        out.append(_pair(ln.name, mark, width) if mark else ln.name[:width])
        qty = f"  {ln.qty} x {format_cents(ln.unit_price_cents)}"
        out.append(_pair(qty, format_cents(ln.qty * ln.unit_price_cents), width))
        if ln.discount_cents:
            out.append(_pair("  discount", format_cents(-ln.discount_cents), width))
    out.append(rule)
    if r.discount_cents:
        out.append(_pair("Subtotal", format_cents(r.subtotal_cents), width))
        out.append(_pair("Discount", format_cents(-r.discount_cents), width))
    out.append(_pair("TOTAL (incl. GST) S$", format_cents(r.total_cents), width))
    rate = f"{r.gst_rate_bp / 100:g}%"
    if kind == "full":
        for code, (amount, tax) in _gst_by_code(
            [(ln.tax_code, ln.total_cents) for ln in r.lines], r.gst_rate_bp
        ).items():
            pct = rate if code == "SR" else "0%"
            out.append(_pair(f"{code} {pct} excl. GST", format_cents(amount - tax), width))
            out.append(_pair(f"{code} GST {pct}", format_cents(tax), width))
    out.append(_pair(f"GST {rate} included", format_cents(r.tax_cents), width))
    if r.rounding_cents:
        out.append(_pair("Cash rounding", format_cents(r.rounding_cents), width))
    for p in r.payments:
        out.append(
            _pair(TENDER_NAMES.get(p.tender, p.tender), format_cents(p.tendered_cents), width)
        )
    out.append(_pair("Change", format_cents(r.change_cents), width))
    marked = sorted({ln.tax_code for ln in r.lines} - {"SR"})
    if marked and kind == "simplified":
        out.append(", ".join(f"{CODE_MARKS[c]} = {CODE_NAMES[c]}" for c in marked))
    if r.customer_name:
        out.append(rule)
        out.append(_pair("Member", r.customer_name, width))
        if r.points_balance is not None:
            before = r.points_balance - r.points_earned + r.points_redeemed
            out.append(_pair("Points before", f"{before:,}", width))
        out.append(_pair("Points earned", str(r.points_earned), width))
        if r.points_redeemed:
            out.append(_pair("Points redeemed", str(r.points_redeemed), width))
        if r.points_balance is not None:
            out.append(_pair("Points balance", f"{r.points_balance:,}", width))
    out.append(rule)
    out.append(_center("Thank you! Please come again.", width))
    return _ascii("\n".join(out))


def render_credit_note(c: CreditNote, *, width: int = 42, logo: str = "") -> str:
    rule = "-" * width
    out = _head(width, c.store_name, c.address, c.gst_reg_no, "CREDIT NOTE", logo)
    out.append(rule)
    out.append(_pair("Credit note", c.credit_note_no, width))
    if c.manual:
        out.append("MANUAL RETURN (no sale refunded)")
        if c.original_receipt_no:
            out.append(_pair("Customer's receipt", c.original_receipt_no, width))
    else:
        out.append(_pair("For invoice", c.original_receipt_no, width))
    out.append(_pair("Date", local_text(c.created_at), width))
    out.append(_pair("Cashier", c.cashier_name, width))
    out.append(rule)
    for ln in c.lines:
        mark = CODE_MARKS[ln.tax_code]
        out.append(_pair(ln.name, mark, width) if mark else ln.name[:width])
        qty = f"  {ln.qty} x {format_cents(ln.unit_price_cents)}"
        out.append(_pair(qty, format_cents(-ln.qty * ln.unit_price_cents), width))
        if ln.discount_cents:
            out.append(_pair("  discount", format_cents(ln.discount_cents), width))
    out.append(rule)
    out.append(_pair("REFUND (incl. GST) S$", format_cents(-c.total_cents), width))
    out.append(_pair(f"GST {c.gst_rate_bp / 100:g}% reversed", format_cents(-c.tax_cents), width))
    if c.rounding_cents:
        out.append(_pair("Cash rounding", format_cents(-c.rounding_cents), width))
    for p in c.payments:
        name = f"To {TENDER_NAMES.get(p.tender, p.tender)}"
        out.append(_pair(name, format_cents(p.amount_cents), width))
    if c.customer_name:
        out.append(rule)
        out.append(_pair("Member", c.customer_name, width))
        if c.points_taken_back:
            out.append(_pair("Points reversed", str(-c.points_taken_back), width))
        if c.points_given_back:
            out.append(_pair("Points returned", str(c.points_given_back), width))
        if c.points_balance is not None:
            out.append(_pair("Points balance", f"{c.points_balance:,}", width))
    if c.reason:
        out.append(_pair("Reason", c.reason, width))
    out.append(rule)
    return _ascii("\n".join(out))


def render_shift_report(r: ShiftReport, *, width: int = 42, store_name: str = "") -> str:
    rule = "-" * width

    def money(label: str, cents: int | None) -> str:
        return _pair(label, "-" if cents is None else format_cents(cents), width)

    out = [_center(store_name, width)] if store_name else []
    out.append(_center(f"{r.kind.upper()} REPORT", width))
    out.append(_pair("Shift", str(r.shift_id)[:8], width))
    out.append(_pair("Opened", local_text(r.opened_at), width))
    if r.closed_at is not None:
        out.append(_pair("Closed", local_text(r.closed_at), width))
    out.append(_pair("Receipts", f"{r.first_receipt_no or '-'}", width))
    out.append(_pair("      to", f"{r.last_receipt_no or '-'}", width))
    out.append(rule)
    out.append(money("Gross sales", r.gross_sales_cents))
    out.append(money("Discounts", -r.discounts_cents))
    out.append(_pair(f"Sales ({r.sales_count})", format_cents(r.sales_total_cents), width))
    out.append(_pair(f"Refunds ({r.refunds_count})", format_cents(-r.refunds_cents), width))
    out.append(money("NET SALES", r.net_sales_cents))
    out.append(_pair(f"Voids ({r.voids_count})", format_cents(r.voids_cents), width))
    out.append(_pair(f"Cancels ({r.cancels_count})", format_cents(r.cancels_cents), width))
    out.append(_pair("No-sale opens", str(r.no_sale_count), width))
    out.append(rule)
    for t in r.tax:
        out.append(money(f"{t.tax_code} net sales", t.net_sales_cents))
        out.append(money(f"{t.tax_code} GST", t.tax_cents))
    out.append(rule)
    for tl in r.tenders:
        name = TENDER_NAMES.get(tl.tender, tl.tender)
        out.append(money(name, tl.sales_cents))
        if tl.refunds_cents:
            out.append(money(f"{name} refunded", -tl.refunds_cents))
    out.append(money("Cash rounding", r.rounding_cents))
    out.append(rule)
    out.append(money("Float", r.opening_float_cents))
    out.append(money("Cash in", r.cash_in_cents))
    out.append(money("Cash out", -r.cash_out_cents))
    out.append(money("Expected cash", r.expected_cash_cents))
    out.append(money("Counted cash", r.counted_cash_cents))
    out.append(money("Variance", r.variance_cents))
    if r.parked_count:
        out.append(_pair("PARKED SALES OPEN", str(r.parked_count), width))
    out.append(rule)
    return _ascii("\n".join(out))
