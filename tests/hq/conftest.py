"""Real HQ processes for the HQ tests: ``kedai-hq serve`` on loopback, SQLite and PostgreSQL.

One server per storage backend for the whole session (two uvicorn workers each, so every
test also exercises the multi-process path); each test enrolls its own terminal, so tests
do not see each other's events. PostgreSQL comes from pytest-postgresql's
``postgresql_proc`` (a temporary cluster from the installed server binaries); without
them the PostgreSQL variants skip, unless ``KEDAI_REQUIRE_POSTGRES=1`` makes that a failure.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_postgresql import factories
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from hq import manage
from tests.hq.pg import pg_ctl_for_tests, postgres_required

PG_CTL = pg_ctl_for_tests()
pg_proc = factories.postgresql_proc(executable=PG_CTL or "pg_ctl", port=None)

SECRET = "test-secret-not-the-default"
TEST_MAX_BODY = 1024 * 1024
TEST_PAGE_MAX = 50
_codes = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Hq:
    """A running ``kedai-hq serve`` and the store behind it."""

    backend: str
    database_url: str
    base_url: str
    proc: subprocess.Popen[bytes]
    log: Path
    _engine: Engine | None = field(default=None, repr=False)

    def enroll(self, outlet: str = "TST") -> tuple[str, str]:
        """Enroll a fresh terminal; return (terminal_id, token)."""
        enrolled = manage.enroll_terminal_sync(
            self.database_url, outlet=outlet, terminal=f"T{next(_codes):04d}"
        )
        return enrolled.terminal_id, enrolled.token

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def scalar(self, sql: str, **params: Any) -> Any:
        """Read the store directly (a sync engine), to check what HQ really wrote."""
        if self._engine is None:
            url = make_url(self.database_url)
            if url.get_backend_name() == "postgresql":
                url = url.set(drivername="postgresql+psycopg")
            else:
                url = url.set(drivername="sqlite")
            self._engine = create_engine(url)
        with self._engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()


def start_hq(
    tmp: Path, database_url: str, backend: str, *, workers: int = 2, env: dict[str, str] | None
) -> Hq:
    port = free_port()
    log = tmp / f"hq-{port}.log"
    full_env = {
        **os.environ,
        "KEDAI_HQ_SECRET_KEY": SECRET,
        "KEDAI_HQ_MAX_BODY_BYTES": str(TEST_MAX_BODY),
        "KEDAI_HQ_CHANGES_PAGE_MAX": str(TEST_PAGE_MAX),
        # test_concurrency sends one terminal's batch 20 times at once, on purpose
        "KEDAI_HQ_TERMINAL_CONCURRENCY": "64",
        **(env or {}),
    }
    argv = manage.serve_argv(database_url=database_url, port=port, workers=workers)
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=full_env)
    return wait_healthy(Hq(backend, database_url, f"http://127.0.0.1:{port}", proc, log))


def wait_healthy(hq: Hq, *, timeout: float = 60) -> Hq:
    """Poll ``GET /healthz`` until the process answers (generous: the machine is busy)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hq.proc.poll() is not None:
            raise RuntimeError(f"kedai-hq serve exited {hq.proc.returncode}:\n{hq.log.read_text()}")
        try:
            if httpx.get(f"{hq.base_url}/healthz", timeout=1).status_code == 200:
                return hq
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    stop_hq(hq)
    raise RuntimeError(f"kedai-hq serve did not answer /healthz:\n{hq.log.read_text()}")


def stop_hq(hq: Hq) -> int:
    if hq._engine is not None:
        hq._engine.dispose()
    if hq.proc.poll() is None:
        hq.proc.send_signal(signal.SIGTERM)
        try:
            hq.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            hq.proc.kill()
            hq.proc.wait()
    return hq.proc.returncode


def _pg_proc(request: pytest.FixtureRequest) -> Any:
    """The session's temporary PostgreSQL cluster (skipped, or failed when required,
    without the server binaries)."""
    if PG_CTL is None:
        if postgres_required():
            pytest.fail("PostgreSQL server binaries not found and KEDAI_REQUIRE_POSTGRES=1")
        pytest.skip("PostgreSQL server binaries not installed")
    return request.getfixturevalue("pg_proc")


def _on_server(proc: Any, sql: str) -> None:
    import psycopg

    with psycopg.connect(
        host=proc.host, port=proc.port, user=proc.user, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> str:
    """A fresh database in the session's temporary PostgreSQL cluster."""
    proc = _pg_proc(request)
    _on_server(proc, "CREATE DATABASE kedai_hq_tests")
    return f"postgresql://{proc.user}@{proc.host}:{proc.port}/kedai_hq_tests"


@pytest.fixture
def own_postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database of this test's own in the session's cluster (empty: not migrated),
    dropped after it."""
    proc = _pg_proc(request)
    name = f"kedai_own_{uuid.uuid4().hex[:12]}"
    _on_server(proc, f"CREATE DATABASE {name}")
    yield f"postgresql://{proc.user}@{proc.host}:{proc.port}/{name}"
    _on_server(proc, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def hq_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hq]:
    tmp = tmp_path_factory.mktemp("hq-sqlite")
    hq = start_hq(tmp, f"sqlite:///{tmp / 'hq.db'}", "sqlite", env=None)
    yield hq
    stop_hq(hq)


@pytest.fixture(scope="session")
def hq_postgres(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[Hq]:
    hq = start_hq(tmp_path_factory.mktemp("hq-pg"), postgres_url, "postgres", env=None)
    yield hq
    stop_hq(hq)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hq(request: pytest.FixtureRequest) -> Hq:
    """The same test against HQ on SQLite and on PostgreSQL."""
    server: Hq = request.getfixturevalue(f"hq_{request.param}")
    return server


@pytest.fixture
def terminal(hq: Hq) -> tuple[str, str]:
    return hq.enroll()
