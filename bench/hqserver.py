"""A real ``kedai-hq serve`` child process on loopback, and terminals enrolled in bulk."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.net import free_port

SECRET_ENV = {"KEDAI_HQ_SECRET_KEY": "bench-" + uuid.uuid4().hex}


def migrate(database_url: str) -> None:
    from hq import manage

    manage.run(database_url, manage.do_migrate)


def enroll_many(database_url: str, outlet: str, codes: list[str]) -> list[tuple[str, str]]:
    """Enroll terminals ``codes`` of ``outlet`` in one unit of work: (terminal_id, token)."""
    from hq import enroll
    from hq.db import open_database

    async def work() -> list[tuple[str, str]]:
        db = open_database(database_url)
        try:
            async with db.sessions() as s, s.begin():
                out = []
                for code in codes:
                    t = await enroll.enroll_terminal(
                        session=s, outlet_code=outlet, terminal_code=code
                    )
                    out.append((t.terminal_id, t.token))
                return out
        finally:
            await db.dispose()

    return asyncio.run(work())


@contextmanager
def serve(database_url: str, log_dir: Path, *, workers: int = 1) -> Iterator[str]:
    """Run ``kedai-hq serve`` on a free port until the block ends; yields its base URL."""
    from hq import manage

    port = free_port()
    argv = manage.serve_argv(database_url=database_url, port=port, workers=workers)
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"hq-{port}.log").open("wb") as log:
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **SECRET_ENV}
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"kedai-hq serve exited with {proc.returncode}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("kedai-hq serve did not become healthy")
            time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
