"""The cart as a table: one row per line, the cursor marks the line Qty/Disc/Void act on.

Rows are keyed by position and computed from the whole cart on every change, so the
table can never disagree with the cart; only the cells that differ from what is shown
are written (a scan adds one row instead of redrawing a 30-line cart). The columns are
rebuilt only when the layout changes (the width crosses :data:`NARROW`, or the first
discount appears).

The item name gets the width: on a narrow screen (80 columns) the line number and unit
price columns go (the cursor marks the line; the amount is on the row), and the
discount column shows only once a line has a discount, so a name such as
"Milo 3-in-1 Sachets 18x33g" keeps its size at 80x24.

A price override is marked with ``*`` after the price the line sells at (in the name,
``@6.50*``, when the price column is not shown), so a cashier and a manager can see it.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from terminal.domain.cart import Totals
from terminal.domain.money import format_cents
from terminal.ui.cart import Cart

NARROW = 72
"""Below this width (cells) the table drops the line number and unit price."""


class CartTable(DataTable[str | Text]):
    DEFAULT_CSS = """
    CartTable { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id="cart")
        self.can_focus = False

    def on_mount(self) -> None:
        self._cart: Cart | None = None
        self._totals: Totals | None = None
        self._layout: tuple[bool, bool, int] | None = None
        """(wide, discount column, width) the columns were built for."""
        self._keys: list[str] = []
        self._shown: list[tuple[str | Text, ...]] = []
        """The cells of each row on screen, in column order."""

    def _columns(self, *, discounts: bool) -> list[str]:
        """Build the columns for this width; return the keys, in order."""
        wide = self.size.width >= NARROW
        fixed: list[tuple[str, str, int]] = []
        if wide:
            fixed.append(("no", "#", 2))
        fixed.append(("qty", "Qty", 3))
        if wide:
            fixed.append(("price", "Price", 7))
        if discounts or wide:
            fixed.append(("disc", "Disc", 6))
        fixed.append(("amount", "Amount", 8))
        pad = 2 * self.cell_padding
        used = sum(width + pad for _, _, width in fixed) + pad + 1  # + name padding, scrollbar
        name_width = max(8, self.size.width - used)
        self.clear(columns=True)
        keys = []
        for key, label, width in fixed:
            if key == "qty":
                self.add_column("Item", width=name_width, key="name")
                keys.append("name")
            header: str | Text = label if key == "no" else Text(label, justify="right")
            self.add_column(header, width=width, key=key)
            keys.append(key)
        self._name_width = name_width
        return keys

    def on_resize(self) -> None:
        if self._cart is not None:
            self.show(self._cart, self._totals, select=self.cursor_row)

    def show(self, cart: Cart, totals: Totals | None, *, select: int | None = None) -> None:
        """Show the cart: write the cells that changed (all of them if the layout did)."""
        self._cart, self._totals = cart, totals
        discounts = any(e.discount_cents for e in cart.entries)
        wide = self.size.width >= NARROW
        layout = (wide, discounts or wide, self.size.width)
        if layout != self._layout:
            self._layout = layout
            self._keys = self._columns(discounts=discounts)
            self._shown = []
        rows = [] if totals is None else self._rows(cart, totals)
        for i, cells in enumerate(rows):
            if i >= len(self._shown):
                self.add_row(*cells, key=str(i))
                continue
            for key, old, new in zip(self._keys, self._shown[i], cells, strict=True):
                if old != new:
                    self.update_cell(str(i), key, new)
        for i in range(len(rows), len(self._shown)):
            self.remove_row(str(i))
        self._shown = rows
        if select is not None and self.row_count:
            self.move_cursor(row=max(0, min(select, self.row_count - 1)))

    def _rows(self, cart: Cart, totals: Totals) -> list[tuple[str | Text, ...]]:
        width = self._name_width
        wide = "price" in self._keys
        rows = []
        for i, (entry, priced) in enumerate(zip(cart.entries, totals.lines, strict=True)):
            name = entry.product.name
            price = format_cents(entry.unit_price_cents)
            if entry.override_cents is not None:
                price += "*"
            tag = f" @{price}" if entry.override_cents is not None and not wide else ""
            if len(name) + len(tag) > width:
                name = name[: max(1, width - len(tag) - 1)] + "…"
            name += tag
            if entry.age_checked and len(name) + 4 <= width:
                name += " 18+"
            cells: dict[str, str | Text] = {
                "no": str(i + 1),
                "name": name,
                "qty": Text(str(entry.qty), justify="right"),
                "price": Text(price, justify="right"),
                "disc": Text(
                    format_cents(-priced.discount_cents) if priced.discount_cents else "",
                    justify="right",
                ),
                "amount": Text(format_cents(priced.total_cents), justify="right"),
            }
            rows.append(tuple(cells[k] for k in self._keys))
        return rows

    @property
    def selected(self) -> int | None:
        return self.cursor_row if self.row_count else None
