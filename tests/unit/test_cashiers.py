"""Cashier log-in and manager approval against a real till database (SQLite file).

PIN checks are slow (scrypt) on purpose: they must not hold the write lock, and wrong
PINs must lock out approvals exactly as they lock out log-in.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from sync.demo_data import cashier_uuid
from terminal.db.engine import Database
from terminal.db.models import Cashier, OutboxEvent
from terminal.services import cashiers
from terminal.services.cashiers import LOCKOUT, MAX_FAILURES, approve, login
from terminal.services.errors import LoginError

NOW = datetime(2025, 3, 14, 4, 30, tzinfo=UTC)
AISHA = cashier_uuid("Aisha")
MR_TAN = cashier_uuid("Mr Tan")


async def _approvals(db: Database) -> list[dict]:
    async with db.reader() as s:
        rows = (
            await s.execute(
                select(OutboxEvent.payload).where(OutboxEvent.type == "approval.granted")
            )
        ).scalars()
        return [json.loads(p) for p in rows]


async def _manager_state(db: Database) -> tuple[int, datetime | None]:
    async with db.reader() as s:
        row = (
            await s.execute(
                select(Cashier.approval_failed_attempts, Cashier.approval_locked_until).where(
                    Cashier.id == MR_TAN
                )
            )
        ).one()
    return row.approval_failed_attempts, row.approval_locked_until


async def test_approval_records_an_audit_event(till_db: Database) -> None:
    manager = await approve(
        till_db, "9999", action="void", cashier_id=AISHA, note="KOPI-001 x1", now=NOW
    )
    assert manager.id == MR_TAN
    [event] = await _approvals(till_db)
    assert event["manager_id"] == str(MR_TAN) and event["cashier_id"] == str(AISHA)
    assert event["action"] == "void" and event["note"] == "KOPI-001 x1"


async def test_wrong_manager_pins_lock_approvals_out(till_db: Database) -> None:
    for attempt in range(1, MAX_FAILURES):
        with pytest.raises(LoginError, match="not a manager's PIN"):
            await approve(till_db, "0000", action="void", cashier_id=AISHA, now=NOW)
        assert (await _manager_state(till_db))[0] == attempt  # committed before raising
    with pytest.raises(LoginError, match="locked for 5 minutes"):
        await approve(till_db, "1234", action="void", cashier_id=AISHA, now=NOW)
    failures, locked_until = await _manager_state(till_db)
    assert locked_until == NOW + LOCKOUT
    # Locked: even the right PIN approves nothing, and no audit event is written.
    later = NOW + timedelta(minutes=2)
    with pytest.raises(LoginError, match="locked for 3 more minute"):
        await approve(till_db, "9999", action="discount", cashier_id=AISHA, now=later)
    assert await _approvals(till_db) == []
    # After the lockout the right PIN works again and clears the count.
    after = NOW + LOCKOUT + timedelta(seconds=1)
    await approve(till_db, "9999", action="discount", cashier_id=AISHA, now=after)
    assert [e["action"] for e in await _approvals(till_db)] == ["discount"]
    assert await _manager_state(till_db) == (0, None)


async def test_a_good_approval_clears_earlier_wrong_pins(till_db: Database) -> None:
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(LoginError):
            await approve(till_db, "0000", action="void", cashier_id=AISHA, now=NOW)
    await approve(till_db, "9999", action="void", cashier_id=AISHA, now=NOW)
    with pytest.raises(LoginError, match="4 tries left"):
        await approve(till_db, "0000", action="void", cashier_id=AISHA, now=NOW)


def _writer_can_begin(db: Database) -> bool:
    """Can another program (the sync agent, say) take the write lock right now?"""
    con = sqlite3.connect(db.path, timeout=0)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.rollback()
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        con.close()


@pytest.mark.parametrize("check", ["login", "approve"])
async def test_pin_hashing_does_not_hold_the_write_lock(
    till_db: Database, monkeypatch: pytest.MonkeyPatch, check: str
) -> None:
    real = cashiers.verify_pin
    seen: list[bool] = []

    def verify(pin: str, pin_hash: str) -> bool:
        seen.append(_writer_can_begin(till_db))  # runs while the PIN is being checked
        return real(pin, pin_hash)

    monkeypatch.setattr(cashiers, "verify_pin", verify)
    if check == "login":
        await login(till_db, "9999", now=NOW)
        with pytest.raises(LoginError):
            await login(till_db, "0000", now=NOW)
    else:
        await approve(till_db, "9999", action="void", cashier_id=AISHA, now=NOW)
        with pytest.raises(LoginError):
            await approve(till_db, "0000", action="void", cashier_id=AISHA, now=NOW)
    assert seen and all(seen), seen


async def test_login_lockout_still_counts_and_locks(till_db: Database) -> None:
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(LoginError, match="(tries|try) left"):
            await login(till_db, "0000", now=NOW)
    with pytest.raises(LoginError, match="the till is locked for 5 minutes"):
        await login(till_db, "0000", now=NOW)
    with pytest.raises(LoginError, match="locked for 5 more minute"):
        await login(till_db, "1234", now=NOW)
    cashier = await login(till_db, "1234", now=NOW + LOCKOUT + timedelta(seconds=1))
    assert cashier.id == AISHA


async def test_a_pin_changed_while_it_was_checked_is_refused(
    till_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HQ's new hash arrives between the read and the record: the old PIN must not pass."""
    real = cashiers.verify_pin

    def verify(pin: str, pin_hash: str) -> bool:
        con = sqlite3.connect(till_db.path)
        with con:
            con.execute("UPDATE cashiers SET pin_hash = 'changed' WHERE name = 'Aisha'")
        con.close()
        return real(pin, pin_hash)

    monkeypatch.setattr(cashiers, "verify_pin", verify)
    with pytest.raises(LoginError, match="Wrong PIN"):
        await login(till_db, "1234", cashier_id=AISHA, now=NOW)


async def test_a_managers_own_approval_is_audited_and_a_cashiers_refused(
    till_db: Database,
) -> None:
    await cashiers.record_own_approval(
        till_db, action="void", manager_id=MR_TAN, note="KOPI-001 x1", now=NOW
    )
    with pytest.raises(LoginError, match="Only a manager"):
        await cashiers.record_own_approval(till_db, action="void", manager_id=AISHA, now=NOW)
    [event] = await _approvals(till_db)
    assert event["manager_id"] == event["cashier_id"] == str(MR_TAN)


async def _refusals(db: Database) -> list[dict]:
    async with db.reader() as s:
        rows = (
            await s.execute(
                select(OutboxEvent.payload).where(OutboxEvent.type == "approval.refused")
            )
        ).scalars()
        return [json.loads(p) for p in rows]


async def test_manager_lockout_is_its_own_counter_and_login_still_works(
    till_db: Database,
) -> None:
    for _ in range(MAX_FAILURES):
        with pytest.raises(LoginError):
            await approve(till_db, "0000", action="discount", cashier_id=AISHA, now=NOW)
    with pytest.raises(LoginError, match="approvals are locked"):
        await approve(till_db, "9999", action="discount", cashier_id=AISHA, now=NOW)
    # Every wrong or locked-out manager PIN is an audit event, counted in a row.
    refused = await _refusals(till_db)
    assert [r["failed_attempts"] for r in refused] == [1, 2, 3, 4, 5, 0]
    assert [r["locked"] for r in refused] == [False] * 4 + [True, True]
    # The cashier (and the manager) can still log in: log-in has its own counter.
    assert (await login(till_db, "1234", now=NOW)).id == AISHA
    assert (await login(till_db, "9999", now=NOW)).id == MR_TAN


async def test_a_manager_pin_unlocks_a_locked_till(till_db: Database) -> None:
    for _ in range(MAX_FAILURES):
        with pytest.raises(LoginError):
            await login(till_db, "0000", now=NOW)
    with pytest.raises(LoginError, match="locked"):
        await login(till_db, "1234", now=NOW)
    view = await cashiers.unlock_till(till_db, "9999", now=NOW)
    assert view.action == "unlock" and view.id == MR_TAN
    assert (await login(till_db, "1234", now=NOW)).id == AISHA
    assert [e["action"] for e in await _approvals(till_db)] == ["unlock"]
