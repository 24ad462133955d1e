"""A demo till database with a large generated catalog (P2, P3, P7)."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

GENERATED_BARCODE = "2{:012d}"
"""Barcodes of generated products: ``GENERATED_BARCODE.format(i)`` for i < products - 52."""


def prepare_till(path: Path, products: int) -> None:
    """``kedai-till init`` + the demo seed, then generated products up to ``products``."""
    asyncio.run(_prepare(path, products))


async def _prepare(path: Path, products: int) -> None:
    from terminal.db.engine import open_database
    from terminal.services.setup import init_till, seed_demo

    db = open_database(path)
    try:
        await init_till(db)
        await seed_demo(db)
    finally:
        await db.dispose()
    rng = random.Random(5)
    words = ["Rice", "Kopi", "Teh", "Milo", "Noodles", "Sauce", "Soap", "Biscuit", "Tissue"]
    rows = []
    for i in range(products - 52):
        name = f"{rng.choice(words)} {rng.choice(words)} {i:06d}"
        rows.append(
            (
                uuid.uuid4().hex,
                f"GEN-{i:06d}",
                f"2{i:012d}",
                name,
                name.lower(),
                rng.randint(50, 5000),
                "SR",
                1,
                1,
            )
        )
    with closing(sqlite3.connect(path)) as con, con:
        con.executemany(
            "INSERT INTO products (id, sku, barcode, name, search_name, price_cents, tax_code,"
            " cdc_eligible, active) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )
