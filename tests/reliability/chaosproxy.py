"""A fault-injecting HTTP/1.1 proxy on loopback, in front of a real HQ.

One request per connection (``Connection: close`` is forced both ways). With
``rate`` > 0 each request draws a fault from a seeded RNG:

- ``drop``      close the client's connection before forwarding (HQ never sees it)
- ``reset``     the same, with a TCP RST (SO_LINGER 0)
- ``delay``     hold the request 50-400 ms, then forward it normally
- ``five_xx``   answer 503 without forwarding
- ``lost``      forward (HQ commits), then close without answering: a lost answer
- ``truncate``  forward, then send half of HQ's answer and close

``down`` makes HQ unreachable: every connection is closed at once (each one counts as a
fault). Answers HQ itself gives with status >= 500 are counted in ``hq_5xx``: the
harness requires none.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections import Counter

FAULTS = ("drop", "reset", "delay", "five_xx", "lost", "truncate")


class ChaosProxy:
    def __init__(self, upstream_port: int, *, seed: int, rate: float = 0.0) -> None:
        self.upstream_port = upstream_port
        self.rate = rate
        self.down = False
        self.rng = random.Random(seed)
        self.faults: Counter[str] = Counter()
        self.hq_5xx = 0
        self.upstream_unreachable = 0
        self.requests = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def faults_injected(self) -> int:
        return sum(self.faults.values())

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is None:
            return
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

    def _draw(self) -> str | None:
        if self.down:
            return "unreachable"
        if self.rate and self.rng.random() < self.rate:
            return self.rng.choice(FAULTS)
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        fault = self._draw()
        try:
            if fault in ("unreachable", "drop", "reset"):
                self.faults[fault] += 1
                if fault == "reset":
                    sock = writer.get_extra_info("socket")
                    if sock is not None:
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                return
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            lines = head.decode("latin-1").split("\r\n")
            headers = [h for h in lines[1:] if h and not h.lower().startswith("connection:")]
            length = next(
                (
                    int(h.split(":", 1)[1])
                    for h in headers
                    if h.lower().startswith("content-length:")
                ),
                0,
            )
            body = await asyncio.wait_for(reader.readexactly(length), 30)
            self.requests += 1
            if fault:
                self.faults[fault] += 1
            if fault == "five_xx":
                writer.write(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: 4\r\nConnection: close\r\n\r\nnope"
                )
                await writer.drain()
                return
            if fault == "delay":
                await asyncio.sleep(self.rng.uniform(0.05, 0.4))
            request = "\r\n".join([lines[0], *headers, "Connection: close", "", ""]).encode()
            try:
                up_reader, up_writer = await asyncio.open_connection(
                    "127.0.0.1", self.upstream_port
                )
            except OSError:
                self.upstream_unreachable += 1
                return
            try:
                up_writer.write(request + body)
                await up_writer.drain()
                answer = await asyncio.wait_for(up_reader.read(), 60)
            finally:
                up_writer.close()
            if answer.startswith(b"HTTP/1.1 5"):
                self.hq_5xx += 1
            if fault == "lost":
                return
            writer.write(answer[: len(answer) // 2] if fault == "truncate" else answer)
            await writer.drain()
        except (
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ConnectionError,
            TimeoutError,
        ):
            pass
        finally:
            writer.close()
