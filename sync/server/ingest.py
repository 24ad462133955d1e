"""Apply one terminal's push batch: exactly once, in one transaction, never blocked by a bad event.

The caller owns the transaction (``async with db.sessions() as s, s.begin():``). Inside it:

1. Lock the terminal's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
   ``BEGIN IMMEDIATE`` already serialises writers). Every push of one terminal therefore
   runs one after another, so its contiguous mark is computed from a stable view.
2. Insert every envelope into ``events`` with ``ON CONFLICT DO NOTHING ... RETURNING``:
   the rows that come back are new, the rest are duplicates. Uniqueness of ``event_id``
   in the database, not a read-then-write check, is what makes a resend harmless even
   when two workers receive the same batch at once.
3. Payloads that do not validate (or of an unknown type or schema version) are kept in
   ``quarantine`` with the raw envelope and the reason. They still count as held for the
   contiguous mark: the event exists, HQ just could not apply it.
4. New, valid events become facts (sales, lines, payments, loyalty ledger, shifts,
   approvals, customers) written with multi-row inserts. Ledger rows are unique by
   ``entry_id`` too; balances then move by ``balance = balance + delta`` and the
   customer's ``change_seq`` is bumped so tills pull the new authoritative balance.
5. Advance the terminal's contiguous mark over the seqs it now holds.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sync import protocol as p
from sync.server import models as m
from sync.server.sqlutil import allocate_change_seqs, insert

log = logging.getLogger(__name__)

PLACEHOLDER_CUSTOMER_NAME = "(customer not yet synced)"


def _table(model: type[m.Base]) -> Table:
    return cast(Table, model.__table__)


EVENTS = _table(m.Event)
QUARANTINE = _table(m.Quarantine)
SALES = _table(m.Sale)
LINES = _table(m.SaleLine)
PAYMENTS = _table(m.SalePayment)
LOYALTY = _table(m.LoyaltyEntry)
SHIFTS = _table(m.Shift)
APPROVALS = _table(m.Approval)
CUSTOMERS = _table(m.Customer)


class TerminalNotAllowed(Exception):
    """The terminal is unknown or revoked (checked again under the row lock)."""


@dataclass
class _Facts:
    """Rows collected from a batch's new, valid events, flushed with one insert per table."""

    sales: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    loyalty: list[dict[str, Any]] = field(default_factory=list)
    shifts: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    customers: dict[UUID, dict[str, Any]] = field(default_factory=dict)


def utc(value: datetime) -> datetime:
    """Tills send aware UTC; a naive timestamp is read as UTC rather than refused."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def ingest_batch(
    *,
    session: AsyncSession,
    terminal_id: str,
    events: Sequence[p.EventEnvelope],
    now: datetime | None = None,
) -> p.PushResponse:
    """Apply ``events`` (already checked to belong to ``terminal_id``) and answer per event."""
    received_at = now or datetime.now(UTC)
    mark = await _lock_terminal(session, terminal_id)

    first: dict[UUID, p.EventEnvelope] = {}
    for env in events:
        first.setdefault(env.event_id, env)
    verdicts: dict[UUID, p.WireModel | str] = {}
    for env in first.values():
        try:
            verdicts[env.event_id] = p.parse_payload(env)
        except ValueError as exc:
            verdicts[env.event_id] = _reason(exc)

    inserted = await _insert_events(session, first.values(), verdicts, received_at)
    status: dict[UUID, p.EventResult] = {}
    quarantine: list[dict[str, Any]] = []
    facts = _Facts()
    for env in first.values():
        verdict = verdicts[env.event_id]
        if env.event_id not in inserted:
            continue
        if isinstance(verdict, str):
            status[env.event_id] = _rejected(env.event_id, verdict)
            quarantine.append(_quarantine_row(env, verdict, received_at))
        else:
            status[env.event_id] = p.EventResult(event_id=env.event_id, status="accepted")
            _collect(facts, env, verdict, terminal_id, received_at)

    missing = [env for env in first.values() if env.event_id not in inserted]
    if missing:
        await _answer_resent(session, missing, status, quarantine, received_at)
    if quarantine:
        await session.execute(insert(session, QUARANTINE).on_conflict_do_nothing(), quarantine)
    await _flush(session, facts)

    mark = await _advance_mark(session, terminal_id, mark, received_at)
    results = [status[env.event_id] for env in first.values()]
    if len(events) != len(first):  # an event repeated inside one batch: answer each copy
        seen: set[UUID] = set()
        results = []
        for env in events:
            result = status[env.event_id]
            if env.event_id in seen and result.status == "accepted":
                result = p.EventResult(event_id=env.event_id, status="duplicate")
            seen.add(env.event_id)
            results.append(result)
    if quarantine:
        log.warning("terminal %s: %d event(s) quarantined", terminal_id, len(quarantine))
    return p.PushResponse(results=results, contiguous_seq=mark, hq_time=received_at)


# ----------------------------------------------------------------------------- steps


async def _lock_terminal(session: AsyncSession, terminal_id: str) -> int:
    row = (
        await session.execute(
            select(m.Terminal.contiguous_seq, m.Terminal.revoked)
            .where(m.Terminal.terminal_id == terminal_id)
            .with_for_update()
        )
    ).one_or_none()
    if row is None or row.revoked:
        raise TerminalNotAllowed(terminal_id)
    return int(row.contiguous_seq)


async def _insert_events(
    session: AsyncSession,
    envelopes: Iterable[p.EventEnvelope],
    verdicts: dict[UUID, p.WireModel | str],
    received_at: datetime,
) -> set[UUID]:
    rows = [
        {
            "event_id": env.event_id,
            "terminal_id": env.terminal_id,
            "terminal_seq": env.terminal_seq,
            "type": env.type[:40],
            "schema_version": env.schema_version,
            "occurred_at": utc(env.occurred_at),
            "received_at": received_at,
            "payload": env.payload,
            "quarantined": isinstance(verdicts[env.event_id], str),
        }
        for env in envelopes
    ]
    if not rows:
        return set()
    stmt = insert(session, EVENTS).on_conflict_do_nothing().returning(EVENTS.c.event_id)
    return set((await session.execute(stmt, rows)).scalars())


async def _answer_resent(
    session: AsyncSession,
    missing: list[p.EventEnvelope],
    status: dict[UUID, p.EventResult],
    quarantine: list[dict[str, Any]],
    received_at: datetime,
) -> None:
    """Events that were not inserted: a resend (duplicate), or a clash on terminal_seq.

    A resent event HQ had quarantined is answered ``rejected`` again with the stored
    reason, so a till whose first answer was lost still learns the event was refused.
    """
    held = {
        row.event_id: row
        for row in await session.execute(
            select(m.Event.event_id, m.Event.quarantined, m.Quarantine.reason)
            .outerjoin(m.Quarantine, m.Quarantine.event_id == m.Event.event_id)
            .where(m.Event.event_id.in_([env.event_id for env in missing]))
        )
    }
    for env in missing:
        row = held.get(env.event_id)
        if row is None:
            reason = f"terminal_seq {env.terminal_seq} is already held by another event"
            status[env.event_id] = _rejected(env.event_id, reason)
            quarantine.append(_quarantine_row(env, reason, received_at))
        elif row.quarantined:
            status[env.event_id] = _rejected(env.event_id, row.reason or "quarantined")
        else:
            status[env.event_id] = p.EventResult(event_id=env.event_id, status="duplicate")


async def _advance_mark(
    session: AsyncSession, terminal_id: str, mark: int, seen_at: datetime
) -> int:
    """Walk the seqs held above the mark while they are contiguous."""
    seqs = (
        await session.execute(
            select(m.Event.terminal_seq)
            .where(m.Event.terminal_id == terminal_id, m.Event.terminal_seq > mark)
            .order_by(m.Event.terminal_seq)
        )
    ).scalars()
    for seq in seqs:
        if seq != mark + 1:
            break
        mark = seq
    await session.execute(
        update(m.Terminal)
        .where(m.Terminal.terminal_id == terminal_id)
        .values(contiguous_seq=mark, last_seen_at=seen_at)
    )
    return mark


# --------------------------------------------------------------------------- facts


def _collect(
    facts: _Facts,
    env: p.EventEnvelope,
    payload: p.WireModel,
    terminal_id: str,
    received_at: datetime,
) -> None:
    occurred_at = utc(env.occurred_at)
    common = {"event_id": env.event_id, "terminal_id": terminal_id, "received_at": received_at}
    if isinstance(payload, p.SaleCompleted):
        facts.sales.append(
            {
                **common,
                "sale_id": payload.sale_id,
                "kind": "sale",
                "receipt_no": payload.receipt_no,
                "original_sale_id": None,
                "cashier_id": payload.cashier_id,
                "approved_by": None,
                "customer_id": payload.customer_id,
                "shift_id": payload.shift_id,
                "subtotal_cents": payload.subtotal_cents,
                "discount_cents": payload.discount_cents,
                "total_cents": payload.total_cents,
                "tax_cents": payload.tax_cents,
                "gst_rate_bp": payload.gst_rate_bp,
                "rounding_cents": payload.rounding_cents,
                "change_cents": payload.change_cents,
                "reason": None,
                "occurred_at": occurred_at,
            }
        )
        _lines_and_payments(facts, payload.sale_id, payload.lines, payload.payments, sign=1)
        _loyalty(facts, payload.loyalty, common, occurred_at)
    elif isinstance(payload, p.SaleRefunded):
        customer = payload.loyalty[0].customer_id if payload.loyalty else None
        facts.sales.append(
            {
                **common,
                "sale_id": payload.refund_id,
                "kind": "refund",
                "receipt_no": payload.receipt_no,
                "original_sale_id": payload.original_sale_id,
                "cashier_id": payload.cashier_id,
                "approved_by": payload.approved_by,
                "customer_id": customer,
                "shift_id": None,
                "subtotal_cents": -sum(ln.qty * ln.unit_price_cents for ln in payload.lines),
                "discount_cents": -sum(ln.discount_cents for ln in payload.lines),
                "total_cents": -payload.total_cents,
                "tax_cents": -payload.tax_cents,
                "gst_rate_bp": None,
                "rounding_cents": 0,
                "change_cents": 0,
                "reason": payload.reason,
                "occurred_at": occurred_at,
            }
        )
        _lines_and_payments(facts, payload.refund_id, payload.lines, payload.payments, sign=-1)
        _loyalty(facts, payload.loyalty, common, occurred_at)
    elif isinstance(payload, p.CustomerCreated):
        facts.customers[payload.customer_id] = {
            "customer_id": payload.customer_id,
            "name": payload.name,
            "phone": payload.phone,
            "email": payload.email,
        }
    elif isinstance(payload, p.ShiftClosed):
        facts.shifts.append(
            {
                "shift_id": payload.shift_id,
                "terminal_id": terminal_id,
                "cashier_id": payload.cashier_id,
                "opened_at": utc(payload.opened_at),
                "closed_at": utc(payload.closed_at),
                "opening_float_cents": payload.opening_float_cents,
                "expected_cash_cents": payload.expected_cash_cents,
                "counted_cash_cents": payload.counted_cash_cents,
                "sales_count": payload.sales_count,
                "sales_total_cents": payload.sales_total_cents,
            }
        )
    elif isinstance(payload, p.LoyaltyAdjusted):
        _loyalty(facts, [payload.delta], common, occurred_at)
    elif isinstance(payload, p.ApprovalGranted):
        facts.approvals.append(
            {
                "approval_id": payload.approval_id,
                "terminal_id": terminal_id,
                "action": payload.action,
                "manager_id": payload.manager_id,
                "cashier_id": payload.cashier_id,
                "sale_id": payload.sale_id,
                "note": payload.note,
                "occurred_at": occurred_at,
            }
        )
    else:  # pragma: no cover - PAYLOAD_MODELS and this function grow together
        raise AssertionError(f"no handler for {type(payload).__name__}")


def _lines_and_payments(
    facts: _Facts,
    sale_id: UUID,
    lines: Sequence[p.SaleLine],
    payments: Sequence[p.Payment],
    *,
    sign: int,
) -> None:
    """Refunds are stored as negative facts so that sums over sales are net figures."""
    facts.lines.extend(
        {
            "sale_id": sale_id,
            "line_no": ln.line_no,
            "product_id": ln.product_id,
            "sku": ln.sku,
            "name": ln.name,
            "qty": sign * ln.qty,
            "unit_price_cents": ln.unit_price_cents,
            "discount_cents": sign * ln.discount_cents,
            "total_cents": sign * ln.total_cents,
            "tax_code": ln.tax_code,
        }
        for ln in lines
    )
    facts.payments.extend(
        {
            "payment_id": pay.payment_id,
            "sale_id": sale_id,
            "tender": pay.tender,
            "amount_cents": sign * pay.amount_cents,
            "tendered_cents": sign * pay.tendered_cents,
            "reference": pay.reference,
        }
        for pay in payments
    )


def _loyalty(
    facts: _Facts,
    deltas: Sequence[p.LoyaltyDelta],
    common: dict[str, Any],
    occurred_at: datetime,
) -> None:
    facts.loyalty.extend(
        {
            "entry_id": d.entry_id,
            "customer_id": d.customer_id,
            "points": d.points,
            "reason": d.reason,
            "event_id": common["event_id"],
            "terminal_id": common["terminal_id"],
            "occurred_at": occurred_at,
            "received_at": common["received_at"],
        }
        for d in deltas
    )


async def _flush(session: AsyncSession, facts: _Facts) -> None:
    """One multi-row insert per table; every one is idempotent by its natural key."""
    for table, rows in (
        (SALES, facts.sales),
        (LINES, facts.lines),
        (PAYMENTS, facts.payments),
        (SHIFTS, facts.shifts),
        (APPROVALS, facts.approvals),
    ):
        if rows:
            await session.execute(insert(session, table).on_conflict_do_nothing(), rows)
    deltas: dict[UUID, int] = defaultdict(int)
    if facts.loyalty:
        stmt = (
            insert(session, LOYALTY)
            .on_conflict_do_nothing()
            .returning(LOYALTY.c.customer_id, LOYALTY.c.points)
        )
        for customer_id, points in await session.execute(stmt, facts.loyalty):
            deltas[customer_id] += points
    await apply_customer_changes(session=session, created=facts.customers, deltas=deltas)


async def apply_customer_changes(
    *,
    session: AsyncSession,
    created: dict[UUID, dict[str, Any]],
    deltas: dict[UUID, int],
) -> None:
    """Create customers made at tills and move balances, stamping a fresh change_seq.

    Rows are touched in a fixed order (sorted ids) after the change counter is locked, so
    two concurrent transactions can never wait on each other's customer rows in a cycle.
    A ``customer.created`` overwrites only a placeholder, never a record HQ has since edited.
    """
    touched = sorted(set(created) | set(deltas), key=str)
    if not touched:
        return
    seqs = dict(zip(touched, await allocate_change_seqs(session, len(touched)), strict=True))
    if created:
        stmt = insert(session, CUSTOMERS)
        stmt = stmt.on_conflict_do_update(
            index_elements=[CUSTOMERS.c.customer_id],
            set_={
                "name": stmt.excluded.name,
                "phone": stmt.excluded.phone,
                "email": stmt.excluded.email,
                "placeholder": False,
                "change_seq": stmt.excluded.change_seq,
            },
            where=CUSTOMERS.c.placeholder.is_(True),
        )
        await session.execute(
            stmt,
            [
                {**created[c], "loyalty_balance": 0, "placeholder": False, "change_seq": seqs[c]}
                for c in touched
                if c in created
            ],
        )
    changed = [c for c in touched if deltas.get(c)]
    if not changed:
        return
    await session.execute(
        insert(session, CUSTOMERS).on_conflict_do_nothing(),
        [
            {
                "customer_id": c,
                "name": PLACEHOLDER_CUSTOMER_NAME,
                "phone": None,
                "email": None,
                "loyalty_balance": 0,
                "placeholder": True,
                "change_seq": seqs[c],
            }
            for c in changed
        ],
    )
    await session.execute(
        update(CUSTOMERS)
        .where(CUSTOMERS.c.customer_id == bindparam("b_id"))
        .values(
            loyalty_balance=CUSTOMERS.c.loyalty_balance + bindparam("b_delta"),
            change_seq=bindparam("b_seq"),
        ),
        [{"b_id": c, "b_delta": deltas[c], "b_seq": seqs[c]} for c in changed],
    )


# --------------------------------------------------------------------------- helpers


def _reason(exc: ValueError) -> str:
    text = str(exc)
    return text if len(text) <= 2000 else text[:1997] + "..."


def _rejected(event_id: UUID, reason: str) -> p.EventResult:
    return p.EventResult(event_id=event_id, status="rejected", reason=reason)


def _quarantine_row(env: p.EventEnvelope, reason: str, received_at: datetime) -> dict[str, Any]:
    return {
        "event_id": env.event_id,
        "terminal_id": env.terminal_id,
        "terminal_seq": env.terminal_seq,
        "reason": reason,
        "raw": json.dumps(env.model_dump(mode="json"), separators=(",", ":")),
        "received_at": received_at,
    }
