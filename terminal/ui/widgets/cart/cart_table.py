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

    _FIXED = 2 + 3 + 7 + 6 + 8
    """Widths of every column but the item name."""

    def on_mount(self) -> None:
        self._cart: Cart | None = None
        self._totals: Totals | None = None
        self._columns(30)

    def _columns(self, name_width: int) -> None:
        self.clear(columns=True)
        self.add_column("#", width=2, key="no")
        self.add_column("Item", width=name_width, key="name")
        self.add_column(Text("Qty", justify="right"), width=3, key="qty")
        self.add_column(Text("Price", justify="right"), width=7, key="price")
        self.add_column(Text("Disc", justify="right"), width=6, key="disc")
        self.add_column(Text("Amount", justify="right"), width=8, key="amount")

    def on_resize(self) -> None:
        if self._cart is not None:
            self.show(self._cart, self._totals, select=self.cursor_row)

    def show(self, cart: Cart, totals: Totals | None, *, select: int | None = None) -> None:
        """Rebuild the rows from the cart (and the name column to fit the width)."""
        self._cart, self._totals = cart, totals
        width = max(8, self.size.width - self._FIXED - 2 * self.cell_padding * 6 - 1)
        self._columns(width)
        if totals is None:
            return
        for i, (entry, priced) in enumerate(zip(cart.entries, totals.lines, strict=True)):
            name = entry.product.name
            if len(name) > width:
                name = name[: width - 1] + "…"
            disc = format_cents(-priced.discount_cents) if priced.discount_cents else ""
            self.add_row(
                str(i + 1),
                name,
                Text(str(entry.qty), justify="right"),
                Text(format_cents(entry.product.price_cents), justify="right"),
                Text(disc, justify="right"),
                Text(format_cents(priced.total_cents), justify="right"),
                key=str(i),
            )
        if select is not None and self.row_count:
            self.move_cursor(row=max(0, min(select, self.row_count - 1)))

    @property
    def selected(self) -> int | None:
        return self.cursor_row if self.row_count else None
