"""Stock per outlet: a ledger of signed movements, never an overwritten number.

An outlet's on-hand of a product is ``SUM(qty)`` of its ``stock_movements``. Sales and
refunds write theirs at ingest (:mod:`hq.ingest`, in the batch's transaction), goods
receipts theirs in :mod:`hq.purchasing`; this module writes stock counts (the difference
to on-hand becomes an ``adjustment``) and transfers (a ``transfer_out`` and a
``transfer_in`` in one unit of work), keeps low-stock thresholds, and reads on-hand, low
stock and the valuation at cost. Every change is audited in its own transaction.

Who may move stock: an owner anywhere, an outlet manager at their own outlets (both ends
of a transfer), an accountant nowhere (:func:`check_may_move`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.admins import AdminProfile
from hq.auth import audit
from hq.reports.common import Scope, money
from hq.sqlutil import insert

MAX_QTY = 1_000_000
"""A line's quantity (counted, sent or received) is at most this: a typo, not stock."""
MAX_LINES = 2_000


class StockError(ValueError):
    """A request the admin can fix (unknown sku, too much sent, ...)."""


class StockForbidden(StockError):
    """The admin may not move stock at that outlet."""


def check_may_move(profile: AdminProfile, *outlets: str) -> None:
    """Owners move stock anywhere; a manager only at their outlets; accountants never."""
    if profile.role == "owner":
        return
    if profile.role != "manager" or profile.outlets is None:
        raise StockForbidden(f"a {profile.role} cannot change stock or purchasing")
    for outlet in outlets:
        if outlet not in profile.outlets:
            raise StockForbidden(f"you do not manage outlet {outlet}")


def may_move_any(profile: AdminProfile) -> bool:
    return profile.role == "owner" or (profile.role == "manager" and bool(profile.outlets))


class ProductRef(BaseModel):
    product_id: uuid.UUID
    sku: str
    name: str


class StockRow(BaseModel):
    outlet: str
    product_id: uuid.UUID
    sku: str
    name: str
    on_hand: int
    min_qty: int | None
    low: bool


class StockLevels(BaseModel):
    rows: list[StockRow]

    def table(self) -> tuple[list[str], list[list[Any]]]:
        head = ["outlet", "sku", "name", "on_hand", "min_qty", "low"]
        return head, [
            [r.outlet, r.sku, r.name, r.on_hand, r.min_qty, "yes" if r.low else ""]
            for r in self.rows
        ]


class ValuationRow(BaseModel):
    outlet: str
    product_id: uuid.UUID
    sku: str
    name: str
    on_hand: int
    unit_cost_cents: int | None
    """The latest known cost excluding GST (from goods receipts); None: never received."""
    value_cents: int


class StockValuation(BaseModel):
    as_at: datetime
    rows: list[ValuationRow]
    by_outlet: dict[str, int]
    total_cents: int
    uncosted: int
    """Rows with stock but no known cost (valued at 0)."""
    note: str = (
        "On-hand x the latest unit cost from goods receipts, excluding GST. Stock sold "
        "before it was received shows as negative on-hand and value."
    )

    def table(self) -> tuple[list[str], list[list[Any]]]:
        head = ["outlet", "sku", "name", "on_hand", "unit_cost", "value"]
        return head, [
            [
                r.outlet, r.sku, r.name, r.on_hand,
                "" if r.unit_cost_cents is None else money(r.unit_cost_cents),
                money(r.value_cents),
            ]
            for r in self.rows
        ]  # fmt: skip


# ----------------------------------------------------------------------------- reading


async def on_hand(
    session: AsyncSession,
    *,
    outlets: Sequence[str] | None = None,
    product_ids: Iterable[uuid.UUID] | None = None,
) -> dict[tuple[str, uuid.UUID], int]:
    """``{(outlet, product): qty}``: the sum of the movements, on the (outlet, product) index."""
    stmt = select(
        m.StockMovement.outlet_code, m.StockMovement.product_id, func.sum(m.StockMovement.qty)
    ).group_by(m.StockMovement.outlet_code, m.StockMovement.product_id)
    if outlets is not None:
        stmt = stmt.where(m.StockMovement.outlet_code.in_(list(outlets)))
    if product_ids is not None:
        stmt = stmt.where(m.StockMovement.product_id.in_(list(product_ids)))
    return {(r[0], r[1]): int(r[2]) for r in await session.execute(stmt)}


async def latest_costs(
    session: AsyncSession, product_ids: Iterable[uuid.UUID] | None = None
) -> dict[uuid.UUID, int]:
    """Each product's unit cost on its most recent goods receipt (any outlet)."""
    rank = (
        func.row_number()
        .over(
            partition_by=m.StockMovement.product_id,
            order_by=(m.StockMovement.occurred_at.desc(), m.StockMovement.reference.desc()),
        )
        .label("rank")
    )
    inner = select(m.StockMovement.product_id, m.StockMovement.unit_cost_cents, rank).where(
        m.StockMovement.kind == "receipt", m.StockMovement.unit_cost_cents.is_not(None)
    )
    if product_ids is not None:
        inner = inner.where(m.StockMovement.product_id.in_(list(product_ids)))
    sub = inner.subquery()
    rows = await session.execute(
        select(sub.c.product_id, sub.c.unit_cost_cents).where(sub.c.rank == 1)
    )
    return {r[0]: int(r[1]) for r in rows}


async def _products(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ProductRef]:
    wanted = list(set(ids))
    found: dict[uuid.UUID, ProductRef] = {}
    for start in range(0, len(wanted), 500):
        rows = await session.execute(
            select(m.Product.product_id, m.Product.sku, m.Product.name).where(
                m.Product.product_id.in_(wanted[start : start + 500])
            )
        )
        found.update({r[0]: ProductRef(product_id=r[0], sku=r[1], name=r[2]) for r in rows})
    return found


def _ref(products: Mapping[uuid.UUID, ProductRef], pid: uuid.UUID) -> ProductRef:
    """A product HQ does not know (sold at a till before it reached HQ) still shows."""
    return products.get(pid) or ProductRef(product_id=pid, sku="?", name=f"unknown {pid}")


def _outlets(scope: Scope, outlet: str | None) -> list[str] | None:
    if outlet:
        return [outlet] if scope.outlets is None or outlet in scope.outlets else []
    return None if scope.outlets is None else list(scope.outlets)


async def stock_levels(
    *, session: AsyncSession, scope: Scope, outlet: str | None = None
) -> StockLevels:
    """On-hand per outlet and product within the asker's scope, with thresholds."""
    outlets = _outlets(scope, outlet)
    levels = await on_hand(session, outlets=outlets)
    thresholds = await _thresholds(session, outlets)
    keys = set(levels) | set(thresholds)
    products = await _products(session, (pid for _, pid in keys))
    rows = []
    for key in keys:
        qty, limit = levels.get(key, 0), thresholds.get(key)
        ref = _ref(products, key[1])
        rows.append(
            StockRow(
                outlet=key[0], product_id=key[1], sku=ref.sku, name=ref.name, on_hand=qty,
                min_qty=limit, low=limit is not None and qty < limit,
            )
        )  # fmt: skip
    rows.sort(key=lambda r: (r.outlet, r.sku, str(r.product_id)))
    return StockLevels(rows=rows)


async def _thresholds(
    session: AsyncSession, outlets: Sequence[str] | None
) -> dict[tuple[str, uuid.UUID], int]:
    stmt = select(
        m.StockThreshold.outlet_code, m.StockThreshold.product_id, m.StockThreshold.min_qty
    )
    if outlets is not None:
        stmt = stmt.where(m.StockThreshold.outlet_code.in_(list(outlets)))
    return {(r[0], r[1]): int(r[2]) for r in await session.execute(stmt)}


async def low_stock(*, session: AsyncSession, scope: Scope, limit: int = 50) -> list[StockRow]:
    """Products below their outlet's threshold, emptiest first: the dashboard's panel.

    Reads only the thresholds set and those products' movements, so it stays cheap
    however long the ledger grows."""
    outlets = _outlets(scope, None)
    thresholds = await _thresholds(session, outlets)
    if not thresholds:
        return []
    levels = await on_hand(session, outlets=outlets, product_ids={pid for _, pid in thresholds})
    low = [(k, levels.get(k, 0), v) for k, v in thresholds.items() if levels.get(k, 0) < v]
    products = await _products(session, (k[1] for k, _, _ in low))
    rows = [
        StockRow(
            outlet=k[0], product_id=k[1], sku=_ref(products, k[1]).sku,
            name=_ref(products, k[1]).name, on_hand=qty, min_qty=v, low=True,
        )
        for k, qty, v in low
    ]  # fmt: skip
    rows.sort(key=lambda r: (r.on_hand - (r.min_qty or 0), r.outlet, r.sku))
    return rows[:limit]


async def valuation(
    *, session: AsyncSession, scope: Scope, outlet: str | None = None
) -> StockValuation:
    """On-hand at cost, per outlet and product, as at now."""
    levels = await on_hand(session, outlets=_outlets(scope, outlet))
    levels = {k: v for k, v in levels.items() if v}
    ids = {pid for _, pid in levels}
    costs = await latest_costs(session, ids)
    products = await _products(session, ids)
    rows = []
    for (code, pid), qty in levels.items():
        cost = costs.get(pid)
        ref = _ref(products, pid)
        rows.append(
            ValuationRow(
                outlet=code, product_id=pid, sku=ref.sku, name=ref.name, on_hand=qty,
                unit_cost_cents=cost, value_cents=qty * (cost or 0),
            )
        )  # fmt: skip
    rows.sort(key=lambda r: (r.outlet, r.sku, str(r.product_id)))
    by_outlet: dict[str, int] = {}
    for r in rows:
        by_outlet[r.outlet] = by_outlet.get(r.outlet, 0) + r.value_cents
    return StockValuation(
        as_at=datetime.now(UTC),
        rows=rows,
        by_outlet=by_outlet,
        total_cents=sum(by_outlet.values()),
        uncosted=sum(1 for r in rows if r.unit_cost_cents is None),
    )


class MovementRow(BaseModel):
    kind: str
    reference: uuid.UUID
    line_no: int
    qty: int
    unit_cost_cents: int | None
    occurred_at: datetime
    actor: str
    note: str | None
    balance: int
    """On hand after this movement."""


class MovementHistory(BaseModel):
    outlet: str
    product: ProductRef
    on_hand: int
    rows: list[MovementRow]
    """The newest first; at most ``limit`` of them."""


async def movement_history(
    *, session: AsyncSession, scope: Scope, outlet: str, sku: str, limit: int = 200
) -> MovementHistory:
    """One product's ledger at one outlet, newest first, with the running balance: why
    on-hand is what it is. Read on the (outlet, product) index."""
    if scope.outlets is not None and outlet not in scope.outlets:
        raise StockForbidden(f"you do not manage outlet {outlet}")
    if not sku.strip():
        raise StockError("no product named: pick one from the stock table")
    product = (await products_by_sku(session, [sku]))[sku.strip()]
    where = (
        m.StockMovement.outlet_code == outlet,
        m.StockMovement.product_id == product.product_id,
    )
    total = (
        await session.execute(select(func.coalesce(func.sum(m.StockMovement.qty), 0)).where(*where))
    ).scalar_one()
    rows = await session.execute(
        select(m.StockMovement)
        .where(*where)
        .order_by(m.StockMovement.occurred_at.desc(), m.StockMovement.kind, m.StockMovement.line_no)
        .limit(limit)
    )
    balance, out = int(total), []
    for mv in rows.scalars():
        out.append(
            MovementRow(
                kind=mv.kind, reference=mv.reference, line_no=mv.line_no, qty=mv.qty,
                unit_cost_cents=mv.unit_cost_cents, occurred_at=mv.occurred_at,
                actor=mv.actor, note=mv.note, balance=balance,
            )
        )  # fmt: skip
        balance -= mv.qty
    return MovementHistory(outlet=outlet, product=product, on_hand=int(total), rows=out)


# ----------------------------------------------------------------------------- writing


async def products_by_sku(session: AsyncSession, skus: Iterable[str]) -> dict[str, ProductRef]:
    """The products named by sku (case as stored); an unknown sku is an error."""
    wanted = sorted({s.strip() for s in skus if s.strip()})
    if not wanted:
        return {}
    rows = await session.execute(
        select(m.Product.product_id, m.Product.sku, m.Product.name).where(m.Product.sku.in_(wanted))
    )
    found = {r[1]: ProductRef(product_id=r[0], sku=r[1], name=r[2]) for r in rows}
    if missing := [s for s in wanted if s not in found]:
        raise StockError(f"no product with sku {', '.join(missing[:5])} in the catalog")
    return found


async def check_outlets(session: AsyncSession, *codes: str, lock: bool = False) -> None:
    """Every code names an outlet. With ``lock``, their rows stay locked until the caller
    commits (PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers), so two
    counts or transfers at one outlet never both judge against the same on-hand."""
    stmt = select(m.Outlet.code).where(m.Outlet.code.in_(sorted(set(codes))))
    if lock:
        stmt = stmt.order_by(m.Outlet.code).with_for_update()
    known = set((await session.execute(stmt)).scalars())
    for code in codes:
        if code not in known:
            raise StockError(f"there is no outlet {code!r}")


def parse_qty(raw: str, what: str, *, allow_zero: bool = False) -> int:
    """A whole number of units typed into a form."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise StockError(f"{what}: {raw.strip()[:20]!r} is not a whole number of units")
    qty = int(text)
    if qty > MAX_QTY or (qty == 0 and not allow_zero):
        raise StockError(f"{what}: give a quantity from {0 if allow_zero else 1} to {MAX_QTY}")
    return qty


async def write_movements(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert ledger rows (idempotent by kind, reference and line no)."""
    if rows:
        table = m.StockMovement.__table__
        await session.execute(insert(session, table).on_conflict_do_nothing(), rows)


class CountResult(BaseModel):
    count_id: uuid.UUID
    counted: int
    adjusted: int
    """Lines whose count differed from on-hand (each one ``adjustment`` movement)."""


async def record_count(
    session: AsyncSession,
    *,
    outlet: str,
    counts: Mapping[uuid.UUID, int],
    actor: str,
    note: str | None = None,
    ip: str | None = None,
) -> CountResult:
    """A stock count: each counted product's difference to on-hand becomes an audited
    ``adjustment`` (products not counted are left as they are)."""
    await check_outlets(session, outlet, lock=True)
    if not counts:
        raise StockError("enter a counted quantity for at least one product")
    if len(counts) > MAX_LINES:
        raise StockError(f"a count has at most {MAX_LINES} products")
    products = await _products(session, counts)
    if missing := [str(pid) for pid in counts if pid not in products]:
        raise StockError(f"unknown product {missing[0]}")
    levels = await on_hand(session, outlets=[outlet], product_ids=counts)
    count_id, now = uuid.uuid4(), datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    detail: list[str] = []
    for pid in sorted(counts, key=lambda p: products[p].sku):
        before, counted = levels.get((outlet, pid), 0), counts[pid]
        if counted == before:
            continue
        rows.append(
            {
                "kind": "adjustment", "reference": count_id, "line_no": len(rows) + 1,
                "outlet_code": outlet, "product_id": pid, "qty": counted - before,
                "unit_cost_cents": None, "occurred_at": now, "actor": actor,
                "note": note or "stock count",
            }
        )  # fmt: skip
        detail.append(f"{products[pid].sku}: {before} -> {counted}")
    await write_movements(session, rows)
    await audit.record(
        session=session, username=actor, action="stock.count", target=f"{outlet} {count_id}",
        detail=f"{len(counts)} counted; " + ("; ".join(detail) or "no differences"), ip=ip,
    )  # fmt: skip
    return CountResult(count_id=count_id, counted=len(counts), adjusted=len(rows))


async def transfer(
    session: AsyncSession,
    *,
    from_outlet: str,
    to_outlet: str,
    lines: Sequence[tuple[uuid.UUID, int]],
    actor: str,
    note: str | None = None,
    ip: str | None = None,
) -> uuid.UUID:
    """Move stock between outlets: ``transfer_out`` and ``transfer_in`` per line, in the
    caller's one transaction, carrying the latest known cost. Sending more than the
    source has on hand is refused."""
    if from_outlet == to_outlet:
        raise StockError("a transfer goes from one outlet to another; pick two outlets")
    await check_outlets(session, from_outlet, to_outlet, lock=True)
    if not lines:
        raise StockError("add at least one product and quantity to transfer")
    qty: dict[uuid.UUID, int] = {}
    for pid, n in lines:
        qty[pid] = qty.get(pid, 0) + n
    products = await _products(session, qty)
    levels = await on_hand(session, outlets=[from_outlet], product_ids=qty)
    for pid, n in qty.items():
        have = levels.get((from_outlet, pid), 0)
        if n > have:
            raise StockError(
                f"{from_outlet} has {have} of {_ref(products, pid).sku} on hand; it cannot send {n}"
            )
    costs = await latest_costs(session, qty)
    transfer_id, now = uuid.uuid4(), datetime.now(UTC)
    rows = []
    for line_no, pid in enumerate(sorted(qty, key=lambda p: _ref(products, p).sku), start=1):
        for kind, outlet, sign in (
            ("transfer_out", from_outlet, -1),
            ("transfer_in", to_outlet, 1),
        ):
            rows.append(
                {
                    "kind": kind, "reference": transfer_id, "line_no": line_no,
                    "outlet_code": outlet, "product_id": pid, "qty": sign * qty[pid],
                    "unit_cost_cents": costs.get(pid), "occurred_at": now, "actor": actor,
                    "note": note,
                }
            )  # fmt: skip
    await write_movements(session, rows)
    await audit.record(
        session=session, username=actor, action="stock.transfer",
        target=f"{from_outlet} -> {to_outlet} {transfer_id}",
        detail="; ".join(f"{_ref(products, p).sku} x {n}" for p, n in qty.items()), ip=ip,
    )  # fmt: skip
    return transfer_id


async def set_threshold(
    session: AsyncSession,
    *,
    outlet: str,
    product_id: uuid.UUID,
    min_qty: int | None,
    actor: str,
    ip: str | None = None,
) -> None:
    """Set (or with None remove) the low-stock threshold of a product at an outlet."""
    await check_outlets(session, outlet)
    existing = await session.get(m.StockThreshold, (outlet, product_id))
    if min_qty is None:
        if existing is not None:
            await session.delete(existing)
    elif existing is None:
        session.add(m.StockThreshold(outlet_code=outlet, product_id=product_id, min_qty=min_qty))
    else:
        existing.min_qty = min_qty
    await session.flush()
    await audit.record(
        session=session, username=actor, action="stock.threshold", target=f"{outlet} {product_id}",
        detail="removed" if min_qty is None else f"low below {min_qty}", ip=ip,
    )  # fmt: skip
