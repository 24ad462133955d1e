"""Request bodies, framing and response headers, as pure ASGI middleware.

Pure ASGI (not ``BaseHTTPMiddleware``) so the body is read once, with no extra task or
copy per request.

:class:`RequestBodyMiddleware` does not read the body itself: it hands the app a
``receive`` that reads it on first use, so a route's dependencies (the bearer token is
checked by one) run before a byte of the body is read, and an unauthenticated client
cannot make HQ hold its body. The body is bounded twice: as sent (``Content-Length`` is
checked before anything else, and the bytes as they arrive) and after decompression
(``decompress`` is told to stop one byte past the limit, so a gzip bomb costs at most the
limit in memory). Reading the whole body must finish within ``read_timeout`` seconds
(408), so a client trickling a body cannot hold a worker. Tills gzip their push
batches, which are repetitive JSON and shrink ~10x. A request carrying both
``Content-Length`` and ``Transfer-Encoding`` is refused (400): two framings of one body
is how requests are smuggled past a proxy.

:class:`SecurityHeadersMiddleware` puts the same security headers on every answer.
"""

from __future__ import annotations

import asyncio
import zlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hq.api.errors import ApiError, send_error


class _TooLarge(Exception):
    pass


class RequestBodyMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int, read_timeout: float = 30.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout = read_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if "transfer-encoding" in headers and "content-length" in headers:
            await send_error(
                send, 400, "bad_request", "Content-Length and Transfer-Encoding both given"
            )
            return
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip", ""):
            # Read the body before answering: the answer closes the connection, and closing
            # a socket with unread bytes resets it before the client has read the 415.
            await _BodyReader(receive, self.max_bytes, self.read_timeout, gzip=False).drain()
            await send_error(send, 415, "unsupported_encoding", f"cannot decode {encoding!r}")
            return
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await send_error(send, 400, "bad_request", "invalid Content-Length")
                return
            if int(declared) > self.max_bytes:
                await self._too_large(send)
                return
        if encoding == "gzip":
            raw = [
                (k, v)
                for k, v in scope["headers"]
                if k.lower() not in (b"content-encoding", b"content-length")
            ]
            scope = {**scope, "headers": raw}
        reader = _BodyReader(receive, self.max_bytes, self.read_timeout, gzip=encoding == "gzip")
        await self.app(scope, reader.receive, send)
        if not reader.read:
            # Answered without reading the body (401 before the body, 404...): read what
            # the client is still sending, without keeping it, before the connection is
            # closed. Closing a socket with unread data resets it, and a client would then
            # see a reset where HQ answered "your token is revoked".
            await reader.drain()

    async def _too_large(self, send: Send) -> None:
        await send_error(
            send, 413, "payload_too_large", f"request body exceeds {self.max_bytes} bytes"
        )


class _BodyReader:
    """A ``receive`` that reads the whole body on its first call, bounded and in time.

    Errors are raised as :class:`~hq.api.errors.ApiError` inside the route that asked
    for the body, so they leave as the usual JSON error shape.
    """

    def __init__(self, receive: Receive, max_bytes: int, timeout: float, *, gzip: bool) -> None:
        self._receive = receive
        self._max = max_bytes
        self._timeout = timeout
        self._gzip = gzip
        self._done = False

    @property
    def read(self) -> bool:
        """Whether the app asked for the body."""
        return self._done

    async def drain(self) -> None:
        """Read and discard the rest of the body: at most ``max_bytes``, within the deadline."""
        if self._done:
            return
        self._done = True

        async def discard() -> None:
            seen = 0
            while seen <= self._max:
                message = await self._receive()
                if message["type"] != "http.request":
                    return
                seen += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return

        try:
            await asyncio.wait_for(discard(), self._timeout)
        except (TimeoutError, OSError):
            return

    async def receive(self) -> Message:
        if self._done:
            return await self._receive()
        self._done = True
        try:
            body = await asyncio.wait_for(self._read(), self._timeout)
        except TimeoutError:
            raise ApiError(
                408, "request_timeout", f"request body not received within {self._timeout:g}s"
            ) from None
        if body is None:
            raise ApiError(400, "client_disconnected", "the client went away mid-body")
        if self._gzip and body:
            body = self._gunzip(body)
        return {"type": "http.request", "body": body, "more_body": False}

    async def _read(self) -> bytes | None:
        body = bytearray()
        more = True
        while more:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self._max:
                raise _too_large(self._max)
        return bytes(body)

    def _gunzip(self, data: bytes) -> bytes:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out = decompressor.decompress(data, self._max + 1)
        except zlib.error:
            out = None
        if out is not None and (len(out) > self._max or decompressor.unconsumed_tail):
            raise _too_large(self._max)
        if out is None or not decompressor.eof:
            raise ApiError(400, "bad_gzip", "request body is not valid gzip")
        return out


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"request body exceeds {max_bytes} bytes")


# ------------------------------------------------------------------------ answer headers

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""Every asset is served by HQ itself (no CDN); scripts only from files, never inline."""

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
)


class SecurityHeadersMiddleware:
    """Security headers on every answer; ``Cache-Control: no-store`` on private ones.

    An answer is private when the request carried credentials (a bearer token, basic
    auth or a session cookie) or is under ``/v1/``: no shared cache or browser history
    may keep a till's or an admin's data. A header the route set itself is kept.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        private = (
            "authorization" in request_headers
            or "cookie" in request_headers
            or str(scope.get("path", "")).startswith("/v1/")
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    if name not in headers:
                        headers[name] = value
                if private and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
