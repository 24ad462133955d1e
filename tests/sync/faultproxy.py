"""A small HTTP/1.1 proxy in front of a real HQ that breaks push answers on demand.

One request per connection (it asks HQ for ``Connection: close``, so the client never
reuses a socket the proxy is about to drop). Faults are consumed one per push:

- ``"hang_after"``   forward (HQ commits the batch), then never answer: a lost answer
- ``"drop"``         forward, then send half of HQ's answer and close the connection
"""

from __future__ import annotations

import asyncio
import contextlib


class FaultProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.faults: list[str] = []
        self.applied: list[str] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._server.wait_closed()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = [h for h in lines[1:] if h and not h.lower().startswith("connection:")]
            length = next(
                (
                    int(h.split(":", 1)[1])
                    for h in headers
                    if h.lower().startswith("content-length:")
                ),
                0,
            )
            body = await reader.readexactly(length)
            fault = self.faults.pop(0) if path.startswith("/v1/sync/push") and self.faults else None
            if fault:
                self.applied.append(fault)
            request = "\r\n".join([lines[0], *headers, "Connection: close", "", ""]).encode()
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            up_writer.write(request + body)
            await up_writer.drain()
            answer = await up_reader.read()
            up_writer.close()
            if fault == "hang_after":
                await asyncio.sleep(60)
                return
            writer.write(answer[: len(answer) // 2] if fault == "drop" else answer)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
