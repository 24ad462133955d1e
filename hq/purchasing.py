"""Purchasing: suppliers, purchase orders per outlet, goods receiving, GST on purchases.

A purchase order moves ``draft -> ordered -> partly_received -> received`` (or
``cancelled`` before anything arrives). Receiving, against an order (in full or in part)
or without one, is one unit of work: the ``goods_receipts`` row with the purchase's GST,
one ``receipt`` stock movement per line carrying its unit cost, the order's received
quantities and status, and the audit row.

GST on a receipt: standard-rated lines at the rate in force on the receipt's local day
(HQ's effective-dated schedule), half-up on the receipt's standard-rated total; zero-rated
lines are taxable purchases without tax; exempt lines are neither. The GST F5 reads
boxes 5 and 7 from these receipts (:func:`hq.reports.purchases.purchases_for_f5`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, computed_field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import fields, inventory
from hq import models as m
from hq.auth import audit
from hq.inventory import StockError

TAX_CODES = ("SR", "ZR", "ES")
MAX_UNIT_COST = 100_000_000
"""S$1,000,000 a unit excluding GST: more is a typo."""
DEFAULT_RATE_BP = 900


class PurchasingError(StockError):
    """A request the admin can fix."""


class SupplierView(BaseModel):
    supplier_id: int
    name: str
    gst_reg_no: str | None
    contact: str | None


class PoLineView(BaseModel):
    line_no: int
    product_id: uuid.UUID
    sku: str
    name: str
    qty: int
    unit_cost_cents: int
    tax_code: str
    received_qty: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def outstanding(self) -> int:
        """Still awaited."""
        return max(self.qty - self.received_qty, 0)


class PoView(BaseModel):
    po_id: int
    supplier_id: int
    supplier: str
    outlet: str
    status: str
    created_at: datetime
    created_by: str
    note: str | None
    lines: list[PoLineView]
    net_cents: int


class ReceiptView(BaseModel):
    receipt_id: uuid.UUID
    po_id: int | None
    supplier: str
    outlet: str
    supplier_ref: str | None
    received_at: datetime
    received_by: str
    net_cents: int
    taxable_cents: int
    tax_cents: int
    gst_rate_bp: int


@dataclass(frozen=True, slots=True)
class LineIn:
    """A line as the form gave it (product resolved by sku)."""

    product_id: uuid.UUID
    qty: int
    unit_cost_cents: int
    tax_code: str


def parse_cost(raw: str, what: str) -> int:
    """``"2.45"`` -> 245: a unit cost in dollars excluding GST, at most two decimals."""
    try:
        amount = Decimal(raw.strip())
        ok = amount.is_finite() and amount >= 0 and amount == amount.quantize(Decimal("0.01"))
    except InvalidOperation:
        ok = False
    if not ok:
        raise PurchasingError(f"{what}: {raw.strip()[:20]!r} is not a cost like 2.45")
    cents = int(amount * 100)
    if cents > MAX_UNIT_COST:
        raise PurchasingError(f"{what}: a unit cost is at most S$1,000,000.00")
    return cents


def parse_tax_code(raw: str, what: str) -> str:
    code = (raw.strip() or "SR").upper()
    if code not in TAX_CODES:
        raise PurchasingError(f"{what}: the tax code is SR, ZR or ES, not {raw.strip()[:8]!r}")
    return code


# ---------------------------------------------------------------------------- suppliers


async def list_suppliers(session: AsyncSession) -> list[SupplierView]:
    rows = await session.execute(select(m.Supplier).order_by(m.Supplier.name))
    return [
        SupplierView(
            supplier_id=s.supplier_id, name=s.name, gst_reg_no=s.gst_reg_no, contact=s.contact
        )
        for s in rows.scalars()
    ]


async def save_supplier(
    session: AsyncSession,
    *,
    name: str,
    gst_reg_no: str,
    contact: str,
    actor: str,
    supplier_id: int | None = None,
    ip: str | None = None,
) -> int:
    """Add a supplier, or edit one (``supplier_id``); names are unique."""
    name = name.strip()
    if not name or len(name) > 200:
        raise PurchasingError("a supplier needs a name of 1 to 200 characters")
    try:
        reg = fields.gst_reg_no(gst_reg_no)
    except fields.FieldError as exc:
        raise PurchasingError(str(exc)) from None
    clash = (
        await session.execute(select(m.Supplier.supplier_id).where(m.Supplier.name == name))
    ).scalar_one_or_none()
    if clash is not None and clash != supplier_id:
        raise PurchasingError(f"there is already a supplier called {name!r}")
    if supplier_id is None:
        row = m.Supplier(
            name=name, gst_reg_no=reg, contact=contact.strip() or None, created_at=_now()
        )
        session.add(row)
        action = "supplier.create"
    else:
        found = await session.get(m.Supplier, supplier_id)
        if found is None:
            raise PurchasingError(f"there is no supplier {supplier_id}")
        row = found
        row.name, row.gst_reg_no, row.contact = name, reg, contact.strip() or None
        action = "supplier.update"
    await session.flush()
    await audit.record(
        session=session, username=actor, action=action, target=f"{row.supplier_id} {name}",
        detail=f"GST reg. {reg}" if reg else None, ip=ip,
    )  # fmt: skip
    return row.supplier_id


async def _supplier(session: AsyncSession, supplier_id: int) -> m.Supplier:
    found = await session.get(m.Supplier, supplier_id)
    if found is None:
        raise PurchasingError("pick a supplier (add one on the suppliers page first)")
    return found


# ------------------------------------------------------------------------ purchase orders


async def create_po(
    session: AsyncSession,
    *,
    supplier_id: int,
    outlet: str,
    lines: Sequence[LineIn],
    actor: str,
    note: str | None = None,
    ip: str | None = None,
) -> int:
    """A draft purchase order for one outlet."""
    supplier = await _supplier(session, supplier_id)
    await inventory.check_outlets(session, outlet)
    if not lines:
        raise PurchasingError("a purchase order needs at least one line")
    if len(lines) > inventory.MAX_LINES:
        raise PurchasingError(f"a purchase order has at most {inventory.MAX_LINES} lines")
    po = m.PurchaseOrder(
        supplier_id=supplier.supplier_id, outlet_code=outlet, status="draft",
        created_at=_now(), created_by=actor, note=note,
    )  # fmt: skip
    session.add(po)
    await session.flush()
    session.add_all(
        m.PurchaseOrderLine(
            po_id=po.po_id, line_no=i, product_id=ln.product_id, qty=ln.qty,
            unit_cost_cents=ln.unit_cost_cents, tax_code=ln.tax_code, received_qty=0,
        )
        for i, ln in enumerate(lines, start=1)
    )  # fmt: skip
    await session.flush()
    net = sum(ln.qty * ln.unit_cost_cents for ln in lines)
    await audit.record(
        session=session, username=actor, action="po.create",
        target=f"PO {po.po_id} {outlet}",
        detail=f"{supplier.name}: {len(lines)} line(s), net {net} cents", ip=ip,
    )  # fmt: skip
    return po.po_id


async def po_outlet(session: AsyncSession, po_id: int) -> str:
    """The outlet of an order (to check who may act on it before acting)."""
    found = (
        await session.execute(
            select(m.PurchaseOrder.outlet_code).where(m.PurchaseOrder.po_id == po_id)
        )
    ).scalar_one_or_none()
    if found is None:
        raise PurchasingError(f"there is no purchase order {po_id}")
    return found


async def _locked_po(session: AsyncSession, po_id: int) -> m.PurchaseOrder:
    po = (
        await session.execute(
            select(m.PurchaseOrder).where(m.PurchaseOrder.po_id == po_id).with_for_update()
        )
    ).scalar_one_or_none()
    if po is None:
        raise PurchasingError(f"there is no purchase order {po_id}")
    return po


_MOVES = {"ordered": ("draft",), "cancelled": ("draft", "ordered")}


async def set_po_status(
    session: AsyncSession, *, po_id: int, status: str, actor: str, ip: str | None = None
) -> None:
    """Mark a draft ordered, or cancel an order nothing has been received against."""
    po = await _locked_po(session, po_id)
    allowed = _MOVES.get(status)
    if allowed is None:
        raise PurchasingError(f"an order cannot be set to {status[:20]!r} by hand")
    if po.status not in allowed:
        raise PurchasingError(f"PO {po_id} is {_words(po.status)}; it cannot become {status}")
    before, po.status = po.status, status
    await session.flush()
    await audit.record(
        session=session, username=actor, action=f"po.{status}", target=f"PO {po_id}",
        detail=f"{before} -> {status}", ip=ip,
    )  # fmt: skip


async def get_po(session: AsyncSession, po_id: int) -> PoView:
    found = await list_pos(session, outlets=None, po_id=po_id)
    if not found:
        raise PurchasingError(f"there is no purchase order {po_id}")
    return found[0]


async def list_pos(
    session: AsyncSession, *, outlets: Sequence[str] | None, po_id: int | None = None
) -> list[PoView]:
    stmt = (
        select(m.PurchaseOrder, m.Supplier.name)
        .join(m.Supplier, m.Supplier.supplier_id == m.PurchaseOrder.supplier_id)
        .order_by(m.PurchaseOrder.po_id.desc())
        .limit(200)
    )
    if outlets is not None:
        stmt = stmt.where(m.PurchaseOrder.outlet_code.in_(list(outlets)))
    if po_id is not None:
        stmt = stmt.where(m.PurchaseOrder.po_id == po_id)
    orders = list((await session.execute(stmt)).all())
    ids = [po.po_id for po, _ in orders]
    lines: dict[int, list[PoLineView]] = {}
    if ids:
        rows = await session.execute(
            select(m.PurchaseOrderLine, m.Product.sku, m.Product.name)
            .join(m.Product, m.Product.product_id == m.PurchaseOrderLine.product_id)
            .where(m.PurchaseOrderLine.po_id.in_(ids))
            .order_by(m.PurchaseOrderLine.po_id, m.PurchaseOrderLine.line_no)
        )
        for ln, sku, name in rows:
            lines.setdefault(ln.po_id, []).append(
                PoLineView(
                    line_no=ln.line_no, product_id=ln.product_id, sku=sku, name=name, qty=ln.qty,
                    unit_cost_cents=ln.unit_cost_cents, tax_code=ln.tax_code,
                    received_qty=ln.received_qty,
                )
            )  # fmt: skip
    return [
        PoView(
            po_id=po.po_id, supplier_id=po.supplier_id, supplier=supplier,
            outlet=po.outlet_code, status=po.status, created_at=po.created_at,
            created_by=po.created_by, note=po.note, lines=lines.get(po.po_id, []),
            net_cents=sum(ln.qty * ln.unit_cost_cents for ln in lines.get(po.po_id, [])),
        )
        for po, supplier in orders
    ]  # fmt: skip


# ----------------------------------------------------------------------------- receiving


async def rate_on(session: AsyncSession, day: date) -> int:
    """The GST rate (basis points) in force on ``day`` by HQ's schedule."""
    raw = (await session.execute(select(m.StoreSettings.gst_rates))).scalar_one_or_none() or []
    rate = None
    for r in sorted(raw, key=lambda r: str(r["effective_from"])):
        if date.fromisoformat(str(r["effective_from"])) <= day:
            rate = int(r["rate_bp"])
    return DEFAULT_RATE_BP if rate is None else rate


def purchase_tax(lines: Sequence[LineIn], rate_bp: int) -> tuple[int, int, int]:
    """(net, taxable, tax): tax half-up on the standard-rated total, in integer cents."""
    net = sum(ln.qty * ln.unit_cost_cents for ln in lines)
    sr = sum(ln.qty * ln.unit_cost_cents for ln in lines if ln.tax_code == "SR")
    zr = sum(ln.qty * ln.unit_cost_cents for ln in lines if ln.tax_code == "ZR")
    tax = (2 * sr * rate_bp + 10_000) // 20_000
    return net, sr + zr, tax


async def receive(
    session: AsyncSession,
    *,
    outlet: str,
    supplier_id: int,
    lines: Sequence[LineIn],
    actor: str,
    tz_day: date,
    po_id: int | None = None,
    po_lines: dict[int, int] | None = None,
    supplier_ref: str | None = None,
    ip: str | None = None,
) -> uuid.UUID:
    """Receive goods at ``outlet``: without an order (``lines``), or against ``po_id``
    (``po_lines``: line no -> quantity received now; cost and tax code come from the
    order). Receiving more than an order line still awaits is refused."""
    if po_id is not None:
        po = await _locked_po(session, po_id)
        if po.status not in ("ordered", "partly_received"):
            raise PurchasingError(
                f"PO {po_id} is {_words(po.status)}; goods are received against an "
                "ordered purchase order"
            )
        outlet, supplier_id = po.outlet_code, po.supplier_id
        order = {
            ln.line_no: ln
            for ln in (
                await session.execute(
                    select(m.PurchaseOrderLine).where(m.PurchaseOrderLine.po_id == po_id)
                )
            ).scalars()
        }
        lines = []
        for no, qty in sorted((po_lines or {}).items()):
            ln = order.get(no)
            if ln is None:
                raise PurchasingError(f"PO {po_id} has no line {no}")
            if qty > ln.qty - ln.received_qty:
                raise PurchasingError(
                    f"line {no} of PO {po_id} awaits {ln.qty - ln.received_qty}; "
                    f"{qty} cannot be received against it"
                )
            if qty:
                ln.received_qty += qty
                lines.append(LineIn(ln.product_id, qty, ln.unit_cost_cents, ln.tax_code))
        if not lines:
            raise PurchasingError("enter the quantity received on at least one line")
        done = all(ln.received_qty >= ln.qty for ln in order.values())
        po.status = "received" if done else "partly_received"
    supplier = await _supplier(session, supplier_id)
    await inventory.check_outlets(session, outlet)
    if not lines:
        raise PurchasingError("enter at least one line received")
    supplier_ref = (supplier_ref or "").strip() or None
    if supplier_ref is not None:
        await _refuse_received_twice(session, supplier, supplier_ref)
    rate = await rate_on(session, tz_day)
    net, taxable, tax = purchase_tax(lines, rate)
    receipt_id, now = uuid.uuid4(), _now()
    session.add(
        m.GoodsReceipt(
            receipt_id=receipt_id, po_id=po_id, supplier_id=supplier.supplier_id,
            outlet_code=outlet, supplier_ref=supplier_ref, received_at=now, received_by=actor,
            net_cents=net, taxable_cents=taxable, tax_cents=tax, gst_rate_bp=rate,
        )
    )  # fmt: skip
    await session.flush()
    await inventory.write_movements(
        session,
        [
            {
                "kind": "receipt", "reference": receipt_id, "line_no": i, "outlet_code": outlet,
                "product_id": ln.product_id, "qty": ln.qty, "unit_cost_cents": ln.unit_cost_cents,
                "occurred_at": now, "actor": actor,
                "note": f"PO {po_id}" if po_id is not None else supplier.name,
            }
            for i, ln in enumerate(lines, start=1)
        ],
    )  # fmt: skip
    await audit.record(
        session=session, username=actor, action="stock.receive",
        target=f"{outlet} {receipt_id}" + (f" PO {po_id}" if po_id is not None else ""),
        detail=f"{supplier.name}: {len(lines)} line(s), net {net}, GST {tax} cents", ip=ip,
    )  # fmt: skip
    return receipt_id


async def _refuse_received_twice(
    session: AsyncSession, supplier: m.Supplier, supplier_ref: str
) -> None:
    """A supplier's delivery order or invoice is received once: a second receipt of it (a
    form sent again, the same paper keyed twice) would count the goods and claim the
    input GST twice."""
    earlier = (
        await session.execute(
            select(m.GoodsReceipt.received_at, m.GoodsReceipt.received_by)
            .where(
                m.GoodsReceipt.supplier_id == supplier.supplier_id,
                func.lower(m.GoodsReceipt.supplier_ref) == supplier_ref.lower(),
            )
            .limit(1)
        )
    ).first()
    if earlier is not None:
        raise PurchasingError(
            f"{supplier.name}'s {supplier_ref!r} was already received on "
            f"{earlier.received_at:%Y-%m-%d} by {earlier.received_by}: receiving it again "
            "would count the goods twice (give the supplier's own reference as it appears)"
        )


async def list_receipts(
    session: AsyncSession, *, outlets: Sequence[str] | None, po_id: int | None = None
) -> list[ReceiptView]:
    stmt = (
        select(m.GoodsReceipt, m.Supplier.name)
        .join(m.Supplier, m.Supplier.supplier_id == m.GoodsReceipt.supplier_id)
        .order_by(m.GoodsReceipt.received_at.desc())
        .limit(200)
    )
    if outlets is not None:
        stmt = stmt.where(m.GoodsReceipt.outlet_code.in_(list(outlets)))
    if po_id is not None:
        stmt = stmt.where(m.GoodsReceipt.po_id == po_id)
    return [
        ReceiptView(
            receipt_id=g.receipt_id, po_id=g.po_id, supplier=name, outlet=g.outlet_code,
            supplier_ref=g.supplier_ref, received_at=g.received_at, received_by=g.received_by,
            net_cents=g.net_cents, taxable_cents=g.taxable_cents, tax_cents=g.tax_cents,
            gst_rate_bp=g.gst_rate_bp,
        )
        for g, name in await session.execute(stmt)
    ]  # fmt: skip


def _now() -> datetime:
    return datetime.now(UTC)


def _words(status: str) -> str:
    return status.replace("_", " ")
