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


class CartItemIn(Model):
    product_id: UUID
    qty: Annotated[int, Field(strict=True)]
    """Validated by the service (a bad quantity is a specific error, not a 422)."""
    discount_cents: Annotated[int, Field(strict=True, ge=0)] = 0


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


class CustomerView(Model):
    id: UUID
    name: str
    phone: str | None
    balance: int
    """HQ's balance plus this till's deltas HQ has not counted yet."""


class CashierView(Model):
    id: UUID
    name: str
    role: Literal["cashier", "manager"]


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


class ParkedItem(Model):
    product: ProductView
    qty: int
    discount_cents: int = 0


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
