"""Wire contract between the till and HQ (version 1).

Both ends import these models; HQ never imports ``terminal``. Every model forbids
unknown fields and uses strict types so that a till and an HQ of different builds fail
loudly instead of silently dropping data. Money is always integer cents; quantities are
integers. Timestamps are timezone-aware UTC.

An event travels as an :class:`EventEnvelope` whose ``payload`` is a plain JSON object:
HQ validates the envelope for the whole batch, then each payload on its own against
:data:`PAYLOAD_MODELS`, so one bad event is quarantined instead of failing the batch.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
"""The event schema version this build writes and understands."""

MAX_PUSH_EVENTS = 500
"""HQ refuses a push batch with more events than this (422)."""

TaxCode = Literal["SR", "ZR", "ES"]
"""Standard-rated (GST at the current rate), zero-rated, exempt."""

TenderKind = Literal["cash", "nets", "card", "paynow", "cdc", "voucher", "points"]
"""How a payment was made. Only ``cash`` gives change and rounds to 5 cents."""

WIRE_MAX_CENTS = 10**12
"""S$10 billion: far above any real amount, far below where JSON numbers or SQLite's
integers stop being exact (2**53, 2**63). A value beyond it is refused on the wire."""
MAX_QTY = 1_000_000

Cents = Annotated[int, Field(strict=True, ge=-WIRE_MAX_CENTS, le=WIRE_MAX_CENTS)]
NonNegCents = Annotated[int, Field(strict=True, ge=0, le=WIRE_MAX_CENTS)]
PositiveQty = Annotated[int, Field(strict=True, gt=0, le=MAX_QTY)]


class WireModel(BaseModel):
    """Base for every wire model: strict, closed, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --------------------------------------------------------------------------- events


class SaleLine(WireModel):
    """A line as sold: a snapshot, so HQ never needs to know the product."""

    line_no: Annotated[int, Field(strict=True, ge=1)]
    product_id: UUID | None
    sku: str
    name: str
    qty: PositiveQty
    unit_price_cents: NonNegCents
    discount_cents: NonNegCents
    """Line discount plus this line's share of any cart discount."""
    total_cents: NonNegCents
    """``qty * unit_price_cents - discount_cents`` (GST-inclusive)."""
    tax_code: TaxCode


class Payment(WireModel):
    payment_id: UUID
    tender: TenderKind
    amount_cents: NonNegCents
    """What this tender paid towards the sale (after cash rounding)."""
    tendered_cents: NonNegCents
    """What the customer handed over; only cash may exceed ``amount_cents``."""
    reference: str | None = None


class LoyaltyDelta(WireModel):
    """A signed change to a customer's points. HQ balance = sum of deltas."""

    entry_id: UUID
    customer_id: UUID
    points: Cents
    reason: Literal["earn", "redeem", "refund", "adjust"]


class SaleCompleted(WireModel):
    sale_id: UUID
    receipt_no: str
    cashier_id: UUID
    customer_id: UUID | None
    shift_id: UUID | None = None
    lines: Annotated[list[SaleLine], Field(min_length=1)]
    payments: Annotated[list[Payment], Field(min_length=1)]
    loyalty: list[LoyaltyDelta] = []
    subtotal_cents: Cents
    """Sum of ``qty * unit_price_cents`` before any discount."""
    discount_cents: Cents
    total_cents: Cents
    """What the goods cost after discounts, GST-inclusive, before cash rounding."""
    tax_cents: Cents
    """GST contained in ``total_cents``."""
    gst_rate_bp: Cents
    """The GST rate applied, in basis points (900 = 9%)."""
    rounding_cents: Cents
    """Cash rounding adjustment: collected = total + rounding."""
    change_cents: Cents


class SaleRefunded(WireModel):
    refund_id: UUID
    original_sale_id: UUID
    receipt_no: str
    cashier_id: UUID
    approved_by: UUID | None
    lines: Annotated[list[SaleLine], Field(min_length=1)]
    payments: Annotated[list[Payment], Field(min_length=1)]
    loyalty: list[LoyaltyDelta] = []
    total_cents: Cents
    """Amount returned to the customer (positive)."""
    tax_cents: Cents
    reason: str = ""


class CustomerCreated(WireModel):
    customer_id: UUID
    name: str
    phone: str | None
    email: str | None = None


class ShiftClosed(WireModel):
    shift_id: UUID
    cashier_id: UUID
    opened_at: datetime
    closed_at: datetime
    opening_float_cents: Cents
    expected_cash_cents: Cents
    counted_cash_cents: Cents
    sales_count: Cents
    sales_total_cents: Cents


class LoyaltyAdjusted(WireModel):
    delta: LoyaltyDelta
    approved_by: UUID | None = None
    note: str = ""


class ApprovalGranted(WireModel):
    approval_id: UUID
    action: Literal["refund", "void", "price_override", "discount", "no_sale"]
    manager_id: UUID
    cashier_id: UUID
    sale_id: UUID | None = None
    note: str = ""


EventType = Literal[
    "sale.completed",
    "sale.refunded",
    "customer.created",
    "shift.closed",
    "loyalty.adjusted",
    "approval.granted",
]

PAYLOAD_MODELS: dict[str, type[WireModel]] = {
    "sale.completed": SaleCompleted,
    "sale.refunded": SaleRefunded,
    "customer.created": CustomerCreated,
    "shift.closed": ShiftClosed,
    "loyalty.adjusted": LoyaltyAdjusted,
    "approval.granted": ApprovalGranted,
}


class EventEnvelope(BaseModel):
    """One immutable till event. ``payload`` is validated per type by HQ.

    ``type`` is a plain string (not the :data:`EventType` literal) so that an event of a
    type this HQ does not know is quarantined rather than failing its whole batch.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: UUID
    terminal_id: str
    terminal_seq: Annotated[int, Field(strict=True, ge=1)]
    occurred_at: datetime
    schema_version: Annotated[int, Field(strict=True)]
    type: str
    payload: dict[str, Any]


def parse_payload(envelope: EventEnvelope) -> WireModel:
    """Validate an envelope's payload; raise ``ValueError`` with a reason if it is bad.

    JSON mode is used because the payload came off the wire (UUIDs and datetimes are
    strings there); strictness still refuses floats for cents and unknown fields.
    """
    if envelope.schema_version != SCHEMA_VERSION:
        raise ValueError(f"unsupported schema_version {envelope.schema_version}")
    model = PAYLOAD_MODELS.get(envelope.type)
    if model is None:
        raise ValueError(f"unknown event type {envelope.type!r}")
    return model.model_validate_json(_dumps(envelope.payload))


def _dumps(obj: dict[str, Any]) -> str:
    import json

    return json.dumps(obj, separators=(",", ":"))


# ----------------------------------------------------------------------------- push


class PushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    terminal_id: str
    events: Annotated[list[EventEnvelope], Field(max_length=MAX_PUSH_EVENTS)]


class EventResult(WireModel):
    event_id: UUID
    status: Literal["accepted", "duplicate", "rejected"]
    reason: str | None = None


class PushResponse(WireModel):
    results: list[EventResult]
    contiguous_seq: int
    """Highest ``terminal_seq`` such that HQ holds every event 1..N of this terminal."""
    hq_time: datetime


class WhoAmI(WireModel):
    """What HQ knows about the terminal a token belongs to."""

    terminal_id: str
    outlet_code: str
    terminal_code: str
    contiguous_seq: int


# -------------------------------------------------------------------------- changes


class ProductRecord(WireModel):
    product_id: UUID
    sku: str
    barcode: str | None
    name: str
    price_cents: NonNegCents
    tax_code: TaxCode
    cdc_eligible: bool
    active: bool


class CustomerRecord(WireModel):
    customer_id: UUID
    name: str
    phone: str | None
    email: str | None
    loyalty_balance: Cents
    """Authoritative HQ balance: the sum of every delta HQ has accepted."""


class CashierRecord(WireModel):
    cashier_id: UUID
    name: str
    role: Literal["cashier", "manager"]
    pin_hash: str
    """A slow hash (``scrypt$...``); the PIN itself never leaves the enrolling host."""
    active: bool


class TenderRecord(WireModel):
    code: str
    name: str
    kind: TenderKind
    active: bool
    sort_order: Cents = 0


class GstRate(WireModel):
    effective_from: date
    rate_bp: Annotated[int, Field(strict=True, ge=0, le=10_000)]


class SettingsRecord(WireModel):
    store_name: str
    address: str
    gst_reg_no: str
    gst_rates: list[GstRate]
    loyalty_cents_per_point_earned: Annotated[int, Field(strict=True, gt=0)] = 100
    """Spend this many cents (after discounts) to earn one point; 100 = 1 point per S$1."""
    loyalty_point_value_cents: Annotated[int, Field(strict=True, gt=0)] = 1
    """What one point is worth when redeemed."""


class ProductChange(WireModel):
    seq: int
    kind: Literal["product"] = "product"
    data: ProductRecord


class CustomerChange(WireModel):
    seq: int
    kind: Literal["customer"] = "customer"
    data: CustomerRecord


class CashierChange(WireModel):
    seq: int
    kind: Literal["cashier"] = "cashier"
    data: CashierRecord


class TenderChange(WireModel):
    seq: int
    kind: Literal["tender"] = "tender"
    data: TenderRecord


class SettingsChange(WireModel):
    seq: int
    kind: Literal["settings"] = "settings"
    data: SettingsRecord


Change = Annotated[
    ProductChange | CustomerChange | CashierChange | TenderChange | SettingsChange,
    Field(discriminator="kind"),
]


class ChangePage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    changes: list[Change]
    next: int
    """The cursor to ask for next (the highest ``seq`` in this page, or ``since``)."""
    more: bool
    contiguous_seq: int | None = None
    """HQ's contiguous mark for the terminal asking (as in ``whoami``): a till with
    nothing to push still learns from its routine pull that HQ went back."""


# --------------------------------------------------------------------------- errors


class ErrorDetail(WireModel):
    code: str
    message: str


class ErrorBody(WireModel):
    error: ErrorDetail
