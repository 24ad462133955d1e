"""Apply one terminal's push batch: exactly once, in one transaction, never blocked by a bad event.

The caller owns the transaction (``async with db.sessions() as s, s.begin():``). Inside it:

1. Lock the terminal's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
   ``BEGIN IMMEDIATE`` already serialises writers). Every push of one terminal therefore
   runs one after another, so its contiguous mark is computed from a stable view.
2. Insert every envelope into ``events`` with ``ON CONFLICT DO NOTHING ... RETURNING``:
   the rows that come back are new, the rest are duplicates. Uniqueness of ``event_id``
   in the database, not a read-then-write check, is what makes a resend harmless even
   when two workers receive the same batch at once.
3. Events HQ refuses are kept in ``quarantine`` with the raw envelope and the reason:
   payloads that did not validate (or of an unknown type or schema version), and new
   events failing HQ's own checks (:mod:`hq.checks`: a sale's arithmetic, ids colliding
   with held facts, loyalty balances out of bounds). They still count as held for the
   contiguous mark: the event exists, HQ just could not apply it. An envelope whose seq
   is unusable is quarantined without a place in ``events``.
4. New, valid events become facts (sales, lines, payments, loyalty ledger, shifts,
   approvals, customers, and the stock ledger's sale/refund movements at the terminal's
   outlet), one insert per table, and the report rollups move by the new sales
   (:mod:`hq.rollups`). Every fact is idempotent by its natural
   key; ledger rows come back from ``RETURNING`` only if really inserted, balances move
   by ``balance = balance + delta`` for those, and the customer's ``change_seq`` is
   bumped so tills pull the new authoritative balance. A sale or points naming a member
   HQ has merged into another go to that other member.
5. Advance the terminal's contiguous mark over the seqs it now holds (a step of its own,
   done before the facts of step 4 are written: it reads only ``events``).

The hot rows (events, sales, lines, payments, ledger) are written as driver-ready tuples
by :class:`~hq.bulk.BulkWriter`; the rare ones through SQLAlchemy Core.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, cast
from uuid import UUID

from sqlalchemy import BigInteger, Integer, String, Table, bindparam, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.bulk import BulkWriter, Write
from hq.checks import GST_RATES, check_events, clock_is_off, gst_rates
from hq.rollups import Rollups
from hq.sqlutil import allocate_change_seqs, insert
from hq.wire import Received, Refused
from sync import protocol as p

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
CANCELS = _table(m.Cancel)
Z_REPORTS = _table(m.ZReportRow)
CUSTOMERS = _table(m.Customer)
MOVEMENTS = _table(m.StockMovement)
TERMINALS = _table(m.Terminal)

EVENT_COLUMNS = (
    "event_id", "terminal_id", "terminal_seq", "type", "schema_version", "occurred_at",
    "received_at", "payload", "quarantined", "clock_off",
)  # fmt: skip
SALE_COLUMNS = (
    "sale_id", "kind", "event_id", "terminal_id", "receipt_no", "original_sale_id",
    "cashier_id", "approved_by", "customer_id", "shift_id", "subtotal_cents",
    "discount_cents", "total_cents", "tax_cents", "gst_rate_bp", "rounding_cents",
    "change_cents", "reason", "occurred_at", "received_at",
)  # fmt: skip
LINE_COLUMNS = (
    "sale_id", "line_no", "product_id", "sku", "name", "qty", "unit_price_cents",
    "discount_cents", "total_cents", "tax_code", "list_price_cents", "price_override_by",
    "age_confirmed",
)  # fmt: skip
PAYMENT_COLUMNS = (
    "payment_id", "sale_id", "tender", "amount_cents", "tendered_cents", "reference",
)  # fmt: skip
MOVEMENT_COLUMNS = (
    "kind", "reference", "line_no", "outlet_code", "product_id", "qty", "occurred_at", "actor",
)  # fmt: skip
LOYALTY_COLUMNS = (
    "entry_id", "customer_id", "points", "reason", "event_id", "terminal_id", "occurred_at",
    "received_at",
)  # fmt: skip

Tuple = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class TillReport:
    """What a till says of itself with a push (headers; either may be missing)."""

    pending: int | None = None
    version: str | None = None


class TerminalNotAllowed(Exception):
    """The terminal is unknown or revoked (checked again under the row lock)."""


@dataclass
class _Facts:
    """Rows collected from a batch's new, valid events, flushed with one insert per table.

    The hot tables hold driver-ready tuples in their ``*_COLUMNS`` order.
    """

    sales: list[Tuple] = field(default_factory=list)
    lines: list[Tuple] = field(default_factory=list)
    payments: list[Tuple] = field(default_factory=list)
    loyalty: list[Tuple] = field(default_factory=list)
    movements: list[Tuple] = field(default_factory=list)
    shifts: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    cancels: list[dict[str, Any]] = field(default_factory=list)
    z_reports: list[dict[str, Any]] = field(default_factory=list)
    customers: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    rollups: Rollups = field(default_factory=Rollups)


def utc(value: datetime) -> datetime:
    """Tills send aware UTC; a naive timestamp is read as UTC rather than refused."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def ingest_batch(
    *,
    session: AsyncSession,
    terminal_id: str,
    events: Sequence[Received],
    now: datetime | None = None,
    till: TillReport | None = None,
) -> p.PushResponse:
    """Apply ``events`` (already checked to belong to ``terminal_id``) and answer per event.

    ``till``: what the till said of itself with the push (its pending count and version),
    kept on its terminal row for the dashboard."""
    received_at = now or datetime.now(UTC)
    mark, outlet, rates = await _lock_terminal(session, terminal_id)
    bulk = await BulkWriter.of(session)

    first: dict[UUID, Received] = {}
    for ev in events:
        first.setdefault(ev.event_id, ev)
    checked = await check_events(
        session=session,
        terminal_id=terminal_id,
        events=list(first.values()),
        now=received_at,
        rates=rates,
    )
    first = {ev.event_id: checked.refused.get(ev.event_id, ev) for ev in first.values()}
    inserted = await _insert_events(bulk, first.values(), terminal_id, received_at)
    status: dict[UUID, p.EventResult] = {}
    quarantine: list[dict[str, Any]] = []
    facts = _Facts()
    collect = _Collector(bulk, facts, terminal_id, outlet, received_at)
    refunds = _RefundGuard(session)
    for ev in first.values():
        if ev.event_id not in inserted:
            continue
        if isinstance(ev.payload, p.SaleCompleted):
            refunds.note_sale(ev.payload)
        elif isinstance(ev.payload, p.SaleRefunded):
            over = await refunds.over_refund(ev.payload)
            if over is not None:
                ev = ev.refused(over)
                await _mark_quarantined(session, ev.event_id)
        if isinstance(ev.payload, Refused):
            status[ev.event_id] = _rejected(ev.event_id, ev.payload.reason)
            quarantine.append(_quarantine_row(ev, terminal_id, ev.payload.reason, received_at))
        else:
            status[ev.event_id] = p.EventResult(event_id=ev.event_id, status="accepted")
            collect(ev, ev.payload)

    missing = [ev for ev in first.values() if ev.event_id not in inserted]
    if missing:
        await _answer_resent(session, terminal_id, missing, status, quarantine, received_at)
    if quarantine:
        await session.execute(insert(session, QUARANTINE).on_conflict_do_nothing(), quarantine)
    # The mark reads only ``events``: moved before the facts so that the change counter,
    # locked by the facts' customer changes until commit, is held for as little as can be.
    mark = await _advance_mark(session, terminal_id, mark, received_at, till or TillReport())
    await _flush(session, bulk, facts, checked.merged_into)
    results = [status[ev.event_id] for ev in first.values()]
    if len(events) != len(first):  # an event repeated inside one batch: answer each copy
        seen: set[UUID] = set()
        results = []
        for ev in events:
            result = status[ev.event_id]
            if ev.event_id in seen and result.status == "accepted":
                result = p.EventResult(event_id=ev.event_id, status="duplicate")
            seen.add(ev.event_id)
            results.append(result)
    if quarantine:
        log.warning("terminal %s: %d event(s) quarantined", terminal_id, len(quarantine))
    return p.PushResponse(results=results, contiguous_seq=mark, hq_time=received_at)


# ----------------------------------------------------------------------------- steps


class _RefundGuard:
    """Refuses a refund that would take back more of a sale line than was sold.

    Two offline tills can each refund the same sale (one of them through a manual
    return); whichever arrives second is quarantined here and reported, never applied.
    Quantities refunded earlier in the same batch count too.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.in_batch: dict[tuple[UUID, int], int] = defaultdict(int)
        self.sold_in_batch: dict[UUID, dict[int, int]] = {}

    def note_sale(self, sale: p.SaleCompleted) -> None:
        self.sold_in_batch[sale.sale_id] = {ln.line_no: ln.qty for ln in sale.lines}

    async def over_refund(self, refund: p.SaleRefunded) -> str | None:
        original = refund.original_sale_id
        if original is None:
            return None  # a manual return: no sale to check it against (it has an approval)
        sold = self.sold_in_batch.get(original) or {
            row.line_no: int(row.qty)
            for row in await self.session.execute(
                select(m.SaleLine.line_no, m.SaleLine.qty).where(m.SaleLine.sale_id == original)
            )
        }
        if not sold:
            return None  # the sale is not here (yet): nothing to check it against
        refunded = {
            row.line_no: -int(row.qty)
            for row in await self.session.execute(
                select(m.SaleLine.line_no, func.sum(m.SaleLine.qty).label("qty"))
                .join(m.Sale, m.Sale.sale_id == m.SaleLine.sale_id)
                .where(m.Sale.original_sale_id == original, m.Sale.kind == "refund")
                .group_by(m.SaleLine.line_no)
            )
        }
        for ln in refund.lines:
            key = (original, ln.line_no)
            taken = refunded.get(ln.line_no, 0) + self.in_batch[key]
            if ln.line_no not in sold or taken + ln.qty > sold[ln.line_no]:
                return (
                    f"over-refund: line {ln.line_no} of sale {original} sold "
                    f"{sold.get(ln.line_no, 0)}, already refunded {taken}, this refund "
                    f"{ln.qty}"
                )
        for ln in refund.lines:
            self.in_batch[(original, ln.line_no)] += ln.qty
        return None


async def _mark_quarantined(session: AsyncSession, event_id: UUID) -> None:
    await session.execute(
        update(EVENTS).where(EVENTS.c.event_id == event_id).values(quarantined=True)
    )


_LOCK_TERMINAL = (
    select(
        TERMINALS.c.contiguous_seq,
        TERMINALS.c.revoked,
        TERMINALS.c.outlet_code,
        GST_RATES.label("gst_rates"),
    )
    .where(TERMINALS.c.terminal_id == bindparam("terminal_id"))
    .with_for_update(of=TERMINALS)
)


async def _lock_terminal(
    session: AsyncSession, terminal_id: str
) -> tuple[int, str, list[tuple[date, int]]]:
    """The terminal's contiguous mark, its outlet (where its sales take stock from) and,
    in the same statement, the GST rates the checks need."""
    connection = await session.connection()  # Core, not the ORM: less work per statement
    row = (await connection.execute(_LOCK_TERMINAL, {"terminal_id": terminal_id})).one_or_none()
    if row is None or row.revoked:
        raise TerminalNotAllowed(terminal_id)
    return int(row.contiguous_seq), str(row.outlet_code), gst_rates(row.gst_rates)


async def _insert_events(
    bulk: BulkWriter, events: Iterable[Received], terminal_id: str, received_at: datetime
) -> set[UUID]:
    """Insert the envelopes; return the ids that were new.

    A valid payload is stored as HQ's canonical JSON of the validated model; a refused
    one as it came.
    """
    received = bulk.timestamp(received_at)
    rows = []
    for ev in events:
        if isinstance(ev.payload, Refused):
            if not ev.payload.held:
                continue
            stored = ev.payload.raw.get("payload") if ev.payload.storable else {}
            payload, quarantined = json.dumps(stored), True
        else:
            payload, quarantined = ev.payload.model_dump_json(), False
        occurred_at = utc(ev.occurred_at)
        rows.append(
            (
                bulk.uuid(ev.event_id), terminal_id, ev.terminal_seq, ev.type[:40],
                ev.schema_version, bulk.timestamp(occurred_at), received, payload,
                quarantined, clock_is_off(occurred_at, received_at),
            )
        )  # fmt: skip
    if not rows:
        return set()
    new = await bulk.insert(EVENTS, EVENT_COLUMNS, rows, returning=("event_id",))
    return {bulk.uuid_of(row[0]) for row in new}


async def _answer_resent(
    session: AsyncSession,
    terminal_id: str,
    missing: list[Received],
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
            .where(m.Event.event_id.in_([ev.event_id for ev in missing]))
        )
    }
    for ev in missing:
        row = held.get(ev.event_id)
        if row is None:
            if isinstance(ev.payload, Refused) and not ev.payload.held:
                reason = ev.payload.reason
            else:
                reason = f"terminal_seq {ev.terminal_seq} is already held by another event"
            status[ev.event_id] = _rejected(ev.event_id, reason)
            quarantine.append(_quarantine_row(ev, terminal_id, reason, received_at))
        elif row.quarantined:
            status[ev.event_id] = _rejected(ev.event_id, row.reason or "quarantined")
        else:
            status[ev.event_id] = p.EventResult(event_id=ev.event_id, status="duplicate")


_ADVANCE_MARK = (
    text(
        """
        UPDATE terminals
        SET contiguous_seq = CASE
                WHEN EXISTS (SELECT 1 FROM events
                             WHERE terminal_id = :terminal_id AND terminal_seq = :mark + 1)
                THEN (SELECT e.terminal_seq FROM events AS e
                      WHERE e.terminal_id = :terminal_id AND e.terminal_seq > :mark
                        AND NOT EXISTS (SELECT 1 FROM events AS n
                                        WHERE n.terminal_id = :terminal_id
                                          AND n.terminal_seq = e.terminal_seq + 1)
                      ORDER BY e.terminal_seq
                      LIMIT 1)
                ELSE :mark
            END,
            last_seen_at = :seen_at,
            reported_pending = coalesce(:pending, reported_pending),
            app_version = coalesce(:version, app_version)
        WHERE terminal_id = :terminal_id
        RETURNING contiguous_seq
        """
    )
    .bindparams(
        bindparam("mark", type_=BigInteger()),
        bindparam("seen_at", type_=m.UtcDateTime()),
        bindparam("pending", type_=Integer()),
        bindparam("version", type_=String(40)),
    )
    .columns(contiguous_seq=BigInteger())
)


async def _advance_mark(
    session: AsyncSession, terminal_id: str, mark: int, seen_at: datetime, till: TillReport
) -> int:
    """Move the mark over the seqs now held above it, in one statement.

    If ``mark + 1`` is held, the new mark is the first held seq above the mark that has
    no successor: the end of the run starting at ``mark + 1``, found in order on the
    unique index ``(terminal_id, terminal_seq)`` without reading seqs into Python.
    """
    connection = await session.connection()
    result = await connection.execute(
        _ADVANCE_MARK,
        {
            "terminal_id": terminal_id,
            "mark": mark,
            "seen_at": seen_at,
            "pending": till.pending,
            "version": till.version,
        },
    )
    return int(result.scalar_one())


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True, slots=True)
class _Collector:
    """Turns each new, valid event into fact rows (refunds as negative facts)."""

    bulk: BulkWriter
    facts: _Facts
    terminal_id: str
    outlet_code: str
    received_at: datetime

    def __call__(self, ev: Received, payload: p.WireModel) -> None:
        u, facts = self.bulk.uuid, self.facts
        when = utc(ev.occurred_at)
        if clock_is_off(when, self.received_at):
            when = self.received_at  # the till's clock is wrong: date its facts by HQ's
        occurred_at = self.bulk.timestamp(when)
        received_at = self.bulk.timestamp(self.received_at)
        event_id, terminal_id = u(ev.event_id), self.terminal_id
        if isinstance(payload, p.SaleCompleted):
            sale_id = u(payload.sale_id)
            facts.sales.append(
                (
                    sale_id, "sale", event_id, terminal_id, payload.receipt_no, None,
                    u(payload.cashier_id), None, u(payload.customer_id), u(payload.shift_id),
                    payload.subtotal_cents, payload.discount_cents, payload.total_cents,
                    payload.tax_cents, payload.gst_rate_bp, payload.rounding_cents,
                    payload.change_cents, None, occurred_at, received_at,
                )
            )  # fmt: skip
            self._lines_and_payments(sale_id, payload.lines, payload.payments, sign=1)
            self._movements("sale", sale_id, payload.lines, occurred_at, sign=-1)
            self._loyalty(payload.loyalty, event_id, occurred_at, received_at)
            facts.rollups.add(
                when=when, terminal_id=terminal_id, sale_id=payload.sale_id, payload=payload
            )
        elif isinstance(payload, p.SaleRefunded):
            sale_id = u(payload.refund_id)
            customer = payload.loyalty[0].customer_id if payload.loyalty else None
            facts.sales.append(
                (
                    sale_id, "refund", event_id, terminal_id, payload.receipt_no,
                    u(payload.original_sale_id), u(payload.cashier_id), u(payload.approved_by),
                    u(customer), u(payload.shift_id),
                    -sum(ln.qty * ln.unit_price_cents for ln in payload.lines),
                    -sum(ln.discount_cents for ln in payload.lines), -payload.total_cents,
                    -payload.tax_cents, None, -payload.rounding_cents, 0, payload.reason,
                    occurred_at, received_at,
                )
            )  # fmt: skip
            self._lines_and_payments(sale_id, payload.lines, payload.payments, sign=-1)
            self._movements("refund", sale_id, payload.lines, occurred_at, sign=1)
            self._loyalty(payload.loyalty, event_id, occurred_at, received_at)
            facts.rollups.add(
                when=when, terminal_id=terminal_id, sale_id=payload.refund_id, payload=payload
            )
        elif isinstance(payload, p.LoyaltyAdjusted):
            self._loyalty([payload.delta], event_id, occurred_at, received_at)
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
                    "occurred_at": when,
                    "outcome": "granted",
                    "failed_attempts": 0,
                    "locked": False,
                }
            )
        elif isinstance(payload, p.ApprovalRefused):
            facts.approvals.append(
                {
                    "approval_id": payload.attempt_id,
                    "terminal_id": terminal_id,
                    "action": payload.action,
                    "manager_id": None,
                    "cashier_id": payload.cashier_id,
                    "sale_id": None,
                    "note": payload.note,
                    "occurred_at": when,
                    "outcome": "refused",
                    "failed_attempts": payload.failed_attempts,
                    "locked": payload.locked,
                }
            )
        elif isinstance(payload, p.SaleCancelled):
            facts.cancels.append(
                {
                    "cancel_id": payload.cancel_id,
                    "terminal_id": terminal_id,
                    "cashier_id": payload.cashier_id,
                    "approved_by": payload.approved_by,
                    "approval_id": payload.approval_id,
                    "shift_id": payload.shift_id,
                    "line_count": payload.line_count,
                    "total_cents": payload.total_cents,
                    "reason": payload.reason,
                    "occurred_at": when,
                }
            )
        elif isinstance(payload, p.ZReport):
            facts.z_reports.append(
                {
                    "shift_id": payload.shift_id,
                    "terminal_id": terminal_id,
                    "event_id": ev.event_id,
                    "closed_at": utc(payload.closed_at),
                    "gross_sales_cents": payload.gross_sales_cents,
                    "refunds_cents": payload.refunds_cents,
                    "net_sales_cents": payload.net_sales_cents,
                    "sales_count": payload.sales_count,
                    "refunds_count": payload.refunds_count,
                    "cancels_count": payload.cancels_count,
                    "expected_cash_cents": payload.expected_cash_cents,
                    "counted_cash_cents": payload.counted_cash_cents,
                    "variance_cents": payload.variance_cents,
                    "report": payload.model_dump(mode="json"),
                }
            )
        elif isinstance(payload, p.LineVoided | p.CashMovement):
            pass  # kept in ``events``; a shift's Z report carries their totals
        else:  # pragma: no cover - PAYLOAD_MODELS and this function grow together
            raise AssertionError(f"no handler for {type(payload).__name__}")

    def _lines_and_payments(
        self,
        sale_id: Any,
        lines: Sequence[p.SaleLine],
        payments: Sequence[p.Payment],
        *,
        sign: int,
    ) -> None:
        """Refunds are stored as negative facts so that sums over sales are net figures."""
        u = self.bulk.uuid
        self.facts.lines.extend(
            (
                sale_id, ln.line_no, u(ln.product_id), ln.sku, ln.name, sign * ln.qty,
                ln.unit_price_cents, sign * ln.discount_cents, sign * ln.total_cents,
                ln.tax_code, ln.list_price_cents, u(ln.price_override_by), ln.age_confirmed,
            )
            for ln in lines
        )  # fmt: skip
        self.facts.payments.extend(
            (
                u(pay.payment_id), sale_id, pay.tender, sign * pay.amount_cents,
                sign * pay.tendered_cents, pay.reference,
            )
            for pay in payments
        )  # fmt: skip

    def _movements(
        self, kind: str, sale_id: Any, lines: Sequence[p.SaleLine], occurred_at: Any, *, sign: int
    ) -> None:
        """Stock leaves the terminal's outlet with a sale and comes back with a refund,
        keyed by sale (or refund) id and line no so a re-sent event adds nothing. A line
        naming no product (an open-price item) moves no stock."""
        u, outlet, actor = self.bulk.uuid, self.outlet_code, self.terminal_id
        self.facts.movements.extend(
            (kind, sale_id, ln.line_no, outlet, u(ln.product_id), sign * ln.qty, occurred_at, actor)
            for ln in lines
            if ln.product_id is not None
        )

    def _loyalty(
        self, deltas: Sequence[p.LoyaltyDelta], event_id: Any, occurred_at: Any, received_at: Any
    ) -> None:
        u = self.bulk.uuid
        self.facts.loyalty.extend(
            (
                u(d.entry_id), u(d.customer_id), d.points, d.reason, event_id, self.terminal_id,
                occurred_at, received_at,
            )
            for d in deltas
        )  # fmt: skip


async def _flush(
    session: AsyncSession,
    bulk: BulkWriter,
    facts: _Facts,
    merged_into: dict[UUID, UUID | None],
) -> None:
    """One insert per table; every one is idempotent by its natural key. The report
    rollups get one additive upsert each, of the new facts only (:mod:`hq.rollups`).
    The hot tables and the rollups go in one :meth:`~hq.bulk.BulkWriter.write_all`
    (one statement on PostgreSQL).
    ``merged_into``: where the customers named are, as the checks found them."""
    merged = await _repoint_merged(session, bulk, facts, merged_into)
    new = await bulk.write_all(
        [
            Write(SALES, SALE_COLUMNS, facts.sales),
            Write(LINES, LINE_COLUMNS, facts.lines),
            Write(PAYMENTS, PAYMENT_COLUMNS, facts.payments),
            Write(MOVEMENTS, MOVEMENT_COLUMNS, facts.movements),
            *facts.rollups.writes(bulk),
            Write(LOYALTY, LOYALTY_COLUMNS, facts.loyalty, returning=("customer_id", "points")),
        ]
    )
    deltas: dict[UUID, int] = defaultdict(int)
    for row in new:
        deltas[bulk.uuid_of(row.customer_id)] += row.points
    for table, rows in (
        (SHIFTS, facts.shifts),
        (APPROVALS, facts.approvals),
        (CANCELS, facts.cancels),
        (Z_REPORTS, facts.z_reports),
    ):
        if rows:
            await session.execute(insert(session, table).on_conflict_do_nothing(), rows)
    await apply_customer_changes(
        session=session, created=facts.customers, deltas=deltas, touch=merged
    )


async def _repoint_merged(
    session: AsyncSession,
    bulk: BulkWriter,
    facts: _Facts,
    merged_into: dict[UUID, UUID | None],
) -> set[UUID]:
    """Sales and points naming a member HQ has merged into another go to that member.

    A till that has not pulled the merge yet (or was offline) still names the old member;
    its events are accepted as usual, with the survivor in their place, so no points are
    stranded on a hidden member. Returns the merged members named, whose change_seq is
    bumped so the till pulls them again (zero balance) after counting its own deltas.
    Customers the checks looked up (``merged_into``) are not read again.
    """
    sale_customer = SALE_COLUMNS.index("customer_id")
    named = {row[1] for row in facts.loyalty}
    named.update(row[sale_customer] for row in facts.sales if row[sale_customer] is not None)
    if not named:
        return set()
    customers = {bulk.uuid_of(c) for c in named}
    found: dict[UUID, UUID] = {c: new for c in customers if (new := merged_into.get(c)) is not None}
    ids = sorted((c for c in customers if c not in merged_into), key=str)
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(m.Customer.customer_id, m.Customer.merged_into).where(
                m.Customer.customer_id.in_(ids[start : start + 500]),
                m.Customer.merged_into.is_not(None),
            )
        )
        found.update({r.customer_id: r.merged_into for r in rows})
    if not found:
        return set()
    to = {bulk.uuid(old): bulk.uuid(new) for old, new in found.items()}
    facts.loyalty = [(r[0], to.get(r[1], r[1]), *r[2:]) for r in facts.loyalty]
    facts.sales = [
        (*r[:sale_customer], to.get(r[sale_customer], r[sale_customer]), *r[sale_customer + 1 :])
        for r in facts.sales
    ]
    return set(found)


async def apply_customer_changes(
    *,
    session: AsyncSession,
    created: dict[UUID, dict[str, Any]],
    deltas: dict[UUID, int],
    touch: Iterable[UUID] = (),
) -> None:
    """Create customers made at tills and move balances, stamping a fresh change_seq
    (also on the existing rows in ``touch``, which are otherwise left as they are).

    Rows are touched in a fixed order (sorted ids) after the change counter is locked, so
    two concurrent transactions can never wait on each other's customer rows in a cycle.
    A ``customer.created`` overwrites only a placeholder, never a record HQ has since edited.
    """
    touch = set(touch)
    touched = sorted(set(created) | set(deltas) | touch, key=str)
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
    bumped = [c for c in touched if c in touch and c not in created and not deltas.get(c)]
    if bumped:
        await session.execute(
            update(CUSTOMERS)
            .where(CUSTOMERS.c.customer_id == bindparam("b_id"))
            .values(change_seq=bindparam("b_seq")),
            [{"b_id": c, "b_seq": seqs[c]} for c in bumped],
        )
    changed = [c for c in touched if deltas.get(c)]
    if not changed:
        return
    connection = await session.connection()
    await connection.execute(
        _balance_upsert(connection.dialect.name),
        [
            {
                "customer_id": c,
                "name": PLACEHOLDER_CUSTOMER_NAME,
                "phone": None,
                "email": None,
                "loyalty_balance": deltas[c],
                "placeholder": True,
                "change_seq": seqs[c],
            }
            for c in changed
        ],
    )


# --------------------------------------------------------------------------- helpers


@cache
def _balance_upsert(dialect: str) -> Any:
    """A customer HQ does not hold yet (made at a till, not synced) starts as a
    placeholder holding just the delta; a held one moves by it: one upsert for both."""
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CUSTOMERS)
    return stmt.on_conflict_do_update(
        index_elements=[CUSTOMERS.c.customer_id],
        set_={
            "loyalty_balance": CUSTOMERS.c.loyalty_balance + stmt.excluded.loyalty_balance,
            "change_seq": stmt.excluded.change_seq,
        },
    )


def _rejected(event_id: UUID, reason: str) -> p.EventResult:
    return p.EventResult(event_id=event_id, status="rejected", reason=reason)


def _quarantine_row(
    ev: Received, terminal_id: str, reason: str, received_at: datetime
) -> dict[str, Any]:
    return {
        "event_id": ev.event_id,
        "terminal_id": terminal_id,
        "terminal_seq": ev.terminal_seq,
        "reason": reason,
        "raw": json.dumps(ev.raw(), separators=(",", ":")),
        "received_at": received_at,
    }
