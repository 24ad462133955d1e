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
    shift_id: UUID | None = None
    credit_note_no: str | None = None
    """The credit note's own number (``OUTLET-TERMINAL-CNnnnnnn``); ``receipt_no`` is the sale's."""
    rounding_cents: Cents = 0
    """Cash rounding given back, mirroring the sale's: paid out = total + rounding."""
    to_cash: bool = False
    """Refunded in cash instead of the original tenders (needs a manager's approval)."""


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


ApprovalAction = Literal[
    "refund",
    "void",
    "price_override",
    "discount",
    "no_sale",
    "qty_decrease",
    "cancel",
    "refund_to_cash",
    "unlock",
]
"""What a manager's PIN can approve (the till's approval policy names each need)."""


class ApprovalGranted(WireModel):
    approval_id: UUID
    action: ApprovalAction
    manager_id: UUID
    cashier_id: UUID
    sale_id: UUID | None = None
    note: str = ""


class ApprovalRefused(WireModel):
    """A wrong manager PIN (or a locked-out attempt): audited like a granted approval."""

    attempt_id: UUID
    action: ApprovalAction
    cashier_id: UUID
    failed_attempts: Annotated[int, Field(strict=True, ge=0, le=1_000)]
    """Wrong manager PINs in a row at this till, this one included."""
    locked: bool = False
    """This attempt locked approvals (or they were locked already)."""
    note: str = ""


class SaleCancelled(WireModel):
    """A cart abandoned with a manager's approval: nothing was sold, but it is on record."""

    cancel_id: UUID
    cashier_id: UUID
    approved_by: UUID | None
    approval_id: UUID | None
    shift_id: UUID | None = None
    line_count: Annotated[int, Field(strict=True, ge=0, le=MAX_QTY)]
    total_cents: NonNegCents
    """What the cancelled cart would have cost."""
    reason: str = ""


class LineVoided(WireModel):
    """A line removed (or its quantity lowered) before payment, with its approval."""

    void_id: UUID
    cashier_id: UUID
    approved_by: UUID | None
    shift_id: UUID | None = None
    sku: str
    qty: PositiveQty
    amount_cents: NonNegCents


class CashMovement(WireModel):
    """Petty cash in or out of the drawer, or a no-sale open (amount 0), with a reason."""

    movement_id: UUID
    shift_id: UUID
    cashier_id: UUID
    kind: Literal["in", "out", "no_sale"]
    amount_cents: NonNegCents
    reason: str
    approved_by: UUID | None = None


class TenderTotal(WireModel):
    tender: TenderKind
    sales_cents: NonNegCents
    refunds_cents: NonNegCents


class TaxTotal(WireModel):
    tax_code: TaxCode
    net_sales_cents: Cents
    """GST-inclusive sales less refunds under this tax code."""
    tax_cents: Cents


class ZReport(WireModel):
    """``shift.z_report``: a closed shift's totals, so HQ can reconcile them with its facts.

    Sent in the same unit of work as the shift's ``shift.closed``."""

    shift_id: UUID
    cashier_id: UUID
    opened_at: datetime
    closed_at: datetime
    gross_sales_cents: Cents
    discounts_cents: Cents
    refunds_cents: Cents
    net_sales_cents: Cents
    sales_count: Cents
    refunds_count: Cents
    voids_count: Cents
    voids_cents: Cents
    cancels_count: Cents
    cancels_cents: Cents
    tax: list[TaxTotal] = []
    tenders: list[TenderTotal] = []
    rounding_cents: Cents
    opening_float_cents: Cents
    cash_in_cents: Cents
    cash_out_cents: Cents
    expected_cash_cents: Cents
    counted_cash_cents: Cents
    variance_cents: Cents
    first_receipt_no: str | None = None
    last_receipt_no: str | None = None
    parked_count: Cents = 0


EventType = Literal[
    "sale.completed",
    "sale.refunded",
    "customer.created",
    "shift.closed",
    "loyalty.adjusted",
    "approval.granted",
    "approval.refused",
    "sale.cancelled",
    "line.voided",
    "cash.movement",
    "shift.z_report",
]

PAYLOAD_MODELS: dict[str, type[WireModel]] = {
    "sale.completed": SaleCompleted,
    "sale.refunded": SaleRefunded,
    "customer.created": CustomerCreated,
    "shift.closed": ShiftClosed,
    "loyalty.adjusted": LoyaltyAdjusted,
    "approval.granted": ApprovalGranted,
    "approval.refused": ApprovalRefused,
    "sale.cancelled": SaleCancelled,
    "line.voided": LineVoided,
    "cash.movement": CashMovement,
    "shift.z_report": ZReport,
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


class ScheduledPrice(WireModel):
    """From ``effective_from`` on (until the next step) the product sells at this price."""

    effective_from: datetime
    price_cents: NonNegCents


class ProductRecord(WireModel):
    product_id: UUID
    sku: str
    barcode: str | None
    name: str
    price_cents: NonNegCents
    """The price in effect when HQ sent the record (for the asking till's outlet)."""
    tax_code: TaxCode
    cdc_eligible: bool
    active: bool
    prices: list[ScheduledPrice] = Field(default_factory=list)
    """The asking outlet's future price steps, in time order: the till sells at the last
    step that has begun (else at ``price_cents``), even when offline at that moment."""


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


BasisPoints = Annotated[int, Field(strict=True, ge=0, le=10_000)]


class ApprovalLimits(WireModel):
    """What a cashier may do alone; beyond these a manager approves. 10_000 bp = 100%."""

    line_discount_bp: BasisPoints = 2_000
    line_discount_cents: NonNegCents = 2_000
    sale_discount_bp: BasisPoints = 2_000
    sale_discount_cents: NonNegCents = 5_000
    refund_cents: NonNegCents = 0
    """A refund above this needs approval (0: every refund does)."""
    price_override: bool = True
    void: bool = True
    qty_decrease: bool = True
    no_sale: bool = True
    cancel: bool = True


class SettingsRecord(WireModel):
    store_name: str
    address: str
    gst_reg_no: str
    gst_rates: list[GstRate]
    loyalty_cents_per_point_earned: Annotated[int, Field(strict=True, gt=0)] = 100
    """Spend this many cents (after discounts) to earn one point; 100 = 1 point per S$1."""
    loyalty_point_value_cents: Annotated[int, Field(strict=True, gt=0)] = 1
    """What one point is worth when redeemed."""
    approval_limits: ApprovalLimits = Field(default_factory=lambda: ApprovalLimits())
    """When a cashier needs a manager's PIN (the till's approval policy reads these)."""


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


class CashierRemoval(WireModel):
    cashier_id: UUID


class CashierRemovedChange(WireModel):
    """The cashier no longer works at this till's outlet: the till must refuse their PIN
    (it keeps the row, which its past sales point at, without the PIN hash)."""

    seq: int
    kind: Literal["cashier_removed"] = "cashier_removed"
    data: CashierRemoval


Change = Annotated[
    ProductChange
    | CustomerChange
    | CashierChange
    | CashierRemovedChange
    | TenderChange
    | SettingsChange,
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
