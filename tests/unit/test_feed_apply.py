"""The till applies the scoped change feed: a cashier removal (they were reassigned to
another outlet) stops their PIN at this till; a later record brings them back. Real till
database (SQLite file) with the demo store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from sync import protocol as p
from sync.demo_data import CASHIER_PIN, cashier_uuid
from sync.pins import hash_pin
from terminal.db.engine import Database
from terminal.db.models import Cashier
from terminal.services.cashiers import login
from terminal.services.errors import LoginError
from terminal.services.reference import apply_changes
from terminal.services.uow import writing

NOW = datetime(2025, 3, 14, 4, 30, tzinfo=UTC)
AISHA = cashier_uuid("Aisha")


async def _apply(db: Database, changes: list[p.Change]) -> None:
    async with writing(db) as s:
        await apply_changes(s, changes)


def _removed(seq: int) -> p.CashierRemovedChange:
    return p.CashierRemovedChange(seq=seq, data=p.CashierRemoval(cashier_id=AISHA))


def _back(seq: int, pin_hash: str) -> p.CashierChange:
    return p.CashierChange(
        seq=seq,
        data=p.CashierRecord(
            cashier_id=AISHA, name="Aisha", role="cashier", pin_hash=pin_hash, active=True
        ),
    )


async def test_a_removal_refuses_the_pin_and_keeps_no_hash(till_db: Database) -> None:
    assert (await login(till_db, CASHIER_PIN, now=NOW)).id == AISHA
    await _apply(till_db, [_removed(10)])
    with pytest.raises(LoginError):
        await login(till_db, CASHIER_PIN, now=NOW)
    async with till_db.reader() as s:
        row = (
            await s.execute(select(Cashier.pin_hash, Cashier.active).where(Cashier.id == AISHA))
        ).one()
    assert (row.pin_hash, row.active) == ("", False)


async def test_the_last_change_in_a_page_wins(till_db: Database) -> None:
    pin_hash = hash_pin(CASHIER_PIN)
    await _apply(till_db, [_removed(10), _back(11, pin_hash)])
    assert (await login(till_db, CASHIER_PIN, now=NOW)).id == AISHA
    await _apply(till_db, [_back(12, pin_hash), _removed(13)])
    with pytest.raises(LoginError):
        await login(till_db, CASHIER_PIN, now=NOW)
