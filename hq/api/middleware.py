"""Request-body limits and gzip request bodies, as pure ASGI middleware.

Pure ASGI (not ``BaseHTTPMiddleware``) so the body is read once, with no extra task or
copy per request. The body is buffered here, bounded twice: as sent (``Content-Length``
is checked before reading a byte) and after decompression (``decompress`` is told to stop
one byte past the limit, so a gzip bomb costs at most the limit in memory). Tills gzip
their push batches, which are repetitive JSON and shrink ~10x.
"""

from __future__ import annotations

import zlib

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hq.api.errors import send_error


class _TooLarge(Exception):
    pass


class RequestBodyMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip", ""):
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
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await self._too_large(send)
                return
        if encoding == "gzip" and body:
            try:
                decoded = self._gunzip(bytes(body))
            except _TooLarge:
                await self._too_large(send)
                return
            if decoded is None:
                await send_error(send, 400, "bad_gzip", "request body is not valid gzip")
                return
            body = bytearray(decoded)
            raw = [
                (k, v)
                for k, v in scope["headers"]
                if k.lower() not in (b"content-encoding", b"content-length")
            ]
            raw.append((b"content-length", str(len(body)).encode()))
            scope = {**scope, "headers": raw}
        await self.app(scope, _replay(bytes(body), receive), send)

    def _gunzip(self, data: bytes) -> bytes | None:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out = decompressor.decompress(data, self.max_bytes + 1)
        except zlib.error:
            return None
        if len(out) > self.max_bytes or decompressor.unconsumed_tail:
            raise _TooLarge
        return out if decompressor.eof else None

    async def _too_large(self, send: Send) -> None:
        await send_error(
            send, 413, "payload_too_large", f"request body exceeds {self.max_bytes} bytes"
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
