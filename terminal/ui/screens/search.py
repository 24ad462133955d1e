"""F2: find a product by name as you type, over a catalog of any size.

The SQL has a LIMIT, so a 100,000-product catalog costs the same as a small one; the
race between Enter and the search is handled by :class:`LookupModal`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from terminal.domain.money import format_cents
from terminal.services.catalog import search_products
from terminal.services.schemas import ProductView
from terminal.ui.screens.lookup import LookupModal

if TYPE_CHECKING:
    from terminal.db.engine import Database

LIMIT = 30


class SearchModal(LookupModal[ProductView]):
    NAME = "search"
    TITLE = "Find product (F2)"
    PLACEHOLDER = "type part of the name"
    HINT = "Up/Down: choose   Enter: add   Esc: back"
    NOTHING = "Nothing matches yet: type more of the name."

    async def find(self, db: Database, text: str) -> list[ProductView]:
        return await search_products(db, text, limit=LIMIT)

    def line(self, item: ProductView) -> str:
        return f"{item.name:<40.40} {item.sku:<10.10} {format_cents(item.price_cents):>8}"
