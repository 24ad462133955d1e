"""Feed pages are bounded in bytes as well as rows, and a bad row never fails a page."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from hq import models as m
from hq import seed
from hq.changes import read_changes
from hq.db import open_database
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
