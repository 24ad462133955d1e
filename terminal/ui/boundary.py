"""The UI's one error boundary: what a cashier is told when an action fails.

Services raise :class:`~terminal.services.errors.TillError` for everything a cashier can
act on, and the pure domain raises its own (:class:`CartError`, :class:`MoneyError`,
:class:`TenderError`) for what was typed: all are said in their own words. Anything else
is a bug or a fault below the services: it is logged in full to the till log and said as
one sentence, so that no screen is left stuck on "Saving..." or shows a traceback.

Use::

    with self.boundary("parking the sale", title="Park") as outcome:
        view = await parked.park_sale(...)
    if outcome.failed:
        return  # the cashier has been told; the screen is as it was

Each screen says where the words go (:meth:`TillScreen.error`: a bell, a line on the
screen that stays, and a toast), or passes ``show=`` for a dialog's own error line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from terminal.domain.cart import CartError
from terminal.domain.money import MoneyError
from terminal.domain.tender import TenderError
from terminal.services.errors import TillError
from terminal.ui.failures import unexpected

log = logging.getLogger("terminal.ui")

TOLD = (TillError, CartError, MoneyError, TenderError)
"""Errors whose message is written for the cashier."""


def words(exc: BaseException) -> str:
    """The cashier's sentence for a told error (a TillError's message, else its text)."""
    if isinstance(exc, TillError):
        return exc.message
    text = str(exc)
    return text[:1].upper() + text[1:]


@dataclass
class Outcome:
    failed: bool = False
    message: str = ""
    error: Exception | None = None
    """What was raised (for a caller that acts on its kind, e.g. which field was wrong)."""


@contextmanager
def boundary(doing: str, show: Callable[[str], None]) -> Iterator[Outcome]:
    """Run the block; on an error, ``show`` the words for it and mark the outcome failed.

    ``doing`` ("parking the sale") names the action in the log and in the sentence for
    an unexpected error. Cancellation (``CancelledError``) is never caught.
    """
    outcome = Outcome()
    try:
        yield outcome
    except TOLD as exc:
        outcome.failed, outcome.message, outcome.error = True, words(exc), exc
        log.info("told the cashier while %s: %s", doing, outcome.message)
        show(outcome.message)
    except Exception as exc:
        outcome.failed, outcome.message, outcome.error = True, unexpected(exc, doing), exc
        show(outcome.message)
