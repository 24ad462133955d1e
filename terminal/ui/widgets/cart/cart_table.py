"""The cart as a table: one row per line, the cursor marks the line Qty/Disc/Void act on.

Rows are computed from the whole cart on every change, so the table can never disagree
with the cart. Each row is drawn once into a line of segments (a :class:`Strip`) and kept
by its content: a scan draws the one new row, and the other rows on screen come from the
cache. (A ``DataTable`` forgets every drawn row on any change, so each scan redrew the
whole visible cart cell by cell: most of a scan's time on a cheap till.)

The item name gets the width: on a narrow screen (80 columns) the line number and unit
price columns go (the cursor marks the line; the amount is on the row), and the
discount column shows only once a line has a discount, so a name such as
"Milo 3-in-1 Sachets 18x33g" keeps its size at 80x24.

A price override is marked with ``*`` after the price the line sells at (in the name,
``@6.50*``, when the price column is not shown), so a cashier and a manager can see it.

It looks like a ``DataTable`` and takes its styles by the same component names
(``datatable--header``, ``--cursor``, ``--even-row``, ``--odd-row``), so the theme and
``app.tcss`` style both alike.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from terminal.domain.cart import Totals
from terminal.domain.money import format_cents
from terminal.ui.cart import Cart

NARROW = 72
"""Below this width (cells) the table drops the line number and unit price."""
PADDING = 1
"""Blank cells either side of each column's text."""
AGE_CHECKED = " ID"
"""After an age-restricted item's name once the customer's age was confirmed (an age
such as "18+" would be wrong for tobacco, 21 in Singapore)."""

Justify = Literal["left", "right"]


class Column(NamedTuple):
    key: str
    label: str
    width: int
    justify: Justify


Row = tuple[str, ...]
"""The text of each cell of a row, in column order."""


class CartTable(ScrollView, can_focus=False):
    COMPONENT_CLASSES = {
        "datatable--header",
        "datatable--cursor",
        "datatable--even-row",
        "datatable--odd-row",
    }
    DEFAULT_CSS = """
    CartTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
        &:dark > .datatable--even-row { background: $surface-darken-1 40%; }
        & > .datatable--header { text-style: bold; background: $panel; color: $foreground; }
        & > .datatable--even-row { background: $surface-lighten-1 50%; }
        & > .datatable--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__(id="cart")
        self._cart: Cart | None = None
        self._totals: Totals | None = None
        self._columns: list[Column] = []
        self._layout: tuple[bool, bool, int, Needs] | None = None
        """(wide, discount column, width, the figures' widths) the columns were built for."""
        self._rows: list[Row] = []
        self._cursor = 0
        self._strips: dict[tuple[object, ...], Strip] = {}
        """Drawn rows by content, for the rows the cart has now (see :meth:`_forget`)."""

    # ------------------------------------------------------------------ reading

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def selected(self) -> int | None:
        return self._cursor if self._rows else None

    def get_row_at(self, index: int) -> Row:
        """The cells of row ``index`` as shown."""
        return self._rows[index]

    # ------------------------------------------------------------------ changing

    def show(self, cart: Cart, totals: Totals | None, *, select: int | None = None) -> None:
        """Show the cart; rows drawn before come from the cache."""
        self._cart, self._totals = cart, totals
        discounts = any(e.discount_cents for e in cart.entries)
        width = self._width()
        wide = width >= NARROW
        figures = _figures(cart, totals)
        needs = _needs(figures)
        layout = (wide, discounts or wide, width, needs)
        if layout != self._layout:
            self._layout = layout
            self._columns = _columns(width, wide=wide, discounts=discounts, needs=needs)
        self._rows = _rows(cart, figures, self._columns)
        self._forget()
        self._set_virtual_size(Size(width, len(self._rows) + 1))
        if select is not None:
            self._cursor = select
        self._cursor = max(0, min(self._cursor, len(self._rows) - 1))
        self._scroll_to_cursor()
        self.refresh()

    def _forget(self) -> None:
        """Drop the drawn rows the cart no longer has (and any drawn for other columns).

        A plain dict pruned here, not an LRU cache: Textual's ``LRUCache`` links its
        entries in cycles, so every row it evicted (a strip and its seven caches) was
        garbage only the full collection could free. Those made most of what each full
        collection walked on a scan, and the slowest scans were the ones that met one.
        """
        rows, columns = set(self._rows), tuple(self._columns)
        self._strips = {
            key: strip
            for key, strip in self._strips.items()
            if key[3] == columns and (key[0] in rows or key[1] == "datatable--header")
        }

    def _set_virtual_size(self, size: Size) -> None:
        """A new row changes only what scrolls: update the scrollbars, not the screen.

        ``Widget.virtual_size`` asks for a layout of the whole screen when it changes, once
        per scan here. What a layout would do for this widget is its scroll update (the
        scrollbar shown or not, its window, the scroll clamped), so that is done directly;
        when the scrollbar appears or goes, its own reactive still asks for the layout
        that makes room for it.
        """
        if size == self.virtual_size:
            return
        self.set_reactive(CartTable.virtual_size, size)
        if self.is_mounted:
            self._scroll_update(size)

    def move_cursor(self, *, row: int) -> None:
        if not self._rows:
            return
        self._cursor = max(0, min(row, len(self._rows) - 1))
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)  # less the header
        top = round(self.scroll_y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=False, immediate=True)

    def _width(self) -> int:
        """The width rows are laid out for: the widget less the scrollbar's room, so the
        columns do not move when the cart grows past the screen."""
        return max(1, self.size.width - self.styles.scrollbar_size_vertical)

    def on_resize(self) -> None:
        if self._cart is not None:
            self.show(self._cart, self._totals)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.move_cursor(row=round(self.scroll_y) + event.y - 1)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    # ------------------------------------------------------------------ drawing

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._strip(tuple(c.label for c in self._columns), "datatable--header", width)
        index = round(self.scroll_y) + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        if index == self._cursor:
            component = "datatable--cursor"
        else:
            component = "datatable--odd-row" if index % 2 else "datatable--even-row"
        return self._strip(self._rows[index], component, width)

    def _strip(self, cells: Row, component: str, width: int) -> Strip:
        key = (cells, component, width, tuple(self._columns))
        strip = self._strips.get(key)
        if strip is None:
            style = self.rich_style + self.get_component_rich_style(component)
            text = "".join(
                _cell(cell, column, header=component == "datatable--header")
                for cell, column in zip(cells, self._columns, strict=True)
            )
            strip = Strip([Segment(set_cell_size(text, width), style)], width)
            self._strips[key] = strip
        return strip


def _cell(text: str, column: Column, *, header: bool) -> str:
    justify = "left" if header and column.key in ("no", "name") else column.justify
    if cell_len(text) > column.width:
        text = set_cell_size(text, column.width)
    room = column.width - cell_len(text)
    body = text + " " * room if justify == "left" else " " * room + text
    return " " * PADDING + body + " " * PADDING


class Figures(NamedTuple):
    """One line's figures as the table shows them."""

    qty: str
    price: str
    """The price it sells at, ``*`` after an override."""
    disc: str
    amount: str


class Needs(NamedTuple):
    """The widest quantity, price, discount and amount the cart shows (cells)."""

    qty: int = 0
    price: int = 0
    disc: int = 0
    amount: int = 0


def _figures(cart: Cart, totals: Totals | None) -> list[Figures]:
    if totals is None:
        return []
    return [
        Figures(
            qty=str(entry.qty),
            price=format_cents(entry.unit_price_cents)
            + ("*" if entry.override_cents is not None else ""),
            disc=format_cents(-priced.discount_cents) if priced.discount_cents else "",
            amount=format_cents(priced.total_cents),
        )
        for entry, priced in zip(cart.entries, totals.lines, strict=True)
    ]


def _needs(figures: list[Figures]) -> Needs:
    """How wide the figures are, so that a column is never narrower than one of them: a
    figure cut to fit (``999`` for 9,999) would tell the cashier a wrong number."""
    if not figures:
        return Needs()
    return Needs(
        qty=max(len(f.qty) for f in figures),
        price=max(len(f.price) for f in figures),
        disc=max(len(f.disc) for f in figures),
        amount=max(len(f.amount) for f in figures),
    )


def _columns(width: int, *, wide: bool, discounts: bool, needs: Needs) -> list[Column]:
    """The columns for this width, each as wide as its widest figure; the name takes what
    the others leave."""
    fixed: list[Column] = []
    if wide:
        fixed.append(Column("no", "#", 2, "left"))
    fixed.append(Column("qty", "Qty", max(3, needs.qty), "right"))
    if wide:
        fixed.append(Column("price", "Price", max(7, needs.price), "right"))
    if discounts or wide:
        fixed.append(Column("disc", "Disc", max(6, needs.disc), "right"))
    fixed.append(Column("amount", "Amount", max(8, needs.amount), "right"))
    pad = 2 * PADDING
    used = sum(c.width + pad for c in fixed) + pad
    name = Column("name", "Item", max(8, width - used), "left")
    at = next(i for i, c in enumerate(fixed) if c.key == "qty")
    return [*fixed[:at], name, *fixed[at:]]


def _rows(cart: Cart, figures: list[Figures], columns: list[Column]) -> list[Row]:
    width = next(c.width for c in columns if c.key == "name")
    keys = [c.key for c in columns]
    wide = "price" in keys
    rows = []
    for i, (entry, shown) in enumerate(zip(cart.entries, figures, strict=True)):
        name = entry.product.name
        tag = f" @{shown.price}" if entry.override_cents is not None and not wide else ""
        if len(name) + len(tag) > width:
            name = name[: max(1, width - len(tag) - 1)] + "…"
        name += tag
        if entry.age_checked and len(name) + len(AGE_CHECKED) <= width:
            name += AGE_CHECKED
        cells = {"no": str(i + 1), "name": name, **shown._asdict()}
        rows.append(tuple(cells[k] for k in keys))
    return rows
