"""A receipt as plain text: the on-screen tax invoice and what a printer prints.

One renderer for both, so the screen shows exactly what the customer takes home. Width
is in characters (42 suits 80 mm paper in font A; 32 suits 58 mm).
"""

from __future__ import annotations

from terminal.domain.money import format_cents
from terminal.domain.tender import TENDER_NAMES
from terminal.printing.clock import local_text
from terminal.services.schemas import Receipt


def _pair(left: str, right: str, width: int) -> str:
    room = width - len(right) - 1
    if len(left) > room:
        left = left[: max(0, room - 1)] + "…"
    return f"{left:<{room}} {right}"


def render_receipt(receipt: Receipt, *, width: int = 42, reprint: bool = False) -> str:
    r = receipt
    rule = "-" * width
    out = [r.store_name.center(width).rstrip()]
    out += [line.center(width).rstrip() for line in wrap_words(r.address, width)]
    out.append(f"GST Reg No: {r.gst_reg_no}".center(width).rstrip())
    out.append("TAX INVOICE".center(width).rstrip())
    if reprint:
        out.append("** REPRINT **".center(width).rstrip())
    out.append(rule)
    out.append(_pair("Receipt", r.receipt_no, width))
    out.append(_pair("Date", local_text(r.created_at), width))
    out.append(_pair("Cashier", r.cashier_name, width))
    out.append(rule)
    for ln in r.lines:
        tag = "" if ln.tax_code == "SR" else f" [{ln.tax_code}]"
        out.append(_pair(f"{ln.name}{tag}", "", width).rstrip())
        qty = f"  {ln.qty} x {format_cents(ln.unit_price_cents)}"
        out.append(_pair(qty, format_cents(ln.qty * ln.unit_price_cents), width))
        if ln.discount_cents:
            out.append(_pair("  discount", format_cents(-ln.discount_cents), width))
    out.append(rule)
    if r.discount_cents:
        out.append(_pair("Subtotal", format_cents(r.subtotal_cents), width))
        out.append(_pair("Discount", format_cents(-r.discount_cents), width))
    out.append(_pair("TOTAL (incl. GST) S$", format_cents(r.total_cents), width))
    out.append(_pair(f"GST {r.gst_rate_bp / 100:g}% included", format_cents(r.tax_cents), width))
    if r.rounding_cents:  # signed, and the total the cash was asked for
        sign = "+" if r.rounding_cents > 0 else ""
        out.append(_pair("Rounding", sign + format_cents(r.rounding_cents), width))
        rounded = format_cents(r.total_cents + r.rounding_cents)
        out.append(_pair("Total (cash) S$", rounded, width))
    for p in r.payments:
        name = TENDER_NAMES.get(p.tender, p.tender)
        out.append(_pair(name, format_cents(p.tendered_cents), width))
    out.append(_pair("Change", format_cents(r.change_cents), width))
    if r.customer_name:
        out.append(rule)
        out.append(_pair("Member", r.customer_name, width))
        if r.points_redeemed and r.points_balance is not None:
            before = r.points_balance - r.points_earned + r.points_redeemed
            out.append(_pair("Points before", f"{before:,}", width))
        out.append(_pair("Points earned", str(r.points_earned), width))
        if r.points_redeemed:
            out.append(_pair("Points redeemed", str(r.points_redeemed), width))
        if r.points_balance is not None:
            out.append(_pair("Points balance", f"{r.points_balance:,}", width))
    out.append(rule)
    out.append("Thank you! Please come again.".center(width).rstrip())
    return "\n".join(out)


def wrap_words(text: str, width: int) -> list[str]:
    """Greedy word wrap (a word longer than the width keeps its own line)."""
    words, lines, current = text.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines
