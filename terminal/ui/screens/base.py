"""Base classes for the till's screens and dialogs: the port and the error boundary.

Every screen reaches the app through :attr:`till` (a typed :class:`TillPort`, never the
app class) and reports failures through :meth:`boundary` / :meth:`error`, so each
handler is only what it does.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from textual.screen import ModalScreen, Screen
from textual.widgets import Label

from terminal.ui.boundary import Outcome, boundary
from terminal.ui.port import TillPort, till_of

ResultT = TypeVar("ResultT")

ERROR_TIMEOUT = 10.0
"""Seconds a toast stays; what must be read also stays on the screen (``#message``)."""


def show_error(screen: Screen[Any], text: str, title: str) -> None:
    """Bell, the screen's own message line (if it has one) and a toast."""
    screen.app.bell()
    for line in screen.query("#message").results(Label):
        line.update(text)
        line.set_class(bool(text), "error")
    screen.notify(text, title=title, severity="error", timeout=ERROR_TIMEOUT)


class TillScreen(Screen[ResultT]):
    @property
    def till(self) -> TillPort:
        return till_of(self.app)

    def error(self, text: str, title: str = "") -> None:
        show_error(self, text, title)

    def boundary(
        self, doing: str, *, title: str = "", show: Callable[[str], None] | None = None
    ) -> AbstractContextManager[Outcome]:
        return boundary(doing, show or (lambda text: self.error(text, title)))


class TillModal(ModalScreen[ResultT]):
    @property
    def till(self) -> TillPort:
        return till_of(self.app)

    def error(self, text: str, title: str = "") -> None:
        show_error(self, text, title)

    def boundary(
        self, doing: str, *, title: str = "", show: Callable[[str], None] | None = None
    ) -> AbstractContextManager[Outcome]:
        return boundary(doing, show or (lambda text: self.error(text, title)))
