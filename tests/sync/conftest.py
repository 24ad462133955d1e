"""Fixtures for the sync agent: enrolled till files, sales, and a scriptable fake HQ.

``FakeHq`` is an ``httpx.MockTransport`` handler that keeps HQ's promises in memory
(unique event ids, per-event answers, a contiguous mark, a paged change feed) and can
be told to misbehave on the next requests, so unit tests see exactly what the agent
sends and what it does with each kind of answer.
"""

from __future__ import annotations

import gzip
import json
import random
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina
from sqlalchemy import select

from sync.agent import SyncAgent
from sync.protocol import Change, ProductChange, ProductRecord, WhoAmI
from terminal.db.engine import Database, open_database
from terminal.db.models import Cashier, Customer
from terminal.services import sync_store
from terminal.services.catalog import list_products
from terminal.services.checkout import finalize_sale
from terminal.services.schemas import CartItemIn, CheckoutRequest, TenderIn
from terminal.services.setup import init_till, seed_demo
from terminal.services.simulate import random_request
from terminal.services.sync_store import TillSyncStore
from terminal.services.uow import reading

TOKEN = "good-token"
TERMINAL = "DEMO-T01"
URL = "http://hq.test"


@pytest.fixture(autouse=True)
def _fast_retries() -> AsyncIterator[None]:
    """stamina's testing mode: no sleeping between retries, one attempt per cycle."""
    with stamina.set_testing(True, attempts=1):
        yield


async def enrolled_till(path: Path, *, url: str = URL, token: str = TOKEN) -> Database:
    db = open_database(path)
    await init_till(db)
    await seed_demo(db)
    who = WhoAmI(terminal_id=TERMINAL, outlet_code="DEMO", terminal_code="T01", contiguous_seq=0)
    await sync_store.enroll_till(db, hq_url=url, token=token, who=who)
    return db


@pytest.fixture
async def till(tmp_path: Path) -> AsyncIterator[Database]:
    db = await enrolled_till(tmp_path / "till.db")
    try:
        yield db
    finally:
        await db.dispose()


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


@dataclass
class FakeHq:
    """HQ's sync API in memory. ``faults`` are consumed one per push request.

    Fault names: ``"500"`` (answer 500, apply nothing), ``"timeout"`` (raise a read
    timeout before applying), ``"lost"`` (apply the batch, then drop the connection so
    the answer never arrives), ``"omit"`` (answer about all but the last event),
    ``"401"``.
    """

    token: str = TOKEN
    terminal_id: str = TERMINAL
    events: dict[str, int] = field(default_factory=dict)
    payloads: dict[int, dict[str, Any]] = field(default_factory=dict)
    quarantine: dict[int, str] = field(default_factory=dict)
    held: set[int] = field(default_factory=set)
    changes: list[Change] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    pushes: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    on_push: Callable[[], Any] | None = None

    @property
    def contiguous(self) -> int:
        n = 0
        while n + 1 in self.held:
            n += 1
        return n

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "bad_token", "unknown or revoked token")
        if request.url.path == "/v1/sync/whoami":
            return httpx.Response(
                200,
                json={
                    "terminal_id": self.terminal_id,
                    "outlet_code": "DEMO",
                    "terminal_code": "T01",
                    "contiguous_seq": self.contiguous,
                },
            )
        if request.url.path == "/v1/sync/push":
            if self.on_push is not None:
                await self.on_push()
            return self._push(request)
        if request.url.path == "/v1/sync/changes":
            since = int(request.url.params["since"])
            limit = int(request.url.params["limit"])
            after = [c for c in self.changes if c.seq > since]
            page = after[:limit]
            body = {
                "changes": [c.model_dump(mode="json") for c in page],
                "next": page[-1].seq if page else since,
                "more": len(after) > limit,
                "contiguous_seq": self.contiguous,
            }
            return httpx.Response(200, json=body)
        return _error(404, "not_found", request.url.path)

    def _push(self, request: httpx.Request) -> httpx.Response:
        raw = request.content
        encoding = request.headers.get("Content-Encoding")
        body = json.loads(gzip.decompress(raw) if encoding == "gzip" else raw)
        events = body["events"]
        self.pushes.append({"n": len(events), "bytes": len(raw), "encoding": encoding, "seqs": []})
        fault = self.faults.pop(0) if self.faults else None
        if fault == "500":
            return _error(500, "internal", "boom")
        if fault == "401":
            return _error(401, "bad_token", "token revoked")
        if fault == "timeout":
            raise httpx.ReadTimeout("read timed out", request=request)
        results = []
        for e in events:
            assert e["terminal_id"] == self.terminal_id
            self.pushes[-1]["seqs"].append(e["terminal_seq"])
            seq = e["terminal_seq"]
            if e["event_id"] in self.events:
                results.append({"event_id": e["event_id"], "status": "duplicate"})
                continue
            self.events[e["event_id"]] = seq
            self.held.add(seq)
            if "unparseable_payload" in e["payload"] or e["payload"].get("total_cents", 0) < 0:
                self.quarantine[seq] = "payload does not validate"
                results.append(
                    {"event_id": e["event_id"], "status": "rejected", "reason": "bad payload"}
                )
                continue
            self.payloads[seq] = e["payload"]
            results.append({"event_id": e["event_id"], "status": "accepted"})
        if fault == "lost":
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        if fault == "omit":
            results = results[:-1]
        return httpx.Response(
            200,
            json={
                "results": results,
                "contiguous_seq": self.contiguous,
                "hq_time": datetime.now(UTC).isoformat(),
            },
        )

    def restore(self, keep_up_to: int) -> None:
        """Forget everything above ``keep_up_to``, as if restored from an old backup."""
        self.events = {k: v for k, v in self.events.items() if v <= keep_up_to}
        self.held = {s for s in self.held if s <= keep_up_to}
        self.payloads = {k: v for k, v in self.payloads.items() if k <= keep_up_to}
        self.quarantine = {k: v for k, v in self.quarantine.items() if k <= keep_up_to}


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


@pytest.fixture
def fake_hq() -> FakeHq:
    return FakeHq()


def product_change(seq: int, product: ProductRecord, price: int) -> ProductChange:
    return ProductChange(seq=seq, data=product.model_copy(update={"price_cents": price}))


@pytest.fixture
async def agent(till: Database, fake_hq: FakeHq) -> AsyncIterator[SyncAgent]:
    a = SyncAgent(TillSyncStore(till), transport=fake_hq.transport(), tick_seconds=3600)
    try:
        yield a
    finally:
        await a.aclose()
