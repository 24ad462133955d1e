"""Errors a person sees in the browser as a page, not as the API's JSON.

A browser asking for a page (``Accept: text/html``, any path outside ``/v1/``) that ends
in an error (an unknown address, a report asked with "to" before "from", a stale form
without its CSRF token) gets the back office's error page with the same status and the
same words. Tills, scripts and the JSON API keep :mod:`hq.api.errors`' shape, which this
module delegates to for everything else.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hq.api import errors as api_errors
from hq.pages.templating import render, sentence

HEADINGS = {
    400: "Not understood",
    403: "Not allowed",
    404: "Not found",
    405: "Not here",
    413: "Too large",
    422: "Check what was asked",
    429: "Too many tries",
}


def wants_page(request: Request) -> bool:
    """A browser navigating to a back-office page (not the API, not a till)."""
    return not request.url.path.startswith("/v1/") and "text/html" in request.headers.get(
        "accept", ""
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code < 400 or not wants_page(request):  # a redirect (log in first) stays one
        return await api_errors.http_error(request, exc)
    message = str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"There is no page at {request.url.path[:200]}."
    return _page(request, exc.status_code, message, exc.headers)


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not wants_page(request):
        return await api_errors.validation_error(request, exc)
    if all(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
        # /members/not-an-id: an address that names nothing, as a person sees it
        return _page(request, 404, f"There is no page at {request.url.path[:200]}.", None)
    parts = []
    for error in list(exc.errors())[:5]:
        where = str(error.get("loc", ("", ""))[-1])
        what = str(error.get("msg", "")).removeprefix("Value error, ")
        if error.get("type") == "string_pattern_mismatch":  # the pattern means nothing to people
            what = f"{str(error.get('input', ''))[:40]!r} is not in the form this page asks for"
        parts.append(f"{where}: {what}" if where else what)
    return _page(request, 422, "; ".join(parts) + ".", None)


def _page(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None
) -> Response:
    heading = HEADINGS.get(status, "Something went wrong")
    return render(
        request,
        "error.html",
        None,
        status=status,
        headers=dict(headers) if headers else None,
        title=heading,
        heading=heading,
        message=sentence(ValueError(message)),
    )


def install(app: FastAPI) -> None:
    """Installed after :func:`hq.api.errors.install`: these two handlers take the place
    of the API's and hand anything not a page request back to them."""
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
