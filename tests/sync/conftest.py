"""Fixtures for the sync agent: the real HQ app in-process, real till files, and sales.

HQ is ``hq.app.create_app`` over its own SQLite file, reached through
``httpx.ASGITransport`` wrapped in :class:`FaultTransport`, which records what the agent
sends and breaks push requests on demand. A migrated, seeded HQ file with this till's
terminal enrolled, and a migrated till file with the demo store, are built once per
session and copied for each test, so every test starts from a fresh HQ and a fresh till
in a file copy's time. What HQ did is read from its own store.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina
from pydantic import SecretStr
from sqlalchemy import select

from hq import enroll as hq_enroll
from hq import migrate as hq_migrate
from hq import seed as hq_seed
from hq.app import create_app
from hq.config import Settings
from hq.db import Database as HqDatabase
from hq.db import open_database as open_hq_database
from sync.agent import SyncAgent, enroll
from terminal.db.engine import Database, open_database
from terminal.db.models import Cashier, Customer
from terminal.services.catalog import list_products
from terminal.services.checkout import finalize_sale
from terminal.services.schemas import CartItemIn, CheckoutRequest, TenderIn
from terminal.services.setup import init_till, seed_demo
from terminal.services.simulate import random_request
from terminal.services.sync_store import TillSyncStore
from terminal.services.uow import reading

TERMINAL = "DEMO-T01"
OTHER_TERMINAL = "DEMO-T02"
URL = "http://hq.test"
SECRET = "sync-tests-secret-not-the-default"


@pytest.fixture(autouse=True)
def _fast_retries() -> Iterator[None]:
    """stamina's testing mode: no sleeping between retries, one attempt per cycle."""
    with stamina.set_testing(True, attempts=1):
        yield


# ------------------------------------------------------------------------------ HQ


@dataclass(frozen=True)
class HqTemplate:
    """A migrated HQ file with the demo data and two terminals of outlet DEMO enrolled."""

    path: Path
    tokens: dict[str, str]


async def _build_template(path: Path) -> dict[str, str]:
    db = open_hq_database(f"sqlite:///{path}")
    try:
        await hq_migrate.upgrade(db)
        async with db.sessions() as s, s.begin():
            await hq_seed.seed_demo(session=s)
            tokens = {}
            for code in ("T01", "T02"):
                t = await hq_enroll.enroll_terminal(
                    session=s, outlet_code="DEMO", terminal_code=code
                )
                tokens[t.terminal_id] = t.token
    finally:
        await db.dispose()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return tokens


@pytest.fixture(scope="session")
def hq_template(tmp_path_factory: pytest.TempPathFactory) -> HqTemplate:
    path = tmp_path_factory.mktemp("hq-template") / "hq.db"
    return HqTemplate(path, asyncio.run(_build_template(path)))


@dataclass
class Push:
    """One push request as the agent sent it."""

    seqs: list[int]
    size: int
    """Bytes of the JSON body before compression."""
    encoding: str | None
    body: dict[str, Any]


class FaultTransport(httpx.AsyncBaseTransport):
    """The transport in front of HQ: records requests and breaks pushes on demand.

    ``faults`` are consumed one per push request:

    - ``"drop"``     the connection is refused: HQ never sees the batch
    - ``"timeout"``  the read times out before HQ sees the batch
    - ``"500"``      a proxy in front of HQ answers 500 (HQ itself never does)
    - ``"lost"``     HQ applies the batch, then the connection drops: the answer is lost
    - ``"omit"``     HQ's answer loses its last result on the way (no real HQ does that;
      it stands for a broken middlebox)

    ``on_push`` is awaited before a push goes on to HQ (to act during the round trip).
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.faults: list[str] = []
        self.requests: list[str] = []
        self.pushes: list[Push] = []
        self.on_push: Callable[[], Awaitable[None]] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        if request.url.path != "/v1/sync/push":
            return await self.inner.handle_async_request(request)
        encoding = request.headers.get("Content-Encoding")
        raw = gzip.decompress(request.content) if encoding == "gzip" else request.content
        body = json.loads(raw)
        seqs = [e["terminal_seq"] for e in body["events"]]
        self.pushes.append(Push(seqs, len(raw), encoding, body))
        fault = self.faults.pop(0) if self.faults else None
        if fault == "drop":
            raise httpx.ConnectError("connection refused", request=request)
        if fault == "timeout":
            raise httpx.ReadTimeout("read timed out", request=request)
        if fault == "500":
            return httpx.Response(500, text="proxy error", request=request)
        if self.on_push is not None:
            await self.on_push()
        response = await self.inner.handle_async_request(request)
        answer = await response.aread()
        if fault == "lost":
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        if fault == "omit":
            parsed = json.loads(answer)
            parsed["results"] = parsed["results"][:-1]
            return httpx.Response(response.status_code, json=parsed, request=request)
        return httpx.Response(
            response.status_code, headers=response.headers, content=answer, request=request
        )

    @property
    def pushed_seqs(self) -> list[int]:
        return [seq for push in self.pushes for seq in push.seqs]


class LocalHq:
    """The real HQ app over its own SQLite file, with the test's view of its store."""

    def __init__(self, path: Path, tokens: dict[str, str]) -> None:
        self.path = path
        self.tokens = tokens
        self.app = self._app()
        self.transport = FaultTransport(httpx.ASGITransport(app=self.app))

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def _app(self) -> Any:
        settings = Settings(database_url=self.url, secret_key=SecretStr(SECRET))
        return create_app(settings)

    @property
    def db(self) -> HqDatabase:
        db: HqDatabase = self.app.state.db
        return db

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        from sqlalchemy import text

        async with self.db.readers() as s, s.begin():
            return list((await s.execute(text(sql), params)).all())

    async def held(self, terminal_id: str = TERMINAL) -> list[int]:
        """The terminal_seqs HQ holds for the terminal (accepted or quarantined)."""
        rows = await self.rows(
            "SELECT terminal_seq FROM events WHERE terminal_id = :t ORDER BY terminal_seq",
            t=terminal_id,
        )
        return [r[0] for r in rows]

    async def mark(self, terminal_id: str = TERMINAL) -> int:
        rows = await self.rows(
            "SELECT contiguous_seq FROM terminals WHERE terminal_id = :t", t=terminal_id
        )
        return int(rows[0][0])

    async def quarantined(self, terminal_id: str = TERMINAL) -> dict[int, str]:
        rows = await self.rows(
            "SELECT terminal_seq, reason FROM quarantine WHERE terminal_id = :t", t=terminal_id
        )
        return dict(rows)

    async def push(self, terminal_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Push events as another till would, straight to the app (no faults)."""
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=URL
        ) as client:
            r = await client.post(
                "/v1/sync/push",
                json={"terminal_id": terminal_id, "events": events},
                headers={"Authorization": f"Bearer {self.tokens[terminal_id]}"},
            )
        r.raise_for_status()
        answer: dict[str, Any] = r.json()
        return answer

    def snapshot(self, to: Path) -> None:
        """A consistent backup of HQ's store (SQLite's online backup API)."""
        with closing(sqlite3.connect(self.path)) as src, closing(sqlite3.connect(to)) as dst:
            src.backup(dst)

    async def restore(self, backup: Path) -> None:
        """HQ comes back from ``backup``: a new app over the restored file."""
        await self.db.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(backup, self.path)
        self.app = self._app()
        self.transport.inner = httpx.ASGITransport(app=self.app)

    async def aclose(self) -> None:
        await self.db.dispose()


@pytest.fixture
async def hq(tmp_path: Path, hq_template: HqTemplate) -> AsyncIterator[LocalHq]:
    path = tmp_path / "hq.db"
    shutil.copyfile(hq_template.path, path)
    local = LocalHq(path, hq_template.tokens)
    try:
        yield local
    finally:
        await local.aclose()


# ---------------------------------------------------------------------------- till


async def _build_till(path: Path) -> None:
    db = open_database(path)
    try:
        await init_till(db)
        await seed_demo(db)
    finally:
        await db.dispose()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture(scope="session")
def till_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated till file with the demo store, made once and copied for each test."""
    path = tmp_path_factory.mktemp("till-template") / "till.db"
    asyncio.run(_build_till(path))
    return path


@pytest.fixture
async def till(tmp_path: Path, hq: LocalHq, till_template: Path) -> AsyncIterator[Database]:
    """A till with the demo store, enrolled with HQ as DEMO-T01 (a real ``whoami``)."""
    shutil.copyfile(till_template, tmp_path / "till.db")
    db = open_database(tmp_path / "till.db")
    await enroll(TillSyncStore(db), server=URL, token=hq.tokens[TERMINAL], transport=hq.transport)
    hq.transport.requests.clear()
    try:
        yield db
    finally:
        await db.dispose()


def make_agent(till: Database, hq: LocalHq, **kw: Any) -> SyncAgent:
    return SyncAgent(TillSyncStore(till), transport=hq.transport, **kw)


@pytest.fixture
async def agent(till: Database, hq: LocalHq) -> AsyncIterator[SyncAgent]:
    a = make_agent(till, hq, tick_seconds=3600)
    try:
        yield a
    finally:
        await a.aclose()


async def make_sales(db: Database, n: int, *, seed: int = 1, customers: bool = True) -> None:
    """N random sales through the real checkout (about 40% with a loyalty customer)."""
    products = await list_products(db)
    rng = random.Random(seed)
    cashier, ids = await _people(db)
    ids = ids if customers else []
    for _ in range(n):
        await finalize_sale(db, random_request(rng, products, cashier_id=cashier, customer_ids=ids))


async def _people(db: Database) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A cashier and the loyalty customers this till knows (seeded locally or pulled)."""
    async with reading(db) as s:
        cashier = (
            (await s.execute(select(Cashier.id).where(Cashier.active).order_by(Cashier.name)))
            .scalars()
            .first()
        )
        customers = (await s.execute(select(Customer.id).order_by(Customer.id))).scalars().all()
    assert cashier is not None, "no cashier at this till: seed or pull first"
    return cashier, list(customers)


async def redeem_sale(db: Database, customer_id: Any, points: int) -> None:
    """A sale paid partly with points (a negative delta) and the rest by card."""
    product = (await list_products(db))[0]
    due = product.price_cents * 3
    await finalize_sale(
        db,
        CheckoutRequest(
            cashier_id=(await _people(db))[0],
            customer_id=customer_id,
            items=[CartItemIn(product_id=product.id, qty=3)],
            tenders=[
                TenderIn(kind="points", amount_cents=points),
                TenderIn(kind="card", amount_cents=due - points),
            ],
        ),
    )
