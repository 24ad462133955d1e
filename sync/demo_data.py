"""The demo store, as wire records both HQ and a stand-alone till can load.

Identifiers are ``uuid5`` of stable names, so an HQ seeded with this data
(``kedai-hq seed-demo``) and a till seeded with it separately (``kedai-till simulate``
on an empty database) agree on every product, cashier and customer. Pure data:
importing this pulls in nothing but the protocol models (a test holds it to that), so
the till can use it without the HQ stack.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date
from functools import cache

from sync.pins import hash_pin
from sync.protocol import (
    CashierRecord,
    CustomerRecord,
    GstRate,
    LoyaltyDelta,
    ProductRecord,
    SettingsRecord,
    TenderRecord,
)

NAMESPACE = uuid.UUID("6b1f3c2e-5a0d-4f7e-9c1b-2d8e4a6f0b13")
"""Namespace of every demo id (and of products HQ imports from CSV, keyed by sku)."""

OUTLET_CODE = "DEMO"
OUTLET_NAME = "Kedai Demo Mart (Bukit Merah)"
DEMO_BARCODE = "8880000000019"
"""Kopi-O Powder 500g, S$3.30: the item the walkthrough and tests scan first."""
CASHIER_PIN = "1234"
MANAGER_PIN = "9999"


_UUID5_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID5_SET = (0x8000 << 48) | (5 << 76)
"""The RFC 4122 variant and version 5 bits, as :func:`uuid.uuid5` sets them."""
_PRODUCT_PREFIX = NAMESPACE.bytes + b"product:"


def _uuid5(name: bytes) -> uuid.UUID:
    """``uuid.uuid5`` of ``NAMESPACE`` and a name already prefixed with its bytes, built
    from the integer (``UUID(bytes=..., version=5)`` costs twice as much per id, and a
    catalog import makes 100,000 of them)."""
    digest = hashlib.sha1(name, usedforsecurity=False).digest()
    return uuid.UUID(int=int.from_bytes(digest[:16], "big") & _UUID5_CLEAR | _UUID5_SET)


def demo_id(kind: str, key: str) -> uuid.UUID:
    """``uuid.uuid5(NAMESPACE, f"{kind}:{key}")``."""
    return _uuid5(NAMESPACE.bytes + f"{kind}:{key}".encode())


def product_uuid(sku: str) -> uuid.UUID:
    """``uuid.uuid5(NAMESPACE, f"product:{sku}")``: the id HQ gives a product it imports."""
    return _uuid5(_PRODUCT_PREFIX + sku.encode())


def customer_uuid(phone: str) -> uuid.UUID:
    return demo_id("customer", phone)


def cashier_uuid(name: str) -> uuid.UUID:
    return demo_id("cashier", name)


# sku, name, price (cents), tax code, CDC-eligible
_PRODUCTS: tuple[tuple[str, str, int, str, bool], ...] = (
    ("KOPI-001", "Kopi-O Powder 500g", 330, "SR", True),
    ("MILO-400", "Milo 3-in-1 Sachets 18x33g", 789, "SR", True),
    ("RICE-5KG", "Thai Hom Mali Rice 5kg", 1395, "SR", True),
    ("EGGS-10", "Fresh Eggs 10s", 365, "SR", True),
    ("BREAD-GD", "Gardenia White Bread 600g", 285, "SR", True),
    ("KAYA-250", "Pandan Kaya 250g", 415, "SR", True),
    ("MILK-1L", "Fresh Milk 1L", 345, "SR", True),
    ("TEH-100", "Teh Tarik Sachets 10s", 525, "SR", True),
    ("NOOD-5P", "Instant Curry Noodles 5-pack", 410, "SR", True),
    ("SOYA-1L", "Soya Bean Drink 1L", 235, "SR", True),
    ("OIL-2L", "Canola Cooking Oil 2L", 899, "SR", True),
    ("SUGAR-1K", "Fine Sugar 1kg", 215, "SR", True),
    ("SALT-500", "Iodised Salt 500g", 95, "SR", True),
    ("SOY-SAUCE", "Light Soy Sauce 640ml", 355, "SR", True),
    ("OYSTER", "Oyster Sauce 510g", 425, "SR", True),
    ("CHILI-SB", "Sambal Chilli 200g", 389, "SR", True),
    ("IKAN-BILS", "Dried Ikan Bilis 200g", 780, "SR", True),
    ("TOFU-TAU", "Tau Kwa 4s", 150, "SR", True),
    ("KANGKONG", "Kang Kong 250g", 120, "SR", True),
    ("CHYE-SIM", "Chye Sim 300g", 145, "SR", True),
    ("BANANA", "Pisang Mas Bunch", 299, "SR", True),
    ("APPLE-4", "Fuji Apples 4s", 480, "SR", True),
    ("ORANGE-6", "Mandarin Oranges 6s", 520, "SR", True),
    ("CHICK-WH", "Fresh Whole Chicken 1.3kg", 890, "SR", True),
    ("FISH-BAT", "Batang Fish Steak 500g", 1150, "SR", True),
    ("PORK-MIN", "Minced Pork 500g", 690, "SR", True),
    ("PRAWN-BL", "Frozen Prawns 500g", 1290, "SR", True),
    ("NUGGET", "Chicken Nuggets 850g", 899, "SR", True),
    ("ICE-CRM", "Potong Ice Cream 6s", 650, "SR", True),
    ("WATER-6", "Mineral Water 1.5L x6", 540, "SR", True),
    ("COLA-24", "Cola Cans 24x320ml", 1690, "SR", True),
    ("GREENTEA", "Jasmine Green Tea 1.5L", 295, "SR", True),
    ("BISC-MRS", "Marie Biscuits 300g", 275, "SR", True),
    ("CRACKER", "Cream Crackers 428g", 365, "SR", True),
    ("CHIPS", "Potato Chips 160g", 355, "SR", True),
    ("PEANUT", "Roasted Peanuts 400g", 495, "SR", True),
    ("DETERG", "Laundry Detergent 3kg", 1450, "SR", True),
    ("DISH-LIQ", "Dishwashing Liquid 900ml", 310, "SR", True),
    ("TISSUE", "Facial Tissue 5x200s", 699, "SR", True),
    ("TOILET-10", "Toilet Rolls 10s", 899, "SR", True),
    ("SHAMPOO", "Herbal Shampoo 600ml", 1190, "SR", True),
    ("TOOTHP", "Toothpaste 160g x2", 650, "SR", True),
    ("SOAP-3", "Bath Soap 3x100g", 425, "SR", True),
    ("DIAPER-M", "Baby Diapers M 52s", 2390, "SR", True),
    ("PANADOL", "Paracetamol Tablets 20s", 535, "SR", True),
    ("BEER-6", "Lager Beer 6x320ml", 1980, "SR", False),
    ("CIGAR-PK", "Cigarettes 20s", 1450, "SR", False),
    ("STAMP-10", "Local Postage Stamps 10s", 500, "ES", False),
    ("EZLINK", "EZ-Link Top-up S$10", 1000, "ES", False),
    ("EXPORT-R", "Export Rice Sack 25kg", 5200, "ZR", True),
    ("GIFT-50", "Kedai Gift Card S$50", 5000, "ES", False),
    ("LOTTERY", "Lucky Draw Coupon", 100, "ES", False),
)

# name, phone, email, opening points (HQ books these as ledger entries)
_CUSTOMERS: tuple[tuple[str, str, str | None, int], ...] = (
    ("Tan Mei Ling", "91234567", "meiling@example.sg", 0),
    ("Muhammad Hafiz", "98765432", "hafiz@example.sg", 120),
    ("Priya Nair", "81112222", None, 300),
    ("Lim Wei Jie", "90001111", "weijie@example.sg", 45),
    ("Siti Nurhaliza", "87776666", None, 15),
)


def demo_settings() -> SettingsRecord:
    return SettingsRecord(
        store_name="Kedai Demo Mart",
        address="1 Jalan Bukit Merah, #01-23, Singapore 150001",
        gst_reg_no="M90312345X",
        gst_rates=[
            GstRate(effective_from=date(2007, 7, 1), rate_bp=700),
            GstRate(effective_from=date(2023, 1, 1), rate_bp=800),
            GstRate(effective_from=date(2024, 1, 1), rate_bp=900),
        ],
        loyalty_cents_per_point_earned=100,
        loyalty_point_value_cents=1,
    )


AGE_RESTRICTED = frozenset({"BEER-6", "CIGAR-PK"})
"""Alcohol and tobacco: sold only to customers of age (the till asks)."""


def demo_products() -> list[ProductRecord]:
    out = []
    for i, (sku, name, price, tax, cdc) in enumerate(_PRODUCTS):
        barcode = DEMO_BARCODE if i == 0 else f"888{i + 1:09d}{_ean_check(i + 1)}"
        out.append(
            ProductRecord(
                product_id=product_uuid(sku),
                sku=sku,
                barcode=barcode,
                name=name,
                price_cents=price,
                tax_code=tax,  # type: ignore[arg-type]
                cdc_eligible=cdc,
                active=True,
                age_restricted=sku in AGE_RESTRICTED,
            )
        )
    return out


def _ean_check(n: int) -> int:
    digits = [int(d) for d in f"888{n:09d}"]
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return (10 - total % 10) % 10


@cache
def demo_cashiers() -> list[CashierRecord]:
    """Aisha (cashier, PIN 1234) and Mr Tan (manager, PIN 9999); hashing is slow: cached."""
    return [
        CashierRecord(
            cashier_id=cashier_uuid("Aisha"),
            name="Aisha",
            role="cashier",
            pin_hash=hash_pin(CASHIER_PIN),
            active=True,
        ),
        CashierRecord(
            cashier_id=cashier_uuid("Mr Tan"),
            name="Mr Tan",
            role="manager",
            pin_hash=hash_pin(MANAGER_PIN),
            active=True,
        ),
    ]


def demo_customers() -> list[CustomerRecord]:
    """Customers with their opening balances."""
    return [
        CustomerRecord(
            customer_id=customer_uuid(phone),
            name=name,
            phone=phone,
            email=email,
            loyalty_balance=points,
        )
        for name, phone, email, points in _CUSTOMERS
    ]


def demo_opening_loyalty() -> list[LoyaltyDelta]:
    """The ledger entries behind the opening balances (fixed ids: seeding is idempotent)."""
    return [
        LoyaltyDelta(
            entry_id=demo_id("opening", str(c.customer_id)),
            customer_id=c.customer_id,
            points=c.loyalty_balance,
            reason="adjust",
        )
        for c in demo_customers()
        if c.loyalty_balance
    ]


def demo_tenders() -> list[TenderRecord]:
    rows = (
        ("cash", "Cash", "cash"),
        ("nets", "NETS", "nets"),
        ("card", "Credit/Debit Card", "card"),
        ("paynow", "PayNow", "paynow"),
        ("cdc", "CDC Voucher", "cdc"),
        ("points", "Loyalty Points", "points"),
    )
    return [
        TenderRecord(code=c, name=n, kind=k, active=True, sort_order=i)  # type: ignore[arg-type]
        for i, (c, n, k) in enumerate(rows)
    ]
