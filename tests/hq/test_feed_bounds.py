"""Feed pages are bounded in bytes as well as rows, and a bad row never fails a page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from hq import models as m
from hq import seed
from hq.changes import feed_head, read_changes
from hq.db import open_database
from hq.enroll import enroll_terminal
from hq.prices import schedule_prices
from hq.sqlutil import allocate_change_seqs
from sync import protocol as p
from tests.hq.conftest import Hq


async def test_pages_stop_at_the_byte_cap_and_lose_nothing(hq: Hq) -> None:
    db = open_database(hq.database_url)
    async with db.sessions() as session, session.begin():
        await seed.seed_demo(session=session)  # idempotent
    try:
        async with db.readers() as session, session.begin():
            whole = await read_changes(
                session=session, since=0, limit=100_000, outlet_code="DEMO", max_bytes=2**40
            )
            since, seen, pages = 0, [], 0
            while True:
                page = await read_changes(
                    session=session, since=since, limit=1000, outlet_code="DEMO", max_bytes=4096
                )
                size = sum(len(c.model_dump_json()) + 1 for c in page.changes)
                assert len(page.changes) == 1 or size <= 4096
                seen += [c.seq for c in page.changes]
                pages += 1
                since = page.next
                if not page.more:
                    break
    finally:
        await db.dispose()
    assert seen == [c.seq for c in whole.changes]
    assert pages > 1


async def test_a_row_the_wire_cannot_carry_is_left_out_not_fatal(hq: Hq) -> None:
    db = open_database(hq.database_url)
    async with db.sessions() as session, session.begin():
        await seed.seed_demo(session=session)  # idempotent
    broken = uuid.uuid4()
    try:
        async with db.sessions() as session, session.begin():
            seq = await session.scalar(
                update(m.Counter)
                .where(m.Counter.name == "change_seq")
                .values(value=m.Counter.value + 1)
                .returning(m.Counter.value)
            )
            session.add(
                m.Customer(
                    customer_id=broken,
                    name="x",
                    phone=None,
                    email=None,
                    loyalty_balance=10**15,  # written around ingest: beyond the wire bound
                    placeholder=False,
                    change_seq=seq,
                )
            )
        async with db.readers() as session, session.begin():
            page = await read_changes(session=session, since=seq - 1, limit=10, outlet_code="DEMO")
    finally:
        await db.dispose()
    assert page.next >= seq
    assert all(getattr(c.data, "customer_id", None) != broken for c in page.changes)


async def test_the_route_sends_exactly_the_page_read_changes_builds(hq: Hq) -> None:
    """The route assembles its body from each change's JSON: it must be the very text of
    the :class:`~sync.protocol.ChangePage` (with the terminal's mark and the head), for
    every kind of change, scheduled prices and names beyond ASCII included."""
    db = open_database(hq.database_url)
    async with db.sessions() as session, session.begin():
        await seed.seed_demo(session=session)  # idempotent
    product = uuid.uuid4()
    try:
        async with db.sessions() as session, session.begin():
            seq = await session.scalar(
                update(m.Counter)
                .where(m.Counter.name == "change_seq")
                .values(value=m.Counter.value + 1)
                .returning(m.Counter.value)
            )
            session.add(
                m.Product(
                    product_id=product,
                    sku=f"FEED-{product.hex[:12]}",
                    barcode=None,
                    name='Teh "Tarik" \u00e9\u00e8 \u8336 \U0001f375',
                    price_cents=250,
                    tax_code="SR",
                    cdc_eligible=True,
                    active=True,
                    change_seq=seq,
                )
            )
        async with db.sessions() as session, session.begin():
            soon = datetime.now(UTC) + timedelta(days=30)
            for outlet, cents in ((None, 270), ("DEMO", 260)):
                await schedule_prices(
                    session,
                    new_prices={product: cents},
                    effective_from=soon + timedelta(days=1 if outlet else 0),
                    outlet_code=outlet,
                    actor="test",
                )
        async with db.sessions() as session, session.begin():
            till = await enroll_terminal(
                session=session, outlet_code="DEMO", terminal_code=f"F{product.hex[:4]}"
            )
        since, bodies = 0, 0
        mine: list[p.ScheduledPrice] = []
        with hq.client(till.token) as client:
            while True:
                r = client.get("/v1/sync/changes", params={"since": since, "limit": 40})
                assert r.status_code == 200, r.text
                async with db.readers() as session, session.begin():
                    page = await read_changes(
                        session=session, since=since, limit=40, outlet_code="DEMO"
                    )
                    head = await feed_head(session=session)
                    mark = await session.scalar(
                        select(m.Terminal.contiguous_seq).where(
                            m.Terminal.terminal_id == till.terminal_id
                        )
                    )
                expected = page.model_copy(update={"contiguous_seq": mark, "head": head})
                assert r.content == expected.model_dump_json().encode()
                mine += [
                    step
                    for c in page.changes
                    if isinstance(c.data, p.ProductRecord) and c.data.product_id == product
                    for step in c.data.prices
                ]
                bodies += 1
                since = page.next
                if not page.more:
                    break
    finally:
        await db.dispose()
    assert bodies > 1
    assert [step.price_cents for step in mine] == [270, 260]


async def test_a_page_reads_the_scheduled_prices_of_its_products_that_have_them(hq: Hq) -> None:
    """Each product row of a page says whether it has scheduled prices its outlet sees and
    only those prices are read: a chain-wide price and the outlet's own override reach the
    page, another outlet's override reaches only that outlet, a product with none has no
    steps (and sells at its own price)."""
    db = open_database(hq.database_url)
    async with db.sessions() as session, session.begin():
        await seed.seed_demo(session=session)  # idempotent
    chain, mine, theirs, plain = ids = [uuid.uuid4() for _ in range(4)]
    other = f"X{chain.hex[:7]}".upper()
    soon = datetime.now(UTC) + timedelta(days=30)
    try:
        async with db.sessions() as session, session.begin():
            session.add(m.Outlet(code=other, name="Elsewhere"))
            seqs = await allocate_change_seqs(session, len(ids))
            session.add_all(
                m.Product(
                    product_id=pid,
                    sku=f"PRICED-{pid.hex[:12]}",
                    barcode=None,
                    name="Kaya toast",
                    price_cents=200,
                    tax_code="SR",
                    cdc_eligible=True,
                    active=True,
                    change_seq=seq,
                )
                for pid, seq in zip(ids, seqs, strict=True)
            )
        for pid, outlet, cents in ((chain, None, 210), (mine, "DEMO", 220), (theirs, other, 230)):
            async with db.sessions() as session, session.begin():
                await schedule_prices(
                    session,
                    new_prices={pid: cents},
                    effective_from=soon,
                    outlet_code=outlet,
                    actor="test",
                )
        seen: dict[str, dict[uuid.UUID, tuple[int, list[int]]]] = {}
        for outlet in ("DEMO", other):
            async with db.readers() as session, session.begin():
                page = await read_changes(
                    session=session, since=seqs[0] - 1, limit=1000, outlet_code=outlet
                )
            seen[outlet] = {
                c.data.product_id: (c.data.price_cents, [s.price_cents for s in c.data.prices])
                for c in page.changes
                if isinstance(c.data, p.ProductRecord) and c.data.product_id in ids
            }
    finally:
        await db.dispose()
    assert seen["DEMO"] == {
        chain: (200, [210]),
        mine: (200, [220]),
        theirs: (200, []),
        plain: (200, []),
    }
    assert seen[other] == {
        chain: (200, [210]),
        mine: (200, []),
        theirs: (200, [230]),
        plain: (200, []),
    }
