"""Driving the till like a cashier does, for the Pilot tests."""

from __future__ import annotations

from textual import events
from textual.pilot import Pilot

from terminal.ui.app import KedaiTill
from terminal.ui.screens.sale import SaleScreen


async def settle(pilot: Pilot[None]) -> None:
    """Let every worker finish and the screen catch up (STYLE: before asserting)."""
    app = pilot.app
    screen = app.screen
    if isinstance(screen, SaleScreen):
        await screen.scans_settled()
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def login(pilot: Pilot[None], pin: str = "1234", *, float_text: str = "") -> SaleScreen:
    """Type the PIN, accept the opening float, land on the sale screen."""
    await settle(pilot)
    await pilot.press(*pin, "enter")
    await settle(pilot)
    if float_text:
        await pilot.press(*float_text)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SaleScreen), type(screen)
    return screen


async def scan(pilot: Pilot[None], *codes: str) -> None:
    for code in codes:
        await pilot.press(*code, "enter")
    await settle(pilot)


def sale_screen(app: KedaiTill) -> SaleScreen:
    for screen in app.screen_stack:
        if isinstance(screen, SaleScreen):
            return screen
    raise AssertionError("no sale screen")


def text_of(app: KedaiTill, selector: str) -> str:
    """The plain text a Static/Label shows (markup stripped)."""
    from rich.text import Text
    from textual.widgets import Static

    widget = app.screen.query_one(selector, Static)
    content = widget.content
    if isinstance(content, Text):
        return content.plain
    return Text.from_markup(str(content)).plain


def notices(app: KedaiTill) -> list[str]:
    """Every notification shown so far (toasts), oldest first."""
    return [n.message for n in app._notifications]


_NAMED_CHARACTERS = {"enter": "\r", "escape": "\x1b", "tab": "\t", "backspace": "\x7f"}


def burst(app: KedaiTill, *keys: str) -> None:
    """Queue keystrokes all at once, as fast as a scanner's (or a hurried cashier's).

    ``pilot.press`` waits for the app to go idle after every key; this does not, so the
    app sees keys arrive while its workers are still busy.
    """
    driver = app._driver
    assert driver is not None
    for key in keys:
        # A named key (f9, escape) is not text: only single characters carry themselves.
        event = events.Key(key, key if len(key) == 1 else _NAMED_CHARACTERS.get(key))
        event.set_sender(app)
        driver.send_message(event)
