"""Till exceptions: the audit trail of what a shop manager and loss prevention read.

Discounts given, lines voided, sales cancelled, no-sale drawer opens and every manager
approval at a till (price overrides, refunds, voids, discounts over the limit...), granted
or refused with the wrong-PIN attempts: one row each, in time order, with counts and
amounts by kind for the whole period (the rows stop at :data:`MAX_ROWS`).

Discounts, approvals and cancels are rows HQ keeps; voids and cash movements are kept as
events (a few per shift) and read from them. An event whose till clock was off is dated
by HQ's receipt time, as its facts are.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from typing import Any, Literal, TypeVarTuple

from pydantic import BaseModel
from sqlalchemy import Select, and_, case, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.reports.common import ReportQuery, Scope, restrict, scoped_sales, window
from hq.reports.sales import cents

MAX_ROWS = 2000
Ts = TypeVarTuple("Ts")
Kind = Literal["discount", "void", "cancel", "no_sale", "approval", "refused"]
KINDS: tuple[Kind, ...] = ("discount", "void", "cancel", "no_sale", "approval", "refused")
LABELS: dict[str, str] = {
    "discount": "Discounts",
    "void": "Voids",
    "cancel": "Cancelled sales",
    "no_sale": "No-sale opens",
    "approval": "Approvals granted",
    "refused": "Approvals refused",
}


class ExceptionRow(BaseModel):
    kind: Kind
    occurred_at: datetime
    terminal_id: str
    cashier: str | None
    manager: str | None
    """Who approved it (None: no approval, or a refused attempt)."""
    what: str
    """The receipt, the item, or the action approved."""
    amount_cents: int | None
    note: str


class KindTotal(BaseModel):
    kind: Kind
    label: str
    count: int
    amount_cents: int


class ExceptionsReport(BaseModel):
    query: ReportQuery
    totals: list[KindTotal]
    rows: list[ExceptionRow]
    truncated: bool
    """More rows than :data:`MAX_ROWS` in the period: the totals count them all."""

    def table(self) -> tuple[list[str], list[list[Any]]]:
        head = ["kind", "at", "terminal", "cashier", "approved_by", "what", "amount", "note"]
        return head, [
            [r.kind, r.occurred_at.isoformat(), r.terminal_id, r.cashier or "", r.manager or "",
             r.what, "" if r.amount_cents is None else cents(r.amount_cents), r.note]
            for r in self.rows
        ]  # fmt: skip


async def exceptions(
    *, session: AsyncSession, query: ReportQuery, scope: Scope
) -> ExceptionsReport:
    names = {
        r.cashier_id: r.name
        for r in await session.execute(select(m.Cashier.cashier_id, m.Cashier.name))
    }
    wanted = _cashier_filter(query, names)
    rows = [
        *await _discounts(session, query, scope, names),
        *await _approvals(session, query, scope, names, wanted),
        *await _cancels(session, query, scope, names, wanted),
        *await _from_events(session, query, scope, names, wanted),
    ]
    rows.sort(key=lambda r: (r.occurred_at, r.terminal_id, r.kind))
    counts = Counter(r.kind for r in rows)
    amounts = Counter(dict.fromkeys(KINDS, 0))
    for r in rows:
        amounts[r.kind] += r.amount_cents or 0
    totals = [
        KindTotal(kind=k, label=LABELS[k], count=counts[k], amount_cents=amounts[k]) for k in KINDS
    ]
    return ExceptionsReport(
        query=query, totals=totals, rows=rows[:MAX_ROWS], truncated=len(rows) > MAX_ROWS
    )


def _cashier_filter(query: ReportQuery, names: dict[uuid.UUID, str]) -> set[uuid.UUID] | None:
    """The cashiers the filter names (by name, as the other reports take it), or None."""
    if not query.cashier:
        return None
    asked = query.cashier.strip().lower()
    return {cid for cid, name in names.items() if name.lower() == asked}


async def _discounts(
    session: AsyncSession, query: ReportQuery, scope: Scope, names: dict[uuid.UUID, str]
) -> list[ExceptionRow]:
    stmt = select(
        m.Sale.occurred_at, m.Sale.terminal_id, m.Sale.cashier_id, m.Sale.receipt_no,
        m.Sale.discount_cents,
    ).where(m.Sale.kind == "sale", m.Sale.discount_cents > 0)  # fmt: skip
    return [
        ExceptionRow(
            kind="discount",
            occurred_at=r.occurred_at,
            terminal_id=r.terminal_id,
            cashier=names.get(r.cashier_id),
            manager=None,
            what=r.receipt_no,
            amount_cents=int(r.discount_cents),
            note="",
        )  # fmt: skip
        for r in await session.execute(scoped_sales(stmt, query, scope))
    ]


def _at_tills(
    stmt: Select[*Ts], terminal_id: Any, at: Any, query: ReportQuery, scope: Scope
) -> Select[*Ts]:
    """Rows of tills the asker may see, in the period; the caller matches cashiers by id
    (these rows name a cashier by id, not through a sale)."""
    lo, hi = window(query.date_from, query.date_to, scope.tz)
    stmt = stmt.join(m.Terminal, m.Terminal.terminal_id == terminal_id).where(
        and_(at >= lo, at < hi)
    )
    return restrict(stmt, query.model_copy(update={"cashier": None}), scope)


async def _approvals(
    session: AsyncSession,
    query: ReportQuery,
    scope: Scope,
    names: dict[uuid.UUID, str],
    wanted: set[uuid.UUID] | None,
) -> list[ExceptionRow]:
    a = m.Approval
    stmt = _at_tills(select(a), a.terminal_id, a.occurred_at, query, scope)
    if wanted is not None:
        stmt = stmt.where(a.cashier_id.in_(wanted))
    rows = []
    for (row,) in await session.execute(stmt):
        refused = row.outcome == "refused"
        note = row.note
        if refused:
            tries = f"{row.failed_attempts} wrong PIN" + ("" if row.failed_attempts == 1 else "s")
            note = "; ".join(x for x in (tries, "locked" if row.locked else "", note) if x)
        rows.append(
            ExceptionRow(
                kind="refused" if refused else "approval",
                occurred_at=row.occurred_at,
                terminal_id=row.terminal_id,
                cashier=names.get(row.cashier_id),
                manager=names.get(row.manager_id) if row.manager_id else None,
                what=row.action,
                amount_cents=None,
                note=note,
            )  # fmt: skip
        )
    return rows


async def _cancels(
    session: AsyncSession,
    query: ReportQuery,
    scope: Scope,
    names: dict[uuid.UUID, str],
    wanted: set[uuid.UUID] | None,
) -> list[ExceptionRow]:
    c = m.Cancel
    stmt = _at_tills(select(c), c.terminal_id, c.occurred_at, query, scope)
    if wanted is not None:
        stmt = stmt.where(c.cashier_id.in_(wanted))
    return [
        ExceptionRow(
            kind="cancel",
            occurred_at=row.occurred_at,
            terminal_id=row.terminal_id,
            cashier=names.get(row.cashier_id),
            manager=names.get(row.approved_by) if row.approved_by else None,
            what=f"{row.line_count} line" + ("" if row.line_count == 1 else "s"),
            amount_cents=row.total_cents,
            note=row.reason,
        )  # fmt: skip
        for (row,) in await session.execute(stmt)
    ]


async def _from_events(
    session: AsyncSession,
    query: ReportQuery,
    scope: Scope,
    names: dict[uuid.UUID, str],
    wanted: set[uuid.UUID] | None,
) -> list[ExceptionRow]:
    e = m.Event
    when = case((e.clock_off, e.received_at), else_=e.occurred_at)
    stmt = _at_tills(
        select(e.terminal_id, e.type, e.payload, when.label("at")).where(
            e.type.in_(("line.voided", "cash.movement")), e.quarantined.is_(False)
        ),
        e.terminal_id,
        when,
        query,
        scope,
    )
    rows = []
    for r in await session.execute(stmt):
        payload: dict[str, Any] = r.payload
        cashier = _uuid(payload.get("cashier_id"))
        if wanted is not None and cashier not in wanted:
            continue
        manager = _uuid(payload.get("approved_by"))
        common = {
            "occurred_at": r.at,
            "terminal_id": r.terminal_id,
            "cashier": names.get(cashier) if cashier else None,
            "manager": names.get(manager) if manager else None,
        }
        if r.type == "line.voided":
            rows.append(
                ExceptionRow(
                    kind="void",
                    what=f"{payload.get('sku', '')} x{payload.get('qty', '')}",
                    amount_cents=int(payload.get("amount_cents") or 0),
                    note="",
                    **common,
                )  # fmt: skip
            )
        elif payload.get("kind") == "no_sale":
            rows.append(
                ExceptionRow(
                    kind="no_sale",
                    what="drawer opened",
                    amount_cents=None,
                    note=str(payload.get("reason") or ""),
                    **common,
                )  # fmt: skip
            )
    return rows


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None
