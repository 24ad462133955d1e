"""Loopback helpers shared by the benchmarks."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def get_from_noop(bodies: list[bytes], headers: dict[str, str] | None = None) -> float:
    """Seconds for one ``httpx.AsyncClient`` to GET ``bodies`` in turn from a do-nothing
    asyncio HTTP server that answers each request with the next body (a transport floor)."""
    import asyncio
    import time

    import httpx

    queue = list(reversed(bodies))
    handlers: list[asyncio.Task[None]] = []
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()).encode()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.append(task)
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                body = queue.pop()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra
                    + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
                )  # fmt: skip
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, httpx.AsyncClient() as client:
        started = time.perf_counter()
        for _ in range(len(bodies)):
            response = await client.get(f"http://127.0.0.1:{port}/v1/sync/changes")
            response.raise_for_status()
            _ = response.content
        elapsed = time.perf_counter() - started
    await asyncio.gather(*handlers)
    return elapsed
