"""Asking before a back-office action that cannot be undone from the back office.

The back office runs no script (its content security policy allows none inline), so the
question is a page: the first press of Revoke, Re-enroll or Remove posts the form as
before and is answered with a page that says what will happen, the same form again with
``confirm=1``, and a way back. Nothing changes until that second press. A request for
something that is not there (or no longer live) skips the question and gets the
action's own error, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from hq.api.admin import AdminContext
from hq.pages.templating import render

CONFIRMED = "1"
Confirm = Annotated[str, Form(max_length=1)]
"""The form field a confirmation page's own form carries; absent on the first press."""


def ask(
    request: Request,
    admin: AdminContext,
    *,
    title: str,
    consequence: str,
    action: str,
    button: str,
    back: str,
    fields: Sequence[tuple[str, str]] = (),
) -> Response:
    """The question page: ``title`` as a question, what follows, and the form once more."""
    return render(
        request,
        "confirm.html",
        admin,
        title=title,
        consequence=consequence,
        action=action,
        button=button,
        back=back,
        fields=list(fields),
        confirmed=CONFIRMED,
    )
