"""A bulk price change over 10,000 products on HQ's SQLite store.

A fresh HQ file (migrated, demo seeded) gets 10,000 more products (``BULK-00000``...);
then, each timed on its own: the preview (``price_changes.preview``, read only), the apply
(``price_changes.apply``: the preview again, the digest check, 10,000 price rows, 10,000
change_seqs, one audit entry, one commit), and a whole apply through the back-office
page over ``httpx.ASGITransport`` (login excluded; a second change on top of the first).

Run: ``python -m bench.bulk_prices [count]``.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from hq import catalog, manage, price_changes
from hq.app import create_app
from hq.config import Settings
from hq.db import Database, open_database
from sync import protocol as p

PASSWORD = "bench-password-1"


def products(count: int) -> list[p.ProductRecord]:
    return [
        p.ProductRecord(
            product_id=uuid.uuid5(uuid.NAMESPACE_URL, f"bulk/{i}"),
            sku=f"BULK-{i:05d}",
            barcode=None,
            name=f"Bulk item {i}",
            price_cents=100 + i % 5_000,
            tax_code="SR",
            cdc_eligible=True,
            active=True,
        )
        for i in range(count)
    ]


async def data_functions(url: str) -> tuple[float, float]:
    db = open_database(url)
    try:
        selection = price_changes.Selection(sku_prefix="BULK-")
        rule = price_changes.Rule(kind="percent", value=750, round_to=5)
        now = datetime.now(UTC)
        started = time.perf_counter()
        async with db.readers() as s, s.begin():
            seen = await price_changes.preview(
                s, selection=selection, rule=rule, outlet_code=None, effective_from=now
            )
        preview_s = time.perf_counter() - started
        started = time.perf_counter()
        async with db.sessions() as s, s.begin():
            done = await price_changes.apply(
                s, selection=selection, rule=rule, outlet_code=None, effective_from=now,
                now=now, digest=seen.digest, actor="bench",
            )  # fmt: skip
        apply_s = time.perf_counter() - started
        assert not done.problems and len(done.rows) == len(seen.rows)
        return preview_s, apply_s
    finally:
        await db.dispose()


async def through_the_page(url: str) -> float:
    app = create_app(Settings(database_url=url, secret_key="b" * 32))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hq.test", timeout=600
        ) as c:
            form = await c.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None
            await c.post(
                "/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token[1]}
            )
            page = await c.get("/products/bulk-prices")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf is not None
            fields = {"csrf_token": csrf[1], "sku_prefix": "BULK-", "kind": "amount",
                      "value": "0.10", "direction": "up"}  # fmt: skip
            preview = await c.post("/products/bulk-prices", data=fields)
            digest = re.search(r'name="digest" value="([^"]+)"', preview.text)
            assert preview.status_code == 200 and digest is not None
            started = time.perf_counter()
            r = await c.post(
                "/products/bulk-prices", data=fields | {"action": "apply", "digest": digest[1]}
            )
            elapsed = time.perf_counter() - started
            assert r.status_code == 303, r.text[:500]
            return elapsed


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'hq.db'}"
        manage.seed_demo_sync(url)
        manage.create_admin_sync(url, username="bench", password=PASSWORD)

        async def load(db: Database) -> None:
            async with db.sessions() as s, s.begin():
                await catalog.upsert_products(session=s, products=products(count))

        manage.run(url, load)
        preview_s, apply_s = asyncio.run(data_functions(url))
        page_s = asyncio.run(through_the_page(url))
    print(f"{count} products: preview {preview_s:.2f} s, apply {apply_s:.2f} s (data functions)")
    print(f"{count} products: apply through the page {page_s:.2f} s")


if __name__ == "__main__":
    main()
