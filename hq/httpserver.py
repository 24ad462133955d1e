"""uvicorn's HTTP/1.1 protocol with a deadline on a request's head.

uvicorn closes idle keep-alive connections, but any byte received cancels that timer and
nothing bounds how long a request's headers may take to arrive: a client sending one
header byte every few seconds ("slowloris") holds a connection for ever, and enough of
them hold every connection the server will accept. Here a connection whose request
head is not complete within :data:`header_timeout` seconds of its first byte (or of the
connection opening) is closed. The body has its own deadline in
:class:`hq.api.middleware.RequestBodyMiddleware`.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

header_timeout: float = 10.0
"""Seconds a request head may take; set from the settings by :func:`hq.app.create_app`
(in each worker process, before it serves)."""


class HeaderTimeoutH11Protocol(H11Protocol):
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:  # a request head is still being received
            self._arm()
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(header_timeout, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()
