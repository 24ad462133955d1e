"""HQ's central store, one schema for SQLite and PostgreSQL.

Four groups of tables:

* **Identity**: outlets, terminals (token hash, revocation, contiguous mark), admins.
* **Facts from tills**: events (every event HQ holds, unique ``event_id`` and unique
  ``(terminal_id, terminal_seq)``), quarantine, sales/sale_lines/payments (refunds are
  negative facts), loyalty_entries, shifts, approvals. Facts carry snapshots (sku, name,
  price, tax code) and never a foreign key to products or customers: a sale is never
  refused because HQ does not know what was sold or to whom. Beside them, the report
  rollups (sales_hourly, product_hourly): sums of the sales facts kept by ingest in the
  same transaction (:mod:`hq.rollups`).
* **Master data flowing down**: products, customers, cashiers, tenders, settings. Each row
  carries ``change_seq``, stamped from the single ``counters`` row named ``change_seq``
  whenever the row changes; the change feed pages by it.
* **Back office**: admin roles and outlets, browser sessions, log-in throttling, the admin
  audit trail, quarantine dismissals.
* **Stock and purchasing**: the stock ledger (``stock_movements``: an outlet's on-hand is
  the sum of its movements, never a stored number), low-stock thresholds, suppliers,
  purchase orders and their lines, goods receipts.

Money is integer cents (BigInteger for sums that may grow), never float. Relationships are
not declared at all: HQ code reads with explicit Core/ORM queries.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    false,
    true,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on both dialects.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are stored as UTC
    and tagged UTC again when read. A naive value is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(AsyncAttrs, DeclarativeBase):
    pass


# ------------------------------------------------------------------------------ identity


class Outlet(Base):
    __tablename__ = "outlets"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    gst_reg_no: Mapped[str | None] = mapped_column(String(32))
    """The GST registration of the legal entity that runs this outlet."""
    opening_hours: Mapped[str | None] = mapped_column(String(200))


class Terminal(Base):
    __tablename__ = "terminals"

    terminal_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    """``OUTLET-TERMINAL``, e.g. ``DEMO-T01``; the prefix of its receipt numbers."""
    outlet_code: Mapped[str] = mapped_column(ForeignKey("outlets.code"))
    terminal_code: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """sha256 hex of the bearer token; the token itself is never stored."""
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    enrolled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    contiguous_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    """Highest N such that HQ holds every event 1..N of this terminal."""
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reported_pending: Mapped[int | None] = mapped_column(Integer)
    """Events the till said were still waiting after its last push (None: not said)."""
    app_version: Mapped[str | None] = mapped_column(String(40))
    """The till's Kedai version, from its last push (``User-Agent: kedai-till/X``)."""


class Admin(Base):
    __tablename__ = "admins"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    """argon2id; admins use real passwords, unlike 4-digit cashier PINs."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    """Set when an owner deactivated this admin: no log-in, session or API token opens
    anything for them until an owner reactivates them."""


class Counter(Base):
    """Named counters; ``change_seq`` is the change feed's global sequence.

    A row updated inside the writing transaction (not a PostgreSQL SEQUENCE) because its
    row lock makes change_seq values commit in order: a till that has read seq N can
    never later miss a smaller seq committed after it looked.
    """

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# --------------------------------------------------------------------------- till facts


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("terminal_id", "terminal_seq"),)

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(40))
    terminal_seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(40))
    schema_version: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    """The till's clock: stored, never trusted for order."""
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False)
    clock_off: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """``occurred_at`` was far from HQ's clock (:func:`hq.checks.clock_is_off`): the
    event's facts are dated by ``received_at`` instead."""


class Quarantine(Base):
    __tablename__ = "quarantine"

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(40), index=True)
    terminal_seq: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    """The envelope as received (JSON), so it can be repaired and replayed."""
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Sale(Base):
    """A sale (``kind='sale'``) or a refund (``kind='refund'``, negative amounts)."""

    __tablename__ = "sales"

    sale_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    terminal_id: Mapped[str] = mapped_column(String(40), index=True)
    receipt_no: Mapped[str] = mapped_column(String(40), index=True)
    original_sale_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    cashier_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    approved_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    shift_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    subtotal_cents: Mapped[int] = mapped_column(BigInteger)
    discount_cents: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    tax_cents: Mapped[int] = mapped_column(BigInteger)
    gst_rate_bp: Mapped[int | None] = mapped_column(Integer)
    rounding_cents: Mapped[int] = mapped_column(BigInteger)
    change_cents: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SaleLine(Base):
    __tablename__ = "sale_lines"

    sale_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    sku: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    qty: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    discount_cents: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    tax_code: Mapped[str] = mapped_column(String(2))
    list_price_cents: Mapped[int | None] = mapped_column(BigInteger)
    """The catalog price when the cashier overrode it (``unit_price_cents`` is the new one)."""
    price_override_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    """The manager who approved the override."""
    age_confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The cashier confirmed the customer's age (an age-restricted product)."""


class SalePayment(Base):
    __tablename__ = "payments"

    payment_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    sale_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    tender: Mapped[str] = mapped_column(String(16))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    tendered_cents: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(100))


class LoyaltyEntry(Base):
    """The ledger: a customer's balance is the sum of these, whatever order they came in."""

    __tablename__ = "loyalty_entries"

    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    points: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    terminal_id: Mapped[str | None] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    """Indexed: the loyalty report filters entries by it."""
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Shift(Base):
    __tablename__ = "shifts"

    shift_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(40), index=True)
    cashier_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    opening_float_cents: Mapped[int] = mapped_column(BigInteger)
    expected_cash_cents: Mapped[int] = mapped_column(BigInteger)
    counted_cash_cents: Mapped[int] = mapped_column(BigInteger)
    sales_count: Mapped[int] = mapped_column(Integer)
    sales_total_cents: Mapped[int] = mapped_column(BigInteger)


class Approval(Base):
    """A manager approval granted at a till, or a refused attempt (a wrong manager PIN)."""

    __tablename__ = "approvals"

    approval_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    """The approval's id, or a refused attempt's id."""
    terminal_id: Mapped[str] = mapped_column(String(40), index=True)
    action: Mapped[str] = mapped_column(String(16))
    manager_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    """None for a refused attempt (a wrong PIN names nobody)."""
    cashier_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    sale_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    note: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(8), default="granted")
    """``granted`` or ``refused``."""
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)


class Cancel(Base):
    """A sale cancelled at a till with a manager's approval (nothing sold, on record)."""

    __tablename__ = "cancels"

    cancel_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(40), index=True)
    cashier_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    approved_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    approval_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    shift_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    line_count: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ZReportRow(Base):
    """A shift's Z report as the till computed it; HQ reconciles it against its facts."""

    __tablename__ = "z_reports"

    shift_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(40), index=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    gross_sales_cents: Mapped[int] = mapped_column(BigInteger)
    refunds_cents: Mapped[int] = mapped_column(BigInteger)
    net_sales_cents: Mapped[int] = mapped_column(BigInteger)
    sales_count: Mapped[int] = mapped_column(Integer)
    refunds_count: Mapped[int] = mapped_column(Integer)
    cancels_count: Mapped[int] = mapped_column(Integer)
    expected_cash_cents: Mapped[int] = mapped_column(BigInteger)
    counted_cash_cents: Mapped[int] = mapped_column(BigInteger)
    variance_cents: Mapped[int] = mapped_column(BigInteger)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The whole :class:`sync.protocol.ZReport` (tenders, GST by code, cash movements)."""


# ----------------------------------------------------------------------------- rollups


class SalesHourly(Base):
    """Sales facts summed per UTC hour, terminal, cashier and the till's GST rate.

    Kept by ingest in the same transaction as the facts (:mod:`hq.rollups`), moved only by
    additive upserts of newly inserted facts. Keyed by the UTC hour rather than a local day
    so that any whole-hour time zone reads local days and hours from it exactly. Every key
    names one terminal, and one terminal's pushes run one after another, so two tills
    never upsert the same row. ``gst_rate_bp`` is -1 for refunds.
    """

    __tablename__ = "sales_hourly"
    __table_args__ = {"sqlite_with_rowid": False}
    """Stored in key order on SQLite, so a period's rows are read in one range scan."""

    hour: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    cashier_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    gst_rate_bp: Mapped[int] = mapped_column(Integer, primary_key=True)
    sales: Mapped[int] = mapped_column(BigInteger)
    gross_cents: Mapped[int] = mapped_column(BigInteger)
    """Completed sales' totals."""
    refunds: Mapped[int] = mapped_column(BigInteger)
    refunded_cents: Mapped[int] = mapped_column(BigInteger)
    """Refunds' totals, negative as stored in ``sales``."""
    discount_cents: Mapped[int] = mapped_column(BigInteger)
    tax_cents: Mapped[int] = mapped_column(BigInteger)
    sr_cents: Mapped[int] = mapped_column(BigInteger)
    """Line totals by tax code (standard, zero-rated, exempt), refunds negative."""
    zr_cents: Mapped[int] = mapped_column(BigInteger)
    es_cents: Mapped[int] = mapped_column(BigInteger)
    off_rate_sales: Mapped[int] = mapped_column(BigInteger)
    """Sales whose GST is not the half-up share at their own ``gst_rate_bp`` of their
    standard-rated lines: the GST check reads those from the facts."""


class ProductHourly(Base):
    """Sale lines summed per UTC hour, terminal, sku and name (for top products).

    The name is part of the key (a sku's name rarely changes) so that a report's
    ``max(name)`` is the database's own, in its own collation.
    """

    __tablename__ = "product_hourly"
    __table_args__ = {"sqlite_with_rowid": False}

    hour: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    qty: Mapped[int] = mapped_column(BigInteger)
    net_cents: Mapped[int] = mapped_column(BigInteger)
    sales: Mapped[int] = mapped_column(BigInteger)
    """Sales and refunds (receipts) with this sku in the hour."""


# -------------------------------------------------------------------------- master data


class Product(Base):
    __tablename__ = "products"

    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    barcode: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    tax_code: Mapped[str] = mapped_column(String(2))
    cdc_eligible: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    age_restricted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Alcohol, tobacco: sent to tills, which ask for the customer's age."""
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.category_id"), index=True, default=None
    )
    """HQ's reporting group; not sent to tills, so setting it costs them nothing."""


class Category(Base):
    """A product category for head office's reports (tills never see it).

    Names are unique whatever their case: ``name_key`` is the casefolded name, so
    "Drinks" and "DRINKS" cannot both exist, on SQLite and PostgreSQL alike. A category is
    deactivated rather than deleted: products keep it, new ones are not offered it."""

    __tablename__ = "categories"

    category_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class ProductPrice(Base):
    """A scheduled price: chain-wide (``outlet_code`` None) or one outlet's override, in
    effect from ``effective_from``. Append-only; an outlet's override wins over the chain
    price while one is in effect. ``products.price_cents`` is the price before any row."""

    __tablename__ = "product_prices"

    price_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.product_id"), index=True)
    outlet_code: Mapped[str | None] = mapped_column(ForeignKey("outlets.code"))
    effective_from: Mapped[datetime] = mapped_column(UtcDateTime)
    price_cents: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Customer(Base):
    __tablename__ = "customers"

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    """Kept at HQ only: never sent to a till (nor is ``email``)."""
    loyalty_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    """Sum of this customer's ledger entries, moved only by atomic increments."""
    placeholder: Mapped[bool] = mapped_column(Boolean, default=False)
    """Made because points arrived before the customer's ``customer.created`` event."""
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    merged_into: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    """Set when HQ merged this duplicate into another member: its balance and sales moved
    there, it is hidden from search, and a till's later events naming it land there."""


class Cashier(Base):
    __tablename__ = "cashiers"

    cashier_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    pin_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    outlet_code: Mapped[str | None] = mapped_column(ForeignKey("outlets.code"), index=True)
    """The outlet whose tills this person may log in at; None: every outlet's tills."""


class FeedRemoval(Base):
    """A row that left an outlet's scope (a cashier reassigned elsewhere): the tills of
    ``outlet_code`` (None: of every outlet but the row's current one) receive a removal at
    ``change_seq``. Append-only; a later change of the row has a higher seq and wins."""

    __tablename__ = "feed_removals"

    removal_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    outlet_code: Mapped[str | None] = mapped_column(String(16))
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)


class Tender(Base):
    __tablename__ = "tenders"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean)
    sort_order: Mapped[int] = mapped_column(Integer)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)


class OutletTenderRefused(Base):
    """An outlet that does not take a tender the chain takes (no row: it takes it). The
    outlet's tills receive the tender as inactive and refuse it at payment."""

    __tablename__ = "outlet_tenders_refused"

    outlet_code: Mapped[str] = mapped_column(ForeignKey("outlets.code"), primary_key=True)
    tender_code: Mapped[str] = mapped_column(ForeignKey("tenders.code"), primary_key=True)


class StoreSettings(Base):
    """A single row (``id = 1``) holding :class:`sync.protocol.SettingsRecord` fields."""

    __tablename__ = "settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text)
    gst_reg_no: Mapped[str] = mapped_column(String(32))
    gst_rates: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """``[{"effective_from": "2024-01-01", "rate_bp": 900}, ...]``"""
    loyalty_cents_per_point_earned: Mapped[int] = mapped_column(Integer)
    loyalty_point_value_cents: Mapped[int] = mapped_column(Integer)
    approval_limits: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """:class:`sync.protocol.ApprovalLimits` (None: the defaults)."""
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)


# --------------------------------------------------------------------------- back office


ADMIN_ROLES = ("owner", "manager", "accountant")
"""owner: everything; manager: their outlets' figures; accountant: reports, read-only."""


class AdminRole(Base):
    """An admin's role. An admin without a row is an owner (``create-admin``'s default)."""

    __tablename__ = "admin_roles"

    username: Mapped[str] = mapped_column(
        ForeignKey("admins.username", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16))


class AdminOutlet(Base):
    """The outlets an outlet manager may see (owners and accountants see every outlet)."""

    __tablename__ = "admin_outlets"

    username: Mapped[str] = mapped_column(
        ForeignKey("admins.username", ondelete="CASCADE"), primary_key=True
    )
    outlet_code: Mapped[str] = mapped_column(ForeignKey("outlets.code"), primary_key=True)


class AdminSession(Base):
    """A signed-in browser. The cookie holds a random token; only its sha256 is kept, so a
    copy of the database opens no session. Rows live in the database (not in a worker's
    memory) so every worker on every host sees the same sessions and a logout is at once
    effective everywhere."""

    __tablename__ = "admin_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(
        ForeignKey("admins.username", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    """Sent back in every state-changing form or ``X-CSRF-Token`` header."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AdminApiToken(Base):
    """An admin's API token for scripts and BI tools reading ``/v1/reports`` (GET only).

    Shown once when made; only its sha256 is kept, as for sessions and terminal tokens.
    It acts with its admin's role and outlets as they are at each request. Revoked rows
    stay, so the back office can still say which token was used until when."""

    __tablename__ = "admin_api_tokens"

    token_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(
        ForeignKey("admins.username", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LoginThrottle(Base):
    """Failed log-ins per key (``user:NAME`` or ``ip:ADDRESS``): slowed, then locked."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_allowed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    """No password is checked for this key before this time (slowed, or locked)."""


class AdminAudit(Base):
    """Every admin action: log-ins (failed too), log-outs, password changes, exports,
    quarantine decisions. Append-only."""

    __tablename__ = "admin_audit"

    audit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    """Who acted (for a failed log-in: the name typed)."""
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))


class QuarantineDismissal(Base):
    """An owner's decision that a quarantined event needs no repair (kept, not deleted)."""

    __tablename__ = "quarantine_dismissals"

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("quarantine.event_id", ondelete="CASCADE"), primary_key=True
    )
    dismissed_by: Mapped[str] = mapped_column(String(64))
    dismissed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    note: Mapped[str] = mapped_column(Text)


# ------------------------------------------------------------------ stock and purchasing


STOCK_KINDS = ("sale", "refund", "receipt", "transfer_out", "transfer_in", "adjustment")
"""What moved stock; a movement's ``qty`` is signed (a sale takes away, a receipt adds)."""


class StockMovement(Base):
    """The stock ledger: one row per product per document line, append-only.

    Keyed by what caused it (``kind``, ``reference``, ``line_no``): a sale's line (sale id
    and line no), a refund's, a goods receipt's, one side of a transfer, a stock count's.
    Writing the same document twice therefore adds nothing (``ON CONFLICT DO NOTHING``).
    ``product_id`` has no foreign key: a sale may name a product HQ does not know yet.

    Two indexes only, the key and (outlet, product) for on-hand: every sale line adds a
    row here at ingest, and each index is one more b-tree written per row.
    """

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_outlet_product", "outlet_code", "product_id"),)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    reference: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    outlet_code: Mapped[str] = mapped_column(ForeignKey("outlets.code"))
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    qty: Mapped[int] = mapped_column(BigInteger)
    unit_cost_cents: Mapped[int | None] = mapped_column(BigInteger)
    """Excluding GST, where known (receipts; transfers carry the latest known cost)."""
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    """Who: the admin's username, or the terminal of a sale or refund."""
    note: Mapped[str | None] = mapped_column(Text)


class StockThreshold(Base):
    """Below ``min_qty`` on hand, a product is listed as low stock for that outlet."""

    __tablename__ = "stock_thresholds"

    outlet_code: Mapped[str] = mapped_column(ForeignKey("outlets.code"), primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.product_id"), primary_key=True
    )
    min_qty: Mapped[int] = mapped_column(Integer)


class Supplier(Base):
    __tablename__ = "suppliers"

    supplier_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    gst_reg_no: Mapped[str | None] = mapped_column(String(32))
    contact: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


PO_STATUSES = ("draft", "ordered", "partly_received", "received", "cancelled")


class PurchaseOrder(Base):
    __tablename__ = "purchase_orders"

    po_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.supplier_id"), index=True)
    outlet_code: Mapped[str] = mapped_column(ForeignKey("outlets.code"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_lines"

    po_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_orders.po_id", ondelete="CASCADE"), primary_key=True
    )
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.product_id"))
    qty: Mapped[int] = mapped_column(Integer)
    unit_cost_cents: Mapped[int] = mapped_column(BigInteger)
    """Excluding GST."""
    tax_code: Mapped[str] = mapped_column(String(2))
    received_qty: Mapped[int] = mapped_column(Integer, default=0)


class GoodsReceipt(Base):
    """Goods received at an outlet, against a purchase order or not. Its lines are its
    ``receipt`` stock movements (``reference`` = ``receipt_id``); the GST on the purchase
    is kept here, for the GST F5's boxes 5 and 7."""

    __tablename__ = "goods_receipts"

    receipt_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    po_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_orders.po_id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.supplier_id"))
    outlet_code: Mapped[str] = mapped_column(ForeignKey("outlets.code"))
    supplier_ref: Mapped[str | None] = mapped_column(String(64))
    """The supplier's invoice or delivery order number."""
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    received_by: Mapped[str] = mapped_column(String(64))
    net_cents: Mapped[int] = mapped_column(BigInteger)
    """Every line's value excluding GST."""
    taxable_cents: Mapped[int] = mapped_column(BigInteger)
    """Standard- and zero-rated lines' value excluding GST (F5 box 5)."""
    tax_cents: Mapped[int] = mapped_column(BigInteger)
    """GST on the standard-rated lines, half-up on the receipt (F5 box 7)."""
    gst_rate_bp: Mapped[int] = mapped_column(Integer)


__all__ = [
    "ADMIN_ROLES",
    "Admin",
    "AdminApiToken",
    "AdminAudit",
    "AdminOutlet",
    "AdminRole",
    "AdminSession",
    "Approval",
    "Base",
    "Cancel",
    "Cashier",
    "Category",
    "Counter",
    "Customer",
    "Event",
    "FeedRemoval",
    "GoodsReceipt",
    "LoginThrottle",
    "LoyaltyEntry",
    "Outlet",
    "PO_STATUSES",
    "Product",
    "ProductHourly",
    "ProductPrice",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "Quarantine",
    "QuarantineDismissal",
    "Sale",
    "SaleLine",
    "SalePayment",
    "STOCK_KINDS",
    "SalesHourly",
    "Shift",
    "StockMovement",
    "StockThreshold",
    "StoreSettings",
    "Supplier",
    "Tender",
    "Terminal",
    "UtcDateTime",
    "ZReportRow",
]
