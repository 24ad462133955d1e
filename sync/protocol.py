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

import math
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

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
integers stop being exact (2**53, 2**63). A value beyond it is refused on the wire.
Loyalty balances are held within the same bound (HQ refuses a delta that would leave it)."""
MAX_QTY = 1_000_000
"""Units of one line (the till caps a line at 9,999)."""
MAX_LINE_NO = 10_000
MAX_SEQ = 2**53
"""``terminal_seq`` and cursors: exact in every JSON parser, far inside a BIGINT."""
MAX_COUNT = 10**9
"""Counts (sales in a shift): inside a 32-bit INTEGER column."""
MAX_NESTING = 32
"""Deepest JSON nesting accepted inside a payload HQ keeps unparsed (unknown types)."""
MIN_YEAR, MAX_YEAR = 1970, 9998
"""Timestamps outside these years are refused: the edges of the calendar overflow when
an offset is applied. A till's clock that is merely wrong (a flat RTC battery says 1970)
is not refused here; HQ flags it and dates the facts by its own clock."""


def _integral(value: Any) -> Any:
    """JSON Schema's ``integer`` includes ``1.0``: accept an integral float as that int.

    Strings and booleans stay refused (strict), so schema and validator agree exactly.
    """
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return int(value)
    return value


def _utc_in_range(value: datetime) -> datetime:
    """Aware UTC within [MIN_YEAR, MAX_YEAR]; a naive timestamp is read as UTC."""
    try:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("timestamp is out of range") from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"timestamp must be within the years {MIN_YEAR}-{MAX_YEAR}")
    return value


_RFC3339_START = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _date_string(value: Any) -> Any:
    """A wire timestamp is an RFC 3339 string, never a number (``0`` is not a date-time).

    The field itself is lax (strict mode would refuse the string in Python mode), so
    this is what keeps numbers, and strings of digits, out.
    """
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339_START.match(value):
        raise ValueError("timestamp must be an RFC 3339 date-time string")
    return value


_NO_NUL = r"^[^\x00]*$"
"""No store can hold a NUL character in text."""


def _json_value(value: Any, depth: int = 0) -> None:
    if depth > MAX_NESTING:
        raise ValueError(f"nested deeper than {MAX_NESTING} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise ValueError("NUL in a key")
            _json_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _json_value(item, depth + 1)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if abs(value) > 2**63 - 1:
            raise ValueError("integer beyond 64 bits")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("non-finite number")
    elif isinstance(value, str):
        if "\x00" in value:
            raise ValueError("NUL in a string")


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    _json_value(value)
    return value


_Int = BeforeValidator(_integral)
Cents = Annotated[int, Field(strict=True, ge=-WIRE_MAX_CENTS, le=WIRE_MAX_CENTS)]
NonNegCents = Annotated[int, Field(strict=True, ge=0, le=WIRE_MAX_CENTS)]
PositiveQty = Annotated[int, Field(strict=True, ge=1, le=MAX_QTY)]
LineNo = Annotated[int, Field(strict=True, ge=1, le=MAX_LINE_NO)]
Count = Annotated[int, Field(strict=True, ge=0, le=MAX_COUNT)]
Int32 = Annotated[int, Field(strict=True, ge=-(2**31), le=2**31 - 1)]
RateBp = Annotated[int, Field(strict=True, ge=0, le=10_000)]
"""A GST rate in basis points (900 = 9%)."""
Ratio = Annotated[int, Field(strict=True, ge=1, le=MAX_COUNT)]
"""Payload integers are JSON integers without a fraction (strict: ``1.0`` is refused).
The envelope's integers, which the published request schema describes, also take an
integral ``1.0`` as JSON Schema's ``integer`` does (:data:`Seq`, :data:`SchemaVersion`)."""
Seq = Annotated[int, _Int, Field(strict=True, ge=1, le=MAX_SEQ)]
SchemaVersion = Annotated[int, _Int, Field(strict=True, ge=1, le=10_000)]
WireTime = Annotated[
    datetime, Field(strict=False), BeforeValidator(_date_string), AfterValidator(_utc_in_range)
]
"""A timestamp on the wire: an RFC 3339 string, read as aware UTC, in a sane range."""

Text16 = Annotated[str, StringConstraints(max_length=16)]
Text32 = Annotated[str, StringConstraints(max_length=32)]
Text40 = Annotated[str, StringConstraints(max_length=40)]
Text64 = Annotated[str, StringConstraints(max_length=64)]
Text100 = Annotated[str, StringConstraints(max_length=100)]
Text200 = Annotated[str, StringConstraints(max_length=200)]
Text400 = Annotated[str, StringConstraints(max_length=400)]
Text1000 = Annotated[str, StringConstraints(max_length=1000)]
"""Strings are bounded by the HQ column that stores them (names 200, skus 64...).

NUL, which no store can hold, is kept out of payloads where they are read: JSON can
only carry it escaped, so HQ reads any body containing ``\\u0000`` event by event,
where :func:`_bounded_json` refuses it (a pattern on every string would double the
cost of reading a batch)."""
Label40 = Annotated[str, StringConstraints(max_length=40, pattern=_NO_NUL)]
"""An envelope's own text (terminal id, event type): stored even when refused."""


class WireModel(BaseModel):
    """Base for every wire model: strict, closed, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --------------------------------------------------------------------------- events


class SaleLine(WireModel):
    """A line as sold: a snapshot, so HQ never needs to know the product."""

    line_no: LineNo
    product_id: UUID | None
    sku: Text64
    name: Text200
    qty: PositiveQty
    unit_price_cents: NonNegCents
    discount_cents: NonNegCents
    """Line discount plus this line's share of any cart discount."""
    total_cents: NonNegCents
    """``qty * unit_price_cents - discount_cents`` (GST-inclusive)."""
    tax_code: TaxCode
    list_price_cents: NonNegCents | None = None
    """The catalog price when the cashier overrode it (``unit_price_cents`` is the new
    one); None: sold at the catalog price. Optional, so older tills' lines still validate."""
    price_override_by: UUID | None = None
    """The manager who approved the price override."""
    age_confirmed: bool = False
    """The cashier confirmed the customer's age (an age-restricted product)."""


class Payment(WireModel):
    payment_id: UUID
    tender: TenderKind
    amount_cents: NonNegCents
    """What this tender paid towards the sale (after cash rounding)."""
    tendered_cents: NonNegCents
    """What the customer handed over; only cash may exceed ``amount_cents``."""
    reference: Text100 | None = None


class LoyaltyDelta(WireModel):
    """A signed change to a customer's points. HQ balance = sum of deltas."""

    entry_id: UUID
    customer_id: UUID
    points: Cents
    reason: Literal["earn", "redeem", "refund", "adjust"]


class SaleCompleted(WireModel):
    sale_id: UUID
    receipt_no: Text40
    cashier_id: UUID
    customer_id: UUID | None
    shift_id: UUID | None = None
    lines: Annotated[list[SaleLine], Field(min_length=1, max_length=MAX_LINE_NO)]
    payments: Annotated[list[Payment], Field(min_length=1, max_length=100)]
    loyalty: Annotated[list[LoyaltyDelta], Field(max_length=100)] = []
    subtotal_cents: Cents
    """Sum of ``qty * unit_price_cents`` before any discount."""
    discount_cents: Cents
    total_cents: Cents
    """What the goods cost after discounts, GST-inclusive, before cash rounding."""
    tax_cents: Cents
    """GST contained in ``total_cents``."""
    gst_rate_bp: RateBp
    """The GST rate applied, in basis points (900 = 9%)."""
    rounding_cents: Cents
    """Cash rounding adjustment: collected = total + rounding."""
    change_cents: Cents


class SaleRefunded(WireModel):
    refund_id: UUID
    original_sale_id: UUID | None
    """The refunded sale (made at this till or, looked up at HQ, at another one). None
    for a manual return: goods brought back without a sale to refund them from."""
    receipt_no: Text40
    """The refunded sale's receipt number; for a manual return the one typed, or ""."""
    cashier_id: UUID
    approved_by: UUID | None
    lines: Annotated[list[SaleLine], Field(min_length=1, max_length=MAX_LINE_NO)]
    payments: Annotated[list[Payment], Field(min_length=1, max_length=100)]
    loyalty: Annotated[list[LoyaltyDelta], Field(max_length=100)] = []
    total_cents: Cents
    """Amount returned to the customer (positive)."""
    tax_cents: Cents
    reason: Text1000 = ""
    shift_id: UUID | None = None
    credit_note_no: Text40 | None = None
    """The credit note's own number (``OUTLET-TERMINAL-CNnnnnnn``); ``receipt_no`` is the sale's."""
    rounding_cents: Cents = 0
    """Cash rounding given back, mirroring the sale's: paid out = total + rounding."""
    to_cash: bool = False
    """Refunded in cash instead of the original tenders (needs a manager's approval)."""


class CustomerCreated(WireModel):
    customer_id: UUID
    name: Text200
    phone: Text32 | None
    email: Text200 | None = None


class ShiftClosed(WireModel):
    shift_id: UUID
    cashier_id: UUID
    opened_at: WireTime
    closed_at: WireTime
    opening_float_cents: Cents
    expected_cash_cents: Cents
    counted_cash_cents: Cents
    sales_count: Count
    sales_total_cents: Cents


class LoyaltyAdjusted(WireModel):
    delta: LoyaltyDelta
    approved_by: UUID | None = None
    note: Text1000 = ""


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
    note: Text1000 = ""


class ApprovalRefused(WireModel):
    """A wrong manager PIN (or a locked-out attempt): audited like a granted approval."""

    attempt_id: UUID
    action: ApprovalAction
    cashier_id: UUID
    failed_attempts: Annotated[int, Field(strict=True, ge=0, le=1_000)]
    """Wrong manager PINs in a row at this till, this one included."""
    locked: bool = False
    """This attempt locked approvals (or they were locked already)."""
    note: Text1000 = ""


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
    reason: Text1000 = ""


class LineVoided(WireModel):
    """A line removed (or its quantity lowered) before payment, with its approval."""

    void_id: UUID
    cashier_id: UUID
    approved_by: UUID | None
    shift_id: UUID | None = None
    sku: Text64
    qty: PositiveQty
    amount_cents: NonNegCents


class CashMovement(WireModel):
    """Petty cash in or out of the drawer, or a no-sale open (amount 0), with a reason."""

    movement_id: UUID
    shift_id: UUID
    cashier_id: UUID
    kind: Literal["in", "out", "no_sale"]
    amount_cents: NonNegCents
    reason: Text1000
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
    first_receipt_no: Text40 | None = None
    last_receipt_no: Text40 | None = None
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
    terminal_id: Label40
    terminal_seq: Seq
    occurred_at: WireTime
    """The till's clock: kept, never trusted for order (HQ stamps ``received_at``)."""
    schema_version: SchemaVersion
    type: Label40
    payload: Annotated[dict[str, Any], AfterValidator(_bounded_json)]


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

    terminal_id: Text40
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


class RefundedQty(WireModel):
    """How much of one sale line refunds (at any till) have already taken back."""

    line_no: LineNo
    qty: Annotated[int, Field(strict=True, ge=0, le=MAX_QTY)]
    total_cents: NonNegCents


class RefundedTender(WireModel):
    tender: TenderKind
    amount_cents: Cents
    """Paid back to this tender by earlier refunds (cash without its rounding)."""


class SaleLookup(WireModel):
    """``GET /v1/sync/sale``: a sale HQ holds, for a refund at a till that did not make it.

    Carries what the till needs to plan the refund exactly as the selling till would:
    the lines, tenders and GST as sold, and what refunds HQ holds already took back
    (``refund_ids`` names them, so the asking till adds only its own refunds HQ has
    not received yet).
    """

    sale_id: UUID
    receipt_no: Text40
    terminal_id: Text40
    occurred_at: datetime
    cashier_id: UUID
    customer_id: UUID | None
    lines: list[SaleLine]
    payments: list[Payment]
    total_cents: Cents
    tax_cents: Cents
    gst_rate_bp: RateBp
    rounding_cents: Cents
    points_earned: Cents = 0
    refunded: list[RefundedQty] = []
    refunded_tenders: list[RefundedTender] = []
    refunded_tax_cents: Cents = 0
    refunded_rounding_cents: Cents = 0
    points_reversed: Cents = 0
    """Earned points earlier refunds took back (positive)."""
    refund_ids: list[UUID] = []


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
    sku: Text64
    barcode: Text64 | None
    name: Text200
    price_cents: NonNegCents
    """The price in effect when HQ sent the record (for the asking till's outlet)."""
    tax_code: TaxCode
    cdc_eligible: bool
    active: bool
    prices: list[ScheduledPrice] = Field(default_factory=list)
    """The asking outlet's future price steps, in time order: the till sells at the last
    step that has begun (else at ``price_cents``), even when offline at that moment."""
    age_restricted: bool = False
    """Alcohol, tobacco: the till asks the cashier to confirm the customer's age."""


class CustomerRecord(WireModel):
    customer_id: UUID
    name: Text200
    phone: Text32 | None
    email: Text200 | None
    loyalty_balance: Cents
    """Authoritative HQ balance: the sum of every delta HQ has accepted."""


class CashierRecord(WireModel):
    cashier_id: UUID
    name: Text100
    role: Literal["cashier", "manager"]
    pin_hash: Text200
    """A slow hash (``scrypt$...``); the PIN itself never leaves the enrolling host."""
    active: bool


class TenderRecord(WireModel):
    code: Text16
    name: Text100
    kind: TenderKind
    active: bool
    sort_order: Int32 = 0


class GstRate(WireModel):
    effective_from: date
    rate_bp: RateBp


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
    store_name: Text200
    address: Text400
    gst_reg_no: Text32
    gst_rates: Annotated[list[GstRate], Field(max_length=100)]
    loyalty_cents_per_point_earned: Ratio = 100
    """Spend this many cents (after discounts) to earn one point; 100 = 1 point per S$1."""
    loyalty_point_value_cents: Ratio = 1
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
    head: int | None = None
    """HQ's newest change seq. Below the till's cursor, HQ's feed went back (HQ was
    restored from a backup) and the till reads the feed again from the start."""


# --------------------------------------------------------------------------- errors


class ErrorDetail(WireModel):
    code: str
    message: str


class ErrorBody(WireModel):
    error: ErrorDetail
