"""What the till does with an error nobody planned for, at the UI's boundary.

Services raise :class:`~terminal.services.errors.TillError` for everything a cashier can
act on. Anything else is a bug or a fault below the services (a driver error, a full
disk the translation missed): the screen must not be left stuck or show a traceback, so
each worker that a cashier waits on catches it, logs it in full to the till log with
this helper, puts its screen back in a usable state and says so in words.
"""

from __future__ import annotations

import logging

log = logging.getLogger("terminal.ui")


def unexpected(exc: BaseException, doing: str) -> str:
    """Log ``exc`` with its traceback; return a short sentence for the cashier."""
    log.error("unexpected error while %s", doing, exc_info=exc)
    return (
        f"Something went wrong while {doing} ({type(exc).__name__}); details are in the till log."
    )
