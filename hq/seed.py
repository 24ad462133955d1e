"""Seed the demo store (``kedai-hq seed-demo``, and ``kedai-till demo`` through it).

Idempotent: ids are fixed and unchanged rows keep their change_seq, so seeding twice
changes nothing a till would pull (except cashiers, whose PIN hashes are re-salted only
when a cashier is new).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import catalog
from hq import models as m
from hq.sqlutil import insert
from sync import demo_data


@dataclass(frozen=True, slots=True)
class SeedResult:
    products: int
    customers: int
    cashiers: int
    changed: int


async def seed_demo(*, session: AsyncSession) -> SeedResult:
    """Create the demo outlet, settings, tenders, cashiers, catalog and customers."""
    await session.execute(
        insert(session, m.Outlet)
        .values(code=demo_data.OUTLET_CODE, name=demo_data.OUTLET_NAME)
        .on_conflict_do_nothing()
    )
    changed = await catalog.put_settings(session=session, settings=demo_data.demo_settings())
    changed += await catalog.upsert_tenders(session=session, tenders=demo_data.demo_tenders())
    have = set(
        (await session.execute(select(m.Cashier.cashier_id))).scalars()
    )  # keep existing hashes: re-salting would push a pointless change to every till
    new_cashiers = [c for c in demo_data.demo_cashiers() if c.cashier_id not in have]
    changed += await catalog.upsert_cashiers(session=session, cashiers=new_cashiers)
    products = demo_data.demo_products()
    changed += await catalog.upsert_products(session=session, products=products)
    customers = demo_data.demo_customers()
    changed += await catalog.upsert_customers(session=session, customers=customers)
    changed += await catalog.add_loyalty_entries(
        session=session, entries=demo_data.demo_opening_loyalty()
    )
    return SeedResult(
        products=len(products),
        customers=len(customers),
        cashiers=len(demo_data.demo_cashiers()),
        changed=changed,
    )
