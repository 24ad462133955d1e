"""The cart table on a small screen: the selected line stays in view as the cart grows
past the screen and as the cashier moves up and down, and a scan draws only the rows that
changed (the rows already drawn come from the cache)."""

from __future__ import annotations

from typing import Any

from sync.demo_data import demo_products
from terminal.domain.money import format_cents
from terminal.ui.widgets.cart import cart_table
from terminal.ui.widgets.cart.cart_table import CartTable
from tests.ui.helpers import login, scan, settle

PRODUCTS = [p for p in demo_products() if p.barcode and not p.age_restricted][:22]


def visible(table: CartTable) -> list[str]:
    """The text of every line the table shows, header first."""
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


async def test_the_selected_line_stays_in_view_as_the_cart_outgrows_the_screen(
    make_app,
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await scan(pilot, *(p.barcode for p in PRODUCTS))
        table = app.screen.query_one(CartTable)
        assert table.row_count == len(PRODUCTS) > table.scrollable_content_region.height
        lines = visible(table)
        assert lines[0].split()[:2] == ["Item", "Qty"]
        assert PRODUCTS[-1].name[:12] in lines[-1]  # the line just scanned, selected
        assert table.selected == len(PRODUCTS) - 1
        assert not any(PRODUCTS[0].name[:12] in line for line in lines)
        for _ in PRODUCTS:
            await pilot.press("up")
        await settle(pilot)
        lines = visible(table)
        assert table.selected == 0
        assert PRODUCTS[0].name[:12] in lines[1]  # scrolled back to the top
        await pilot.press("down")
        await settle(pilot)
        assert table.selected == 1


async def test_a_scan_draws_the_new_row_and_not_the_whole_cart(make_app, monkeypatch) -> None:
    drawn: list[str] = []
    real = cart_table._cell

    def counting(text: str, column: Any, *, header: bool) -> str:
        if column.key == "name":
            drawn.append(text)
        return real(text, column, header=header)

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await login(pilot)
        await scan(pilot, *(p.barcode for p in PRODUCTS[:15]))
        monkeypatch.setattr(cart_table, "_cell", counting)
        await scan(pilot, PRODUCTS[15].barcode)
        table = app.screen.query_one(CartTable)
        assert table.row_count == 16
        # The new line (selected) and the line that was selected before: 2 of 16 rows.
        assert sorted(drawn) == sorted([PRODUCTS[15].name, PRODUCTS[14].name])


async def test_figures_are_never_cut_to_fit_at_80_columns(make_app) -> None:
    """9,999 of an item costs five figures: the quantity and amount columns widen for them
    (a column cut to its old width showed 999 and 36,496.3)."""
    product = PRODUCTS[0]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await scan(pilot, product.barcode)
        await pilot.press("f6", *"9999", "enter")
        await settle(pilot)
        table = app.screen.query_one(CartTable)
        amount = format_cents(9999 * product.price_cents)
        assert len(amount) > 8, "the test needs an amount wider than the column's default"
        assert table.get_row_at(0)[-2:] == ("9999", amount)
        assert visible(table)[1].split()[-2:] == ["9999", amount]
        assert all(len(line) <= 80 for line in visible(table))
