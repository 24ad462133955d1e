"""HQ's own checks of each new event before it becomes facts (DESIGN invariant 7).

The wire models bound every field (:mod:`sync.protocol`); these checks need more than
one field, another event of the batch, or HQ's store:

* a sale's arithmetic, recomputed from its lines: line totals, subtotal, discounts and
  total agree; GST is the effective rate's share of the standard-rated lines within a
  cent; tenders pay exactly total + cash rounding; only cash rounds (by at most 2 cents)
  or gives change; loyalty points follow the rules (earn at most one point per cent
  paid in money, redeem only against a points tender);
* ids made at a till (sales, refunds, payments, ledger entries, shifts, approvals,
  customers) are new: one colliding with a fact HQ holds, or with another event of the
  batch, is refused, never merged into the other fact;
* a loyalty delta that would take a balance beyond :data:`MAX_LOYALTY_BALANCE` is
  refused, so the change feed can always describe every customer.

An event that fails is returned refused (with the reason) and goes to quarantine like an
event whose payload did not validate. Events HQ already holds (resends) are not checked
again: their answer comes from what HQ stored the first time.

The till's clock is not trusted either, but a sale stays a sale when the clock is wrong:
:func:`clock_is_off` only flags the event (``events.clock_off``) and its facts are dated
by HQ's ``received_at``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from typing import cast as cast_
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    Integer,
    String,
    Table,
    Uuid,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.wire import Received, Refused
from sync import protocol as p

MAX_LOYALTY_BALANCE = p.WIRE_MAX_CENTS // 10
"""A balance HQ will hold, in points: a tenth of what the wire record allows, so that
even concurrent pushes from many tills cannot take a balance past what the feed sends."""
CLOCK_AHEAD = timedelta(hours=1)
CLOCK_BEHIND = timedelta(days=366)
"""An ``occurred_at`` further from HQ's clock than this is flagged (tills may be offline
for weeks, never for a year, and never send from the future)."""
MAX_ROUNDING_CENTS = 2
"""Cash rounds to the nearest 5 cents."""
_CHUNK = 5000
"""Ids per ``IN`` list (SQLite allows 32,766 bound parameters per statement)."""


def clock_is_off(occurred_at: datetime, received_at: datetime) -> bool:
    return not received_at - CLOCK_BEHIND <= occurred_at <= received_at + CLOCK_AHEAD


def inclusive_tax(total_cents: int, rate_bp: int) -> int:
    """GST contained in a GST-inclusive total, rounded half-up (as the till computes it)."""
    if total_cents < 0:
        return -inclusive_tax(-total_cents, rate_bp)
    return (2 * total_cents * rate_bp + 10_000 + rate_bp) // (2 * (10_000 + rate_bp))


@dataclass(frozen=True)
class Checked:
    """What :func:`check_events` found: the refused events, and where the customers the
    checked events name stand (so ingest need not look them up again)."""

    refused: dict[UUID, Received] = field(default_factory=dict)
    merged_into: dict[UUID, UUID | None] = field(default_factory=dict)
    """Every customer id named by a checked event (a sale's or refund's customer, a
    ledger entry's, a created customer): the member it was merged into, or None (not
    merged, or not held)."""


async def check_events(
    *,
    session: AsyncSession,
    terminal_id: str,
    events: Sequence[Received],
    now: datetime,
    rates: list[tuple[date, int]] | None = None,
) -> Checked:
    """The events of ``events`` that fail a check, each replaced by its refused form.

    What HQ holds is read in one statement for the whole batch (:func:`_held`): the
    event ids, every id the events make, and the customers they name. ``rates``: the
    GST rates (:func:`gst_rates`) if the caller has read them already."""
    candidates = [ev for ev in events if not isinstance(ev.payload, Refused)]
    if not candidates:
        return Checked()
    made = {ev.event_id: _made_ids(ev.payload) for ev in candidates}  # type: ignore[arg-type]
    deltas = {ev.event_id: _deltas(ev.payload) for ev in candidates}  # type: ignore[arg-type]
    held = await _held(session, candidates, made, deltas)
    merged_into = {c: row[2] for c, row in held.customers.items()}
    merged_into.update({c: None for c in held.looked_up if c not in held.customers})
    candidates = [ev for ev in candidates if ev.event_id not in held.ids["events"]]
    if not candidates:
        return Checked(merged_into=merged_into)
    if rates is None:
        rates = await _gst_rates(session)
    reasons: dict[UUID, str] = {}
    for ev in candidates:
        reason = event_problem(ev, terminal_id=terminal_id, rates=rates, now=now)
        if reason:
            reasons[ev.event_id] = reason
    ok = [ev for ev in candidates if ev.event_id not in reasons]
    reasons.update(_collisions(ok, made, held))
    ok = [ev for ev in ok if ev.event_id not in reasons]
    reasons.update(_balances(ok, deltas, held))
    return Checked(
        refused={
            ev.event_id: ev.refused(reasons[ev.event_id]) for ev in events if ev.event_id in reasons
        },
        merged_into=merged_into,
    )


# ------------------------------------------------------------------------ one event


def event_problem(
    ev: Received, *, terminal_id: str, rates: list[tuple[date, int]], now: datetime
) -> str | None:
    """Why this event cannot be applied as it stands, or None."""
    payload = ev.payload
    if isinstance(payload, p.SaleCompleted):
        return _receipt_problem(payload.receipt_no, terminal_id) or sale_problem(
            payload, rates=_rates_near(rates, ev.occurred_at, now)
        )
    if isinstance(payload, p.SaleRefunded):
        # ``receipt_no`` is the refunded sale's, which another till may have made; the
        # credit note's own number is this terminal's.
        own = payload.credit_note_no
        return (_receipt_problem(own, terminal_id) if own else None) or refund_problem(payload)
    if isinstance(payload, p.ShiftClosed):
        if payload.closed_at < payload.opened_at:
            return "shift closed before it opened"
        if min(payload.opening_float_cents, payload.counted_cash_cents) < 0:
            return "a cash amount of the shift is negative"
    return None


def _receipt_problem(receipt_no: str, terminal_id: str) -> str | None:
    if not receipt_no.startswith(terminal_id + "-"):
        return f"receipt_no {receipt_no!r} is not one of terminal {terminal_id}'s receipts"
    return None


def _lines_problem(lines: Sequence[p.SaleLine]) -> str | None:
    seen: set[int] = set()
    for ln in lines:
        if ln.line_no in seen:
            return f"line_no {ln.line_no} appears twice"
        seen.add(ln.line_no)
        gross = ln.qty * ln.unit_price_cents
        if ln.discount_cents > gross:
            return f"line {ln.line_no}: discount {ln.discount_cents} exceeds the line's {gross}"
        if ln.total_cents != gross - ln.discount_cents:
            return (
                f"line {ln.line_no}: total {ln.total_cents} is not "
                f"{ln.qty} x {ln.unit_price_cents} - {ln.discount_cents}"
            )
    return None


def _ids_problem(ids: Iterable[UUID], what: str) -> str | None:
    listed = list(ids)
    if len(set(listed)) != len(listed):
        return f"a {what} id appears twice in one event"
    return None


def sale_problem(sale: p.SaleCompleted, *, rates: set[int] | None) -> str | None:
    """Recompute a sale from its lines; ``rates``: the GST rates in force (None: unknown)."""
    problem = _lines_problem(sale.lines)
    if problem:
        return problem
    subtotal = sum(ln.qty * ln.unit_price_cents for ln in sale.lines)
    total = sum(ln.total_cents for ln in sale.lines)
    if sale.subtotal_cents != subtotal:
        return f"subtotal {sale.subtotal_cents} is not the lines' {subtotal}"
    if sale.total_cents != total:
        return f"total {sale.total_cents} is not the lines' {total}"
    if sale.discount_cents != subtotal - total:
        return f"discount {sale.discount_cents} is not subtotal - total = {subtotal - total}"
    if rates is not None and sale.gst_rate_bp not in rates:
        return f"GST rate {sale.gst_rate_bp} bp is not the rate in force ({sorted(rates)})"
    taxable = sum(ln.total_cents for ln in sale.lines if ln.tax_code == "SR")
    tax = inclusive_tax(taxable, sale.gst_rate_bp)
    if abs(sale.tax_cents - tax) > 1:
        return f"GST {sale.tax_cents} is not {tax} ({sale.gst_rate_bp} bp of {taxable})"
    return _payments_problem(sale) or _points_problem(sale)


def _payments_problem(sale: p.SaleCompleted) -> str | None:
    problem = _ids_problem((pay.payment_id for pay in sale.payments), "payment")
    if problem:
        return problem
    paid = sum(pay.amount_cents for pay in sale.payments)
    cash = [pay for pay in sale.payments if pay.tender == "cash"]
    if paid != sale.total_cents + sale.rounding_cents:
        return f"tenders pay {paid}, not total {sale.total_cents} + rounding {sale.rounding_cents}"
    if abs(sale.rounding_cents) > MAX_ROUNDING_CENTS or (sale.rounding_cents and not cash):
        return f"rounding {sale.rounding_cents} is not a cash rounding to 5 cents"
    for pay in sale.payments:
        if pay.tender != "cash" and pay.tendered_cents != pay.amount_cents:
            return f"{pay.tender} tendered {pay.tendered_cents} for {pay.amount_cents}: no change"
        if pay.tendered_cents < pay.amount_cents:
            return f"{pay.tender} tendered {pay.tendered_cents}, less than its {pay.amount_cents}"
    change = sum(pay.tendered_cents - pay.amount_cents for pay in cash)
    if sale.change_cents != change:
        return f"change {sale.change_cents} is not the cash over-tendered ({change})"
    return None


def _points_problem(sale: p.SaleCompleted) -> str | None:
    problem = _ids_problem((d.entry_id for d in sale.loyalty), "loyalty entry")
    if problem:
        return problem
    if sale.loyalty and sale.customer_id is None:
        return "loyalty points on a sale without a customer"
    points_paid = sum(pay.amount_cents for pay in sale.payments if pay.tender == "points")
    redeemed = 0
    for d in sale.loyalty:
        if d.customer_id != sale.customer_id:
            return "loyalty points for a customer other than the sale's"
        if d.reason == "earn":
            if not 0 <= d.points <= max(0, sale.total_cents - points_paid):
                return f"earned {d.points} points on {sale.total_cents - points_paid} cents paid"
        elif d.reason == "redeem":
            if d.points > 0:
                return "a redemption must take points away"
            redeemed -= d.points
        else:
            return f"a sale cannot carry a loyalty {d.reason!r} entry"
    if bool(redeemed) != bool(points_paid) or redeemed > points_paid:
        return f"{redeemed} points redeemed against a points tender of {points_paid} cents"
    return None


def refund_problem(refund: p.SaleRefunded) -> str | None:
    problem = _lines_problem(refund.lines) or _ids_problem(
        (pay.payment_id for pay in refund.payments), "payment"
    )
    if problem:
        return problem
    total = sum(ln.total_cents for ln in refund.lines)
    if refund.total_cents != total:
        return f"refund total {refund.total_cents} is not the lines' {total}"
    paid = sum(pay.amount_cents for pay in refund.payments)
    if paid != refund.total_cents + refund.rounding_cents:
        return (
            f"refund pays out {paid}, not its total {refund.total_cents}"
            f" and rounding {refund.rounding_cents}"
        )
    if refund.rounding_cents and not any(pay.tender == "cash" for pay in refund.payments):
        return "cash rounding on a refund paid out with no cash"
    if not -2 <= refund.rounding_cents <= 2:
        return f"cash rounding of {refund.rounding_cents} cents is more than 5-cent rounding allows"
    if not 0 <= refund.tax_cents <= refund.total_cents:
        return f"refund GST {refund.tax_cents} is outside 0..{refund.total_cents}"
    for pay in refund.payments:
        if pay.tendered_cents < pay.amount_cents:
            return f"{pay.tender} tendered {pay.tendered_cents}, less than its {pay.amount_cents}"
    customers = {d.customer_id for d in refund.loyalty}
    if len(customers) > 1:
        return "a refund's points belong to more than one customer"
    return _ids_problem((d.entry_id for d in refund.loyalty), "loyalty entry")


def _rates_near(
    rates: list[tuple[date, int]], occurred_at: datetime, now: datetime
) -> set[int] | None:
    """Rates in force around the sale's date (time zones, a till's clock) and today."""
    if not rates:
        return None
    days = {occurred_at.date() + timedelta(days=d) for d in (-1, 0, 1)} | {now.date()}
    found = set()
    for day in days:
        in_force = [r for r in rates if r[0] <= day]
        if in_force:
            found.add(max(in_force)[1])
    return found or None


GST_RATES = (
    select(cast_(Table, m.StoreSettings.__table__).c.gst_rates)
    .where(cast_(Table, m.StoreSettings.__table__).c.id == 1)
    .scalar_subquery()
)
"""The stored GST rates, as a scalar subquery (ingest reads them with the terminal's lock)."""


async def _gst_rates(session: AsyncSession) -> list[tuple[date, int]]:
    connection = await session.connection()
    return gst_rates(await connection.scalar(select(GST_RATES)))


def gst_rates(stored: Any) -> list[tuple[date, int]]:
    """The rates of the stored setting (:data:`GST_RATES`) as (effective from, bp)."""
    rates = []
    for r in stored or []:
        try:
            rates.append((date.fromisoformat(str(r["effective_from"])), int(r["rate_bp"])))
        except (KeyError, TypeError, ValueError):
            continue
    return rates


# ------------------------------------------------------------------------ the batch


def _made_ids(payload: p.WireModel) -> dict[str, list[UUID]]:
    """The ids this event makes, by the table that will hold them."""
    made: dict[str, list[UUID]] = defaultdict(list)
    if isinstance(payload, p.SaleCompleted | p.SaleRefunded):
        made["sales"].append(
            payload.sale_id if isinstance(payload, p.SaleCompleted) else payload.refund_id
        )
        made["payments"].extend(pay.payment_id for pay in payload.payments)
        made["loyalty"].extend(d.entry_id for d in payload.loyalty)
    elif isinstance(payload, p.LoyaltyAdjusted):
        made["loyalty"].append(payload.delta.entry_id)
    elif isinstance(payload, p.ShiftClosed):
        made["shifts"].append(payload.shift_id)
    elif isinstance(payload, p.ApprovalGranted):
        made["approvals"].append(payload.approval_id)
    elif isinstance(payload, p.CustomerCreated):
        made["customers"].append(payload.customer_id)
    return made


def _column(model: type[m.Base], name: str) -> Any:
    return cast_(Table, model.__table__).c[name]


_ID_COLUMNS: dict[str, Any] = {
    "events": _column(m.Event, "event_id"),
    "sales": _column(m.Sale, "sale_id"),
    "payments": _column(m.SalePayment, "payment_id"),
    "loyalty": _column(m.LoyaltyEntry, "entry_id"),
    "shifts": _column(m.Shift, "shift_id"),
    "approvals": _column(m.Approval, "approval_id"),
}
_CUSTOMER = cast_(Table, m.Customer.__table__)
_CUSTOMERS = "customers"
_PARAMS = 30_000
"""Ids per lookup statement (SQLite allows 32,766 bound parameters per statement)."""


@dataclass
class _Held:
    """What HQ holds of the ids a batch names, read by :func:`_held`."""

    ids: dict[str, set[UUID]] = field(default_factory=lambda: defaultdict(set))
    """By table (``events`` and :data:`_ID_COLUMNS`): the ids that are already held."""
    customers: dict[UUID, tuple[int, bool, UUID | None]] = field(default_factory=dict)
    """Held customers named by the batch: (loyalty balance, placeholder, merged into)."""
    looked_up: set[UUID] = field(default_factory=set)
    """Every customer id that was looked up (held or not)."""


def _probe(table: str, name: str, postgres: bool) -> Any:
    """``SELECT table, id, NULL, NULL, NULL`` of the ids (parameter ``name``) held in
    ``table``; customers come with their balance, placeholder flag and the member they
    were merged into.

    SQLite takes the ids as an expanding ``IN``. PostgreSQL takes them as one array (one
    text, so one prepared statement, whatever their number) and finds each id on its own
    through the table's key: ``unnest`` joined ``LATERAL`` to a one-row lookup, planned
    for the ids and the tables as they are at each push (:func:`_held`). A backlog drain
    grows the tables faster than autovacuum analyses them: ``id = ANY($1)`` was kept as
    a scan of the whole table, planned while it was small, and cost a push 50 ms after
    40,000 sales and more after each; planned afresh it still chose scans (10 ms), and a
    plain join to ``unnest`` a hash of the whole table (6 ms), both growing with it.
    """
    column = _CUSTOMER.c.customer_id if table == _CUSTOMERS else _ID_COLUMNS[table]
    if table == _CUSTOMERS:
        c = _CUSTOMER.c
        found = [
            c.customer_id.label("id"),
            c.loyalty_balance.label("balance"),
            c.placeholder.label("placeholder"),
            c.merged_into.label("merged_into"),
        ]
    else:
        found = [
            column.label("id"),
            cast(null(), BigInteger).label("balance"),
            cast(null(), Boolean).label("placeholder"),
            cast(null(), Uuid).label("merged_into"),
        ]
    label = literal_column(f"'{table}'", String).label("held_in")
    if not postgres:
        return select(label, *found).where(column.in_(bindparam(name, expanding=True)))
    wanted = (
        func.unnest(bindparam(name, type_=postgresql.ARRAY(column.type)))
        .table_valued("id")
        .render_derived(name=f"wanted_{name}")
    )
    one = literal_column("1", Integer)  # a literal: the plan knows it is one row
    held = select(*found).where(column == wanted.c.id).limit(one).lateral(f"held_{name}")
    return select(label, *held.c).select_from(wanted.join(held, true()))


@lru_cache(maxsize=256)
def _lookup(tables: tuple[str, ...], postgres: bool) -> Any:
    """The ``UNION ALL`` of one :func:`_probe` per entry of ``tables`` (parameters
    ``ids_0``, ``ids_1``...), built once per shape."""
    return union_all(*(_probe(t, f"ids_{i}", postgres) for i, t in enumerate(tables)))


async def _held(
    session: AsyncSession,
    events: Sequence[Received],
    made: dict[UUID, dict[str, list[UUID]]],
    deltas: dict[UUID, dict[UUID, int]],
) -> _Held:
    """One ``UNION ALL`` of lookups for the whole batch (more only for a batch of more
    than :data:`_PARAMS` ids): which event ids and made ids HQ holds, and the customers
    the events name (created, earning or spending points, or a sale's customer)."""
    wanted: dict[str, set[UUID]] = defaultdict(set)
    wanted["events"] = {ev.event_id for ev in events}
    for ev in events:
        for table, ids in made[ev.event_id].items():
            wanted[table].update(ids)
        wanted[_CUSTOMERS].update(deltas[ev.event_id])
        payload = ev.payload
        if isinstance(payload, p.SaleCompleted) and payload.customer_id is not None:
            wanted[_CUSTOMERS].add(payload.customer_id)
    held = _Held(looked_up=set(wanted[_CUSTOMERS]))
    probes = [
        (table, chunk)
        for table, wanted_ids in wanted.items()
        for chunk in _chunks(sorted(wanted_ids, key=str))
    ]
    connection = await session.connection()
    postgres = connection.dialect.name == "postgresql"
    if postgres:  # each lookup planned for its ids and the tables as they are: see _probe
        await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    while probes:
        batch: list[tuple[str, Sequence[UUID]]] = []
        size = 0
        while probes and (not batch or size + len(probes[0][1]) <= _PARAMS):
            batch.append(probes.pop(0))
            size += len(batch[-1][1])
        stmt = _lookup(tuple(table for table, _ in batch), postgres)
        params = {f"ids_{i}": list(chunk) for i, (_, chunk) in enumerate(batch)}
        for row in await connection.execute(stmt, params):
            if row.held_in == _CUSTOMERS:
                held.customers[row.id] = (int(row.balance), bool(row.placeholder), row.merged_into)
            else:
                held.ids[row.held_in].add(row.id)
    if postgres:  # the session's own setting again for the rest of the push
        await connection.exec_driver_sql("RESET plan_cache_mode")
    return held


def _collisions(
    events: Sequence[Received], made: dict[UUID, dict[str, list[UUID]]], held: _Held
) -> dict[UUID, str]:
    """Events making an id HQ already holds, or one an earlier event of the batch made.
    A customer is held when HQ has a real record of it (not a placeholder)."""
    taken = {table: held.ids.get(table, set()) for table in _ID_COLUMNS}
    taken[_CUSTOMERS] = {c for c, (_, placeholder, _) in held.customers.items() if not placeholder}
    reasons: dict[UUID, str] = {}
    seen: set[UUID] = set()
    for ev in events:
        mine = [(table, i) for table, ids in made[ev.event_id].items() for i in ids]
        for table, i in mine:
            if i in taken.get(table, ()):
                reasons[ev.event_id] = f"id {i} is already held by another {table} record"
                break
            if i in seen:
                reasons[ev.event_id] = f"id {i} is made twice in this batch"
                break
        else:
            seen.update(i for _, i in mine)
    return reasons


def _balances(
    events: Sequence[Received], deltas: dict[UUID, dict[UUID, int]], held: _Held
) -> dict[UUID, str]:
    """Events whose loyalty deltas would take a balance past :data:`MAX_LOYALTY_BALANCE`."""
    balance: dict[UUID, int] = defaultdict(int)
    balance.update({c: row[0] for c, row in held.customers.items()})
    reasons: dict[UUID, str] = {}
    for ev in events:
        moved = {c: balance[c] + d for c, d in deltas[ev.event_id].items()}
        beyond = [c for c, b in moved.items() if abs(b) > MAX_LOYALTY_BALANCE]
        if beyond:
            reasons[ev.event_id] = (
                f"loyalty balance of {beyond[0]} would be {moved[beyond[0]]}, "
                f"beyond +/-{MAX_LOYALTY_BALANCE}"
            )
        else:
            balance.update(moved)
    return reasons


def _deltas(payload: p.WireModel) -> dict[UUID, int]:
    entries: list[p.LoyaltyDelta] = []
    if isinstance(payload, p.SaleCompleted | p.SaleRefunded):
        entries = list(payload.loyalty)
    elif isinstance(payload, p.LoyaltyAdjusted):
        entries = [payload.delta]
    out: dict[UUID, int] = defaultdict(int)
    for d in entries:
        out[d.customer_id] += d.points
    return out


def _chunks(ids: Sequence[UUID]) -> Iterable[Sequence[UUID]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
