"""The till's local store.

Money columns are integer cents, quantities integers; nothing here is a float.
Every relationship is ``lazy="raise"``: a service must load what it needs explicitly
inside its unit of work, so nothing can touch the database after the session closes.
Timestamps are stored as ISO-8601 UTC text (:class:`UtcDateTime`) so that they sort,
read back timezone-aware and look the same in the ``sqlite3`` shell.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    Uuid,
    false,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def db_time(value: datetime) -> str:
    """How a timestamp is stored: ISO-8601 in UTC with microseconds."""
    if value.tzinfo is None:
        raise ValueError("naive datetime; use datetime.now(UTC)")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def db_uuid(value: uuid.UUID) -> str:
    """How SQLAlchemy's ``Uuid`` stores a UUID on SQLite: 32 hex digits, no dashes."""
    return value.hex


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes stored as ISO-8601 text; naive values are refused."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        return None if value is None else db_time(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)


class Base(AsyncAttrs, DeclarativeBase):
    pass


def table_of(model: type[Base]) -> Table:
    """A mapped class's Table, typed as one (for Core bulk statements on hot paths)."""
    return cast(Table, model.__table__)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    barcode: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    search_name: Mapped[str] = mapped_column(String(200), index=True)
    """Lower-cased name for prefix/substring search at the till."""
    price_cents: Mapped[int] = mapped_column(Integer, CheckConstraint("price_cents >= 0"))
    tax_code: Mapped[str] = mapped_column(
        String(2), CheckConstraint("tax_code IN ('SR','ZR','ES')"), default="SR"
    )
    cdc_eligible: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    age_restricted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Alcohol, tobacco: the cashier confirms the customer's age before it is added."""


class ScheduledPrice(Base):
    """A future price step from HQ: from ``effective_at`` (unix seconds, UTC) the product
    sells at ``price_cents`` until the next step. Replaced whole with each product record."""

    __tablename__ = "price_schedule"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"), primary_key=True)
    effective_at: Mapped[int] = mapped_column(Integer, primary_key=True)
    price_cents: Mapped[int] = mapped_column(Integer, CheckConstraint("price_cents >= 0"))


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    search_name: Mapped[str] = mapped_column(String(200), index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    hq_balance: Mapped[int] = mapped_column(Integer, default=0)
    """HQ's authoritative balance as last pulled (plus deltas HQ has acknowledged)."""


class Cashier(Base):
    __tablename__ = "cashiers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(
        String(16), CheckConstraint("role IN ('cashier','manager')"), default="cashier"
    )
    pin_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    approval_failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Wrong manager PINs in a row: a counter apart from log-in's, so a locked approval
    never locks the cashiers out of the till."""
    approval_locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Tender(Base):
    __tablename__ = "tenders"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class StoreSettings(Base):
    """One row (id=1): who this till is and the rules it sells by."""

    __tablename__ = "store_settings"

    id: Mapped[int] = mapped_column(Integer, CheckConstraint("id = 1"), primary_key=True)
    outlet_code: Mapped[str] = mapped_column(String(16))
    terminal_code: Mapped[str] = mapped_column(String(16))
    store_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400), default="")
    gst_reg_no: Mapped[str] = mapped_column(String(32), default="")
    loyalty_cents_per_point_earned: Mapped[int] = mapped_column(Integer, default=100)
    loyalty_point_value_cents: Mapped[int] = mapped_column(Integer, default=1)
    approval_limits: Mapped[str] = mapped_column(Text, default="{}")
    """HQ's :class:`sync.protocol.ApprovalLimits` as JSON (``{}``: the defaults)."""


class GstRateRow(Base):
    __tablename__ = "gst_rates"

    effective_from: Mapped[date] = mapped_column(Date, primary_key=True)
    rate_bp: Mapped[int] = mapped_column(Integer, CheckConstraint("rate_bp BETWEEN 0 AND 10000"))


class Shift(Base):
    __tablename__ = "shifts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    cashier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cashiers.id"))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    opening_float_cents: Mapped[int] = mapped_column(Integer, default=0)
    counted_cash_cents: Mapped[int | None] = mapped_column(Integer)
    z_report: Mapped[str | None] = mapped_column(Text)
    """The Z report (JSON, as sent to HQ) once the shift is closed, for reprints."""


class Sale(Base):
    __tablename__ = "sales"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(48), unique=True)
    receipt_seq: Mapped[int] = mapped_column(Integer, unique=True)
    """The NNNNNN of the receipt number; a trigger keeps it gapless and checks that
    ``receipt_no`` prints it (migration 0002)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    cashier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cashiers.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    shift_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("shifts.id"))
    subtotal_cents: Mapped[int] = mapped_column(Integer)
    discount_cents: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(Integer)
    tax_cents: Mapped[int] = mapped_column(Integer)
    gst_rate_bp: Mapped[int] = mapped_column(Integer)
    rounding_cents: Mapped[int] = mapped_column(Integer)
    change_cents: Mapped[int] = mapped_column(Integer)
    points_earned: Mapped[int] = mapped_column(Integer, default=0)
    points_redeemed: Mapped[int] = mapped_column(Integer, default=0)
    event_seq: Mapped[int] = mapped_column(ForeignKey("outbox.seq"), index=True)

    lines: Mapped[list[SaleLineRow]] = relationship(lazy="raise", order_by="SaleLineRow.line_no")
    payments: Mapped[list[PaymentRow]] = relationship(lazy="raise")


class SaleLineRow(Base):
    __tablename__ = "sale_lines"

    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("products.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    qty: Mapped[int] = mapped_column(Integer, CheckConstraint("qty > 0"))
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    discount_cents: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(Integer)
    tax_code: Mapped[str] = mapped_column(String(2))
    list_price_cents: Mapped[int | None] = mapped_column(Integer)
    """The catalog price when the cashier overrode it (``unit_price_cents`` is the new one)."""
    price_override_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    """The manager who approved the override."""
    age_confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The cashier confirmed the customer's age for this (age-restricted) line."""


class PaymentRow(Base):
    __tablename__ = "payments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales.id"), index=True)
    tender: Mapped[str] = mapped_column(String(16))
    amount_cents: Mapped[int] = mapped_column(Integer)
    tendered_cents: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(64))


class LoyaltyEntry(Base):
    """A signed points delta made at this till; never an absolute balance."""

    __tablename__ = "loyalty_ledger"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    sale_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sales.id"))
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    event_seq: Mapped[int] = mapped_column(ForeignKey("outbox.seq"), index=True)
    counted_at_hq: Mapped[bool] = mapped_column(Boolean, default=False)
    """Set by the agent when HQ accepts the event; then ``hq_balance`` includes it."""

    __table_args__ = (Index("ix_loyalty_uncounted", "customer_id", "counted_at_hq"),)


class Stock(Base):
    __tablename__ = "stock"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)


class Counter(Base):
    """Gapless counters: ``receipt`` and ``event`` hold the last number used.

    Triggers (migrations 0001, 0002) refuse an outbox ``seq`` or a sale ``receipt_seq``
    that is not exactly the counter plus one (and a ``receipt_no`` that does not print
    that ``receipt_seq``), and move the counter on insert: the database itself keeps both
    sequences gapless, and the checkout needs no separate counter UPDATE. No trigger
    writes a sale's rows: :mod:`terminal.db.projection` does, from the event.
    """

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class OutboxEvent(Base):
    """An immutable event for HQ; ``seq`` is the gapless ``terminal_seq``."""

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    type: Mapped[str] = mapped_column(String(32))
    schema_version: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[str] = mapped_column(Text)
    """The event payload as JSON text, exactly as it will be sent."""
    status: Mapped[str] = mapped_column(
        String(16),
        CheckConstraint("status IN ('pending','sent','rejected')"),
        default="pending",
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_status_seq", "status", "seq"),)


class SyncState(Base):
    """One row (id=1): where HQ is, who we are to it, and how sync is going."""

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(Integer, CheckConstraint("id = 1"), primary_key=True)
    hq_url: Mapped[str | None] = mapped_column(String(400))
    token: Mapped[str | None] = mapped_column(String(200))
    terminal_id: Mapped[str | None] = mapped_column(String(40))
    change_cursor: Mapped[int] = mapped_column(Integer, default=0)
    acked_seq: Mapped[int] = mapped_column(Integer, default=0)
    """HQ's contiguous mark as last reported to us."""
    last_push_ok_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_pull_ok_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ParkedSale(Base):
    __tablename__ = "parked_sales"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    cashier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cashiers.id"))
    parked_at: Mapped[datetime] = mapped_column(UtcDateTime)
    label: Mapped[str] = mapped_column(String(100))
    cart_json: Mapped[str] = mapped_column(Text)


class ApprovalRow(Base):
    """A manager's approval as granted here (the outbox carries it to HQ as well).

    Services that write verify the approvals a request carries against these rows, so
    an approval cannot be claimed without a manager's PIN having been checked.
    """

    __tablename__ = "approvals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    manager_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cashiers.id"))
    cashier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cashiers.id"))
    sale_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Refund(Base):
    """A refund (credit note): of a sale made at this till, of one looked up at HQ (made
    at another till), or a manual return (no sale: ``original_sale_id`` None)."""

    __tablename__ = "refunds"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    original_sale_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    """Not a foreign key: the sale may be another till's (migration 0006)."""
    original_receipt_no: Mapped[str | None] = mapped_column(String(40))
    """The refunded sale's number when it is not this till's (typed, for a manual return)."""
    credit_note_no: Mapped[str] = mapped_column(String(48), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    cashier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cashiers.id"))
    shift_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("shifts.id"))
    approved_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    total_cents: Mapped[int] = mapped_column(Integer)
    tax_cents: Mapped[int] = mapped_column(Integer)
    rounding_cents: Mapped[int] = mapped_column(Integer)
    to_cash: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    points_reversed: Mapped[int] = mapped_column(Integer, default=0)
    """Earned points this refund took back (positive; the ledger holds its negative)."""
    event_seq: Mapped[int] = mapped_column(ForeignKey("outbox.seq"), index=True)


class RefundLine(Base):
    __tablename__ = "refund_lines"

    refund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refunds.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    """The original sale's line number."""
    qty: Mapped[int] = mapped_column(Integer, CheckConstraint("qty > 0"))
    discount_cents: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(Integer)
    tax_code: Mapped[str] = mapped_column(String(2))


class RefundPayment(Base):
    __tablename__ = "refund_payments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    refund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refunds.id"), index=True)
    tender: Mapped[str] = mapped_column(String(16))
    amount_cents: Mapped[int] = mapped_column(Integer)


class TillActivity(Base):
    """Cancels, voids, cash in/out and no-sale opens: what a shift's report counts."""

    __tablename__ = "till_activity"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(
        String(16), CheckConstraint("kind IN ('cancel','void','cash_in','cash_out','no_sale')")
    )
    shift_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("shifts.id"), index=True)
    cashier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cashiers.id"))
    approved_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    amount_cents: Mapped[int] = mapped_column(Integer, default=0)
    qty: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    event_seq: Mapped[int] = mapped_column(ForeignKey("outbox.seq"), index=True)
