"""Totals beside the cart: items, discount, GST-inclusive total and the GST in it."""

from __future__ import annotations

from textual.widgets import Static

from terminal.domain.cart import Totals
from terminal.domain.money import format_cents
from terminal.domain.tender import cash_due
from terminal.ui.widgets.text import show_text


class TotalsPanel(Static):
    DEFAULT_CSS = """
    TotalsPanel { width: 100%; height: auto; padding: 0 1; }
    """

    def show(self, totals: Totals | None, *, item_count: int) -> None:
        if totals is None:
            show_text(self, "No items yet.\nScan or type a barcode/SKU.")
            return
        rate = f"{totals.gst_rate_bp / 100:g}%"
        rows = [f"Items    {item_count:>12}"]
        if totals.discount_cents:
            rows.append(f"Discount {format_cents(-totals.discount_cents):>12}")
        rows += [
            f"[b]TOTAL S${format_cents(totals.total_cents):>13}[/b]",
            f"GST {rate} incl{format_cents(totals.tax_cents):>{13 - len(rate)}}",
            f"Cash due {format_cents(cash_due(totals.total_cents)):>12}",
        ]
        show_text(self, "\n".join(rows))
