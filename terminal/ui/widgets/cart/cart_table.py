"""The cart as a table: one row per line, the cursor marks the line Qty/Disc/Void act on.

Rows are keyed by position and rebuilt from the cart on every change: a till cart is
tens of lines, so a full refresh costs well under a millisecond and can never disagree
with the cart.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from terminal.domain.cart import Totals
from terminal.domain.money import format_cents
from terminal.ui.cart import Cart


class CartTable(DataTable[str | Text]):
    DEFAULT_CSS = """
    CartTable { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id="cart")
        self.can_focus = False

    def on_mount(self) -> None:
        self.add_column("#", width=3, key="no")
        self.add_column("Item", key="name")
        self.add_column(Text("Qty", justify="right"), width=4, key="qty")
        self.add_column(Text("Price", justify="right"), width=8, key="price")
        self.add_column(Text("Disc", justify="right"), width=7, key="disc")
        self.add_column(Text("Amount", justify="right"), width=9, key="amount")

    def show(self, cart: Cart, totals: Totals | None, *, select: int | None = None) -> None:
        width = max(12, self.size.width - 3 - 4 - 8 - 7 - 9 - 12)
        self.clear()
        if totals is None:
            return
        for i, (entry, priced) in enumerate(zip(cart.entries, totals.lines, strict=True)):
            name = entry.product.name
            if len(name) > width:
                name = name[: width - 1] + "…"
            self.add_row(
                str(i + 1),
                name,
                Text(str(entry.qty), justify="right"),
                Text(format_cents(entry.product.price_cents), justify="right"),
                Text(
                    format_cents(-priced.discount_cents) if priced.discount_cents else "",
                    justify="right",
                ),
                Text(format_cents(priced.total_cents), justify="right"),
                key=str(i),
            )
        if select is not None and self.row_count:
            self.move_cursor(row=min(select, self.row_count - 1))

    @property
    def selected(self) -> int | None:
        return self.cursor_row if self.row_count else None
