"""What keeps the till quick, checked by what it does rather than by a clock: a scan does
not re-lay out the screen for what cannot move (the scan box takes a barcode's keystrokes
without asking for layouts or posting a change per digit; labels whose text keeps its
shape are repainted only, and text that changes a label's height still gets its layout),
and start-up keeps its heap out of the garbage collector's full passes."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from sync.demo_data import DEMO_BARCODE, demo_products
from terminal.ui.heap import freeze_long_lived_heap
from terminal.ui.widgets.cart.cart_table import CartTable
from terminal.ui.widgets.header.till_header import TillHeader
from terminal.ui.widgets.scan.scan_input import ScanInput
from terminal.ui.widgets.text import show_text
from tests.ui.helpers import login, scan, settle


def count_layouts(widget: Widget, monkeypatch: Any) -> list[int]:
    asked: list[int] = []
    real = widget.refresh

    def refresh(*regions: Any, **kw: Any) -> Widget:
        if kw.get("layout"):
            asked.append(1)
        return real(*regions, **kw)

    monkeypatch.setattr(widget, "refresh", refresh)
    return asked


async def test_typing_a_barcode_asks_for_no_layout_and_posts_no_changes(
    make_app, monkeypatch
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        box = app.screen.query_one(ScanInput)
        asked = count_layouts(box, monkeypatch)
        posted: list[str] = []
        real_post = box.post_message

        def post(message: Any) -> bool:
            if real_post(message):
                posted.append(type(message).__name__)
                return True
            return False

        monkeypatch.setattr(box, "post_message", post)
        await pilot.press(*DEMO_BARCODE)
        await settle(pilot)
        assert asked == [] and box.value == DEMO_BARCODE
        await pilot.press("enter")
        await settle(pilot)
        assert len(app.screen.cart) == 1 and box.value == ""
        assert "Changed" not in posted  # nothing listens; each one bubbled to the app
        # a code longer than the box still scrolls to show its end, and still scans
        await scan(pilot, "0" * 70 + DEMO_BARCODE)
        assert len(app.screen.cart) == 1 and "Unknown barcode" in str(
            app.screen.query_one("#message").content
        )
        await pilot.press(*("0" * 70))
        await settle(pilot)
        assert box.scroll_offset.x > 0


async def test_scans_of_short_and_long_names_lay_out_nothing(make_app, monkeypatch) -> None:
    """A scan changes the cart, the totals and the last-scan lines, none of which can
    move anything else: no widget asks for a layout of the screen (the last-scan text
    wrapping to one line or two did, on about a third of the scans)."""
    products = {p.sku: p for p in demo_products()}
    short, long = products["TOFU-TAU"], products["NOOD-5P"]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await scan(pilot, short.barcode)  # the first line may set the cart up
        await settle(pilot)
        asked: list[str] = []
        real = Widget.refresh

        def refresh(self: Widget, *regions: Any, **kw: Any) -> Widget:
            if kw.get("layout"):
                asked.append(f"{type(self).__name__}#{self.id}")
            return real(self, *regions, **kw)

        monkeypatch.setattr(Widget, "refresh", refresh)
        await scan(pilot, long.barcode)
        await settle(pilot)
        name = app.screen.query_one("#last-scan")
        assert name.render_line(0).text.strip() == "Last: Instant Curry"
        assert name.render_line(1).text.strip() == "Noodles 5-pack"
        await scan(pilot, short.barcode)
        await settle(pilot)
        assert name.render_line(0).text.strip() == f"Last: {short.name}"
        assert name.render_line(1).text.strip() == ""
        price = app.screen.query_one("#last-price")
        assert price.render_line(0).text.strip() == "S$1.50"
        app.screen.query_one(TillHeader)._tick()  # each second; the minute shown is the same
        assert asked == []
        assert len(app.screen.cart) == 3


async def test_the_cart_keeps_drawn_rows_only_for_the_lines_it_has(make_app) -> None:
    """A row is drawn once while its line is in the cart, and let go with the line (a
    plain dict: an LRU cache's evictions were cycles left for the full collection)."""
    products = {p.sku: p for p in demo_products()}
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await scan(pilot, *(products[s].barcode for s in ("TOFU-TAU", "NOOD-5P", "KOPI-001")))
        await settle(pilot)
        table = app.screen.query_one(CartTable)
        first = table.render_line(1)
        assert first.text.strip().startswith("Tau Kwa 4s")
        await scan(pilot, products["MILK-1L"].barcode)
        await settle(pilot)
        assert table.render_line(1) is first  # the same line: not drawn again
        kept = {key[0] for key in table._strips.keys() if key[1] != "datatable--header"}
        assert kept <= {table.get_row_at(i) for i in range(table.row_count)}
        await pilot.press("f4")  # park: the next cart is empty
        await settle(pilot)
        assert table.row_count == 0
        assert all(key[1] == "datatable--header" for key in table._strips.keys())


class Labels(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("one line", id="fixed")
        yield Static("auto", id="auto")
        yield Static("two lines high", id="high")

    CSS = """
    #fixed { width: 20; height: auto; }
    #auto { width: auto; height: auto; }
    #high { width: 20; height: 2; }
    """


async def test_show_text_lays_out_only_when_the_size_can_change(monkeypatch) -> None:
    app = Labels()
    async with app.run_test(size=(40, 10)) as pilot:
        fixed = app.query_one("#fixed", Static)
        asked = count_layouts(fixed, monkeypatch)
        show_text(fixed, "another line")  # same height at width 20: a repaint only
        show_text(fixed, "another line")  # the same text: nothing at all
        await pilot.pause()
        assert asked == [] and fixed.size.height == 1
        assert "another line" in fixed.render_line(0).text
        show_text(fixed, "a line much too long to fit in twenty cells")  # wraps: layout
        await pilot.pause()
        assert asked and fixed.size.height == 3
        show_text(fixed, "two\nlines")
        await pilot.pause()
        assert fixed.size.height == 2
        auto = app.query_one("#auto", Static)
        asked_auto = count_layouts(auto, monkeypatch)
        show_text(auto, "a wider text")  # its width follows the text: a layout
        await pilot.pause()
        assert asked_auto and auto.size.width == len("a wider text")
        asked_auto.clear()
        show_text(auto, "as wide text")
        await pilot.pause()  # one line as wide as before: painted in place
        assert asked_auto == [] and "as wide text" in auto.render_line(0).text
        show_text(auto, "[b]as[/b] wi")  # as many characters, fewer shown: a layout
        await pilot.pause()
        assert asked_auto and auto.size.width == len("as wi")
        asked_auto.clear()
        show_text(auto, "two\nlines")
        await pilot.pause()
        assert asked_auto and auto.size.height == 2
        high = app.query_one("#high", Static)
        asked_high = count_layouts(high, monkeypatch)
        show_text(high, "a line much too long to fit in twenty cells")  # its height is set
        await pilot.pause()
        assert asked_high == [] and high.size.height == 2
        assert high.render_line(1).text.strip() == "to fit in twenty"


async def test_start_up_freezes_its_heap_out_of_full_collections(make_app) -> None:
    """A full collection walked the whole start-up heap (80-160 ms while the agent drained,
    with the UI unable to answer a key); start-up moves it to the permanent generation."""
    import gc

    gc.unfreeze()
    try:
        assert gc.get_freeze_count() == 0
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert app.ready.is_set() and app.startup_error is None
            assert gc.get_freeze_count() > 10_000  # Textual, SQLAlchemy, pydantic, screens
            at_login = gc.get_freeze_count()
            screen = await login(pilot)
            await settle(pilot)
            assert gc.get_freeze_count() > at_login, "the sale screen is frozen once shown"
            # Frozen objects are in no generation the collector walks.
            assert all(o is not screen for o in gc.get_objects())
    finally:
        gc.unfreeze()


def test_freezing_again_lets_go_of_what_died_since() -> None:
    """Each log-in freezes what is alive; the previous session's screen must not be kept
    for good, or every log-in would leak one."""
    import gc
    import weakref

    class Node:
        me: object

    gc.unfreeze()
    try:
        node = Node()
        node.me = node  # a cycle: only the collector frees it
        ref = weakref.ref(node)
        freeze_long_lived_heap()
        del node
        gc.collect()
        assert ref() is not None, "frozen: full collections do not look at it"
        freeze_long_lived_heap()
        assert ref() is None, "handed back, collected, the rest frozen again"
    finally:
        gc.unfreeze()
