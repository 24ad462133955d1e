"""Which tenders the shop takes, as HQ last said.

HQ sends every tender with ``active`` as the till's outlet sees it. A kind is refused
when the till knows tenders of that kind and none is active; a till that has not heard
of tenders yet (before its first sync) takes them all. The checkout reads the same rule
in its own statement (:data:`terminal.services.checkout._STORE_SQL`).
"""

from __future__ import annotations

from sqlalchemy import select

from terminal.db.engine import Database
from terminal.db.models import Tender
from terminal.services.uow import reading


async def refused_tender_kinds(db: Database) -> frozenset[str]:
    async with reading(db) as s:
        rows = (await s.execute(select(Tender.kind, Tender.active))).all()
    known = {kind for kind, _ in rows}
    taken = {kind for kind, active in rows if active}
    return frozenset(known - taken)
