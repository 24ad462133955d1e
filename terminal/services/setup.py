"""Creating a till's store and loading the demo store into it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.sqlite import insert

from sync import demo_data
from sync.protocol import GstRate, SettingsRecord
from terminal.db.engine import Database
from terminal.db.migrate import upgrade
from terminal.db.models import Product, Stock, StoreSettings, SyncState, table_of
from terminal.domain.gst import SINGAPORE_GST_RATES
from terminal.services.reference import apply_records
from terminal.services.uow import reading, writing

DEFAULT_OUTLET = "DEMO"
DEFAULT_TERMINAL = "T01"
DEMO_OPENING_STOCK = 1_000


async def init_till(
    db: Database,
    *,
    outlet_code: str = DEFAULT_OUTLET,
    terminal_code: str = DEFAULT_TERMINAL,
    store_name: str = "Kedai",
) -> bool:
    """Migrate the schema and create the settings rows if missing; True if created."""
    await upgrade(db)
    async with writing(db) as s:
        exists = (await s.execute(select(func.count()).select_from(StoreSettings))).scalar_one()
        if exists:
            return False
        await s.execute(
            insert(table_of(StoreSettings)),
            [
                {
                    "id": 1,
                    "outlet_code": outlet_code,
                    "terminal_code": terminal_code,
                    "store_name": store_name,
                    "address": "",
                    "gst_reg_no": "",
                    "loyalty_cents_per_point_earned": 100,
                    "loyalty_point_value_cents": 1,
                }
            ],
        )
        await s.execute(
            insert(table_of(SyncState)).on_conflict_do_nothing(),
            [{"id": 1, "change_cursor": 0, "acked_seq": 0}],
        )
        default = SettingsRecord(
            store_name=store_name,
            address="",
            gst_reg_no="",
            gst_rates=[
                GstRate(effective_from=r.effective_from, rate_bp=r.rate_bp)
                for r in SINGAPORE_GST_RATES
            ],
        )
        await apply_records(s, settings=default)
    return True


async def catalog_size(db: Database) -> int:
    async with reading(db) as s:
        return (await s.execute(select(func.count()).select_from(Product))).scalar_one()


async def seed_demo(db: Database, *, customers: bool = True) -> None:
    """Load the demo store (same ids as HQ's demo) with opening stock, in one unit of work."""
    async with writing(db) as s:
        products = demo_data.demo_products()
        await apply_records(
            s,
            products=products,
            cashiers=demo_data.demo_cashiers(),
            tenders=demo_data.demo_tenders(),
            customers=demo_data.demo_customers() if customers else (),
            settings=demo_data.demo_settings(),
        )
        await s.execute(
            insert(table_of(Stock)).on_conflict_do_nothing(),
            [{"product_id": p.product_id, "on_hand": DEMO_OPENING_STOCK} for p in products],
        )
