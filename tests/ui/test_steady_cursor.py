"""Snapshots must not depend on how fast the machine is.

An ``Input`` blinks its cursor by a 0.5 s timer: on a busy machine a snapshot taken after
a slow settle caught the cursor hidden and differed in styling alone. A till made with
``cursor_blink=False`` (as every test's is) stops each input's blink as it gets focus.
"""

from __future__ import annotations

from textual.widgets import Input

from tests.ui.helpers import login, settle


def _steady(app) -> None:  # type: ignore[no-untyped-def]
    focused = app.screen.focused
    assert isinstance(focused, Input), focused
    assert focused.cursor_blink is False
    assert focused._cursor_visible is True
    timer = focused._blink_timer
    assert timer is not None and not timer._active.is_set(), "the blink timer still runs"


async def test_every_focused_input_holds_its_cursor_still(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        _steady(app)  # login PIN
        await login(pilot)
        _steady(app)  # scan input
        await pilot.press("f6")
        await settle(pilot)
        assert app.screen.focused is not None  # empty cart: still the scan input
        _steady(app)


async def test_a_blinking_till_is_still_the_default(make_app) -> None:
    app = make_app(cursor_blink=True)
    async with app.run_test() as pilot:
        await settle(pilot)
        focused = app.screen.focused
        assert isinstance(focused, Input) and focused.cursor_blink is True
