"""Pydantic models the services take and return (never ORM objects)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from sync.protocol import TaxCode, TenderKind


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ------------------------------------------------------------------------- checkout


ApprovalActionIn = Literal[
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


class ApprovalIn(Model):
    """An approval a request carries: verified against the approvals recorded at this till."""

    approval_id: UUID
    manager_id: UUID
    action: ApprovalActionIn
    line_no: int | None = None
    """The request's line (1-based) it approves; None approves the whole request."""


class CartItemIn(Model):
    product_id: UUID
    qty: Annotated[int, Field(strict=True)]
    """Validated by the service (a bad quantity is a specific error, not a 422)."""
    discount_cents: Annotated[int, Field(strict=True, ge=0)] = 0
    unit_price_cents: Annotated[int, Field(strict=True, ge=0)] | None = None
    """A price override (needs a ``price_override`` approval); None sells at the catalog price."""
    age_confirmed: bool = False
    """The cashier confirmed the customer's age for this line (recorded on the sale line)."""


class TenderIn(Model):
    kind: TenderKind
    amount_cents: Annotated[int, Field(strict=True)]
    """For cash, what was handed over; for other tenders, what they pay."""
    reference: str | None = None


class CheckoutRequest(Model):
    cashier_id: UUID
    customer_id: UUID | None = None
    shift_id: UUID | None = None
    items: list[CartItemIn]
    cart_discount_cents: Annotated[int, Field(strict=True, ge=0)] = 0
    tenders: list[TenderIn]
    approvals: list[ApprovalIn] = []


class ReceiptLine(Model):
    line_no: int
    sku: str
    name: str
    qty: int
    unit_price_cents: int
    discount_cents: int
    total_cents: int
    tax_code: TaxCode


class ReceiptPayment(Model):
    tender: TenderKind
    amount_cents: int
    tendered_cents: int
    reference: str | None = None


class Receipt(Model):
    """Everything a GST tax invoice shows, built from the values the checkout wrote."""

    sale_id: UUID
    receipt_no: str
    created_at: datetime
    store_name: str
    address: str
    gst_reg_no: str
    cashier_name: str
    customer_name: str | None
    lines: list[ReceiptLine]
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    tax_cents: int
    gst_rate_bp: int
    rounding_cents: int
    payments: list[ReceiptPayment]
    change_cents: int
    points_earned: int
    points_redeemed: int
    points_balance: int | None
    """The customer's balance after this sale as the till knows it (HQ + unsynced)."""


# ------------------------------------------------------------------------- catalog


class ProductView(Model):
    id: UUID
    sku: str
    barcode: str | None
    name: str
    price_cents: int
    tax_code: TaxCode
    cdc_eligible: bool
    age_restricted: bool = False
    """Alcohol, tobacco: sold only once the cashier confirms the customer's age."""


class CustomerView(Model):
    id: UUID
    name: str
    phone: str | None
    balance: int
    """HQ's balance plus this till's deltas HQ has not counted yet."""


class PointsAccount(Model):
    """What a member's points can pay at this till right now (the points tender)."""

    customer: CustomerView
    """With the balance the till can see: HQ's plus this till's unsynced deltas."""
    point_value_cents: int
    """What one point pays (the store's redeem rate: 1 = 100 points per S$1)."""


class CashierView(Model):
    id: UUID
    name: str
    role: Literal["cashier", "manager"]


class ApprovalView(CashierView):
    """The manager who approved, and the approval a request then carries."""

    approval_id: UUID
    action: ApprovalActionIn

    def as_approval(self, line_no: int | None = None) -> ApprovalIn:
        return ApprovalIn(
            approval_id=self.approval_id, manager_id=self.id, action=self.action, line_no=line_no
        )


class StoreView(Model):
    outlet_code: str
    terminal_code: str
    store_name: str
    address: str
    gst_reg_no: str


# ------------------------------------------------------------------------- status


class TillStatus(Model):
    db_path: str
    outlet_code: str
    terminal_code: str
    sales_count: int
    sales_total_cents: int
    outbox_pending: int
    outbox_rejected: int
    outbox_sent: int
    last_push_ok_at: datetime | None
    last_pull_ok_at: datetime | None
    last_error: str | None
    hq_url: str | None
    enrolled: bool
    change_cursor: int
    acked_seq: int


# ------------------------------------------------------------------------- till UI


class StoreProfile(Model):
    """Who this till is and the GST rate it sells at today (for the header and totals)."""

    store: StoreView
    gst_rate_bp: int


class ShiftView(Model):
    id: UUID
    cashier_id: UUID
    opened_at: datetime
    closed_at: datetime | None
    opening_float_cents: int
    counted_cash_cents: int | None


class ShiftSummary(Model):
    """What closing a shift reports (and sends to HQ as ``shift.closed``)."""

    shift: ShiftView
    expected_cash_cents: int
    sales_count: int
    sales_total_cents: int
    report: ShiftReport | None = None
    """The Z report (what ``shift.z_report`` carries to HQ)."""


class ParkedItem(Model):
    """One cart line as parked, with what the cashier and manager settled on it.

    The fields after ``discount_cents`` default to "nothing settled", so a cart parked
    before they were stored recalls as plain lines.
    """

    product: ProductView
    qty: int
    discount_cents: int = 0
    approval: ApprovalView | None = None
    """The manager's approval of the discount."""
    override_cents: int | None = None
    """The price the line sells at instead of the catalog's."""
    override_approval: ApprovalView | None = None
    """The manager's approval of that price."""
    age_checked: bool = False
    """The cashier confirmed the customer's age for this line."""

    @property
    def unit_price_cents(self) -> int:
        return self.product.price_cents if self.override_cents is None else self.override_cents


class ParkedSaleView(Model):
    id: UUID
    label: str
    parked_at: datetime
    cashier_id: UUID
    item_count: int
    total_cents: int
    customer_name: str | None = None
    """The member attached when it was parked (shown in the recall list)."""


class ParkedCart(Model):
    """A recalled cart: products re-read from the catalog, so prices are today's."""

    id: UUID
    label: str
    customer: CustomerView | None
    items: list[ParkedItem]
    missing: list[str] = []
    """SKUs parked but no longer sold (withdrawn since); the cashier is told."""
    sale_approval: ApprovalView | None = None
    """A manager's approval of the sale's discounts over the sale limit, as parked."""
    sale_discount_approved: int = 0
    """The sale discount (cents) that approval covers."""


# ------------------------------------------------------------------------- refunds


class SoldLineView(Model):
    line_no: int
    sku: str
    name: str
    qty: int
    unit_price_cents: int
    total_cents: int
    tax_code: TaxCode
    refunded_qty: int
    """Taken back by earlier refunds; ``qty - refunded_qty`` can still be refunded."""


class PastSale(Model):
    """A sale from this till's history (or HQ's, ``at_hq``), as a refund screen or a
    reprint needs it."""

    sale_id: UUID
    receipt_no: str
    created_at: datetime
    cashier_id: UUID
    customer_id: UUID | None
    customer_name: str | None
    total_cents: int
    tax_cents: int
    rounding_cents: int
    lines: list[SoldLineView]
    payments: list[ReceiptPayment]
    refunds: list[str]
    """Credit note numbers of earlier refunds."""
    at_hq: bool = False
    """Looked up at HQ: made at another till (``refunds`` lists only this till's)."""


class RefundLineIn(Model):
    line_no: int
    """The original sale's line number."""
    qty: Annotated[int, Field(strict=True, gt=0)]


class RefundRequest(Model):
    receipt_no: str
    cashier_id: UUID
    shift_id: UUID | None = None
    lines: list[RefundLineIn] = []
    """Empty: refund everything that is left of the sale."""
    to_cash: bool = False
    """Give it all back in cash instead of the tenders paid (needs ``refund_to_cash``)."""
    reason: str = ""
    approvals: list[ApprovalIn] = []


class ManualReturnLineIn(Model):
    product_id: UUID
    qty: Annotated[int, Field(strict=True, gt=0)]
    unit_price_cents: Annotated[int, Field(strict=True, ge=0)] | None = None
    """What each comes back at; None: the product's price now."""


class ManualReturnRequest(Model):
    """Goods back without a sale to refund them from (the sale is at another till and
    HQ cannot be asked, or HQ does not have it): a reason and a manager, always."""

    cashier_id: UUID
    shift_id: UUID | None = None
    lines: list[ManualReturnLineIn]
    receipt_no: Annotated[str, Field(max_length=40)] = ""
    """The customer's receipt number, if they have it (printed on the credit note)."""
    tender: TenderKind = "cash"
    """Where the money goes back: cash, or the original tender the cashier typed."""
    reason: str = ""
    approvals: list[ApprovalIn] = []


class CreditNoteLine(Model):
    line_no: int
    sku: str
    name: str
    qty: int
    unit_price_cents: int
    discount_cents: int
    total_cents: int
    tax_code: TaxCode


class CreditNote(Model):
    """A refund's receipt: the credit note against the original tax invoice."""

    refund_id: UUID
    credit_note_no: str
    original_receipt_no: str
    created_at: datetime
    store_name: str
    address: str
    gst_reg_no: str
    cashier_name: str
    customer_name: str | None
    lines: list[CreditNoteLine]
    total_cents: int
    tax_cents: int
    gst_rate_bp: int
    rounding_cents: int
    payments: list[ReceiptPayment]
    """How the money went back (cash includes its rounding)."""
    points_given_back: int
    points_taken_back: int
    points_balance: int | None
    reason: str
    manual: bool = False
    """A manual return: goods back with no sale refunded (``original_receipt_no`` is the
    customer's receipt number if they had it, else empty)."""


# ------------------------------------------------------------------------- shift reports


class TenderLine(Model):
    tender: TenderKind
    sales_cents: int
    refunds_cents: int


class TaxLine(Model):
    tax_code: TaxCode
    net_sales_cents: int
    tax_cents: int


class ShiftReport(Model):
    """An X report (``kind='x'``, any time) or a Z report (``'z'``, the shift closed)."""

    kind: Literal["x", "z"]
    shift_id: UUID
    cashier_id: UUID
    opened_at: datetime
    closed_at: datetime | None
    gross_sales_cents: int
    """Before discounts (sum of qty x price)."""
    discounts_cents: int
    sales_total_cents: int
    refunds_cents: int
    net_sales_cents: int
    sales_count: int
    refunds_count: int
    voids_count: int
    voids_cents: int
    cancels_count: int
    cancels_cents: int
    no_sale_count: int
    tax: list[TaxLine]
    tenders: list[TenderLine]
    rounding_cents: int
    opening_float_cents: int
    cash_in_cents: int
    cash_out_cents: int
    expected_cash_cents: int
    counted_cash_cents: int | None
    variance_cents: int | None
    first_receipt_no: str | None
    last_receipt_no: str | None
    parked_count: int


class ReceiptSummary(Model):
    """One line of a past-receipts search."""

    sale_id: UUID
    receipt_no: str
    created_at: datetime
    customer_name: str | None
    total_cents: int
    refunded_cents: int = 0
    """Refunded so far (0: none; the total: all of it; between: part of it)."""
