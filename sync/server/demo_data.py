"""The demo store: settings, tenders, cashiers, a Singapore grocery catalog, customers.

Pure data and functions (imports only :mod:`sync.protocol` and :mod:`sync.pins`, never
FastAPI or the database): the till imports this one module of ``sync.server`` so that
``kedai-till simulate`` on an empty till uses the very catalog HQ seeds. Every id is a
``uuid5`` of a fixed namespace, so a till seeded locally and an HQ seeded separately
agree on every product, customer and cashier.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from sync.pins import hash_pin
from sync.protocol import (
    CashierRecord,
    CustomerRecord,
    GstRate,
    LoyaltyDelta,
    ProductRecord,
    SettingsRecord,
    TaxCode,
    TenderKind,
    TenderRecord,
)

NAMESPACE = uuid.UUID("6f1d2c3e-8a4b-5c6d-9e0f-4b6b1d7e2a10")
"""Namespace of every demo id (and of products imported from CSV, keyed by sku)."""

OUTLET_CODE = "DEMO"
OUTLET_NAME = "Kedai Demo Mart (Ang Mo Kio)"
BREAD_BARCODE = "8880000000019"
"""Gardenia white bread, S$3.30: the item the walkthrough and tests scan first."""


def product_uuid(sku: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"product:{sku}")


def customer_uuid(phone: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"customer:{phone}")


def cashier_uuid(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"cashier:{name}")


def _ean13(serial: int) -> str:
    body = f"888{serial:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


# sku, name, price in cents (GST-inclusive shelf price), tax code, CDC-voucher eligible
PRODUCTS: tuple[tuple[str, str, int, TaxCode, bool], ...] = (
    ("BRD-001", "Gardenia Enriched White Bread 600g", 330, "SR", True),
    ("BRD-002", "Sunshine Wholemeal Bread 600g", 355, "SR", True),
    ("BRD-003", "Glory Pandan Kaya 400g", 450, "SR", True),
    ("DRY-001", "Meiji Fresh Milk 2L", 790, "SR", True),
    ("DRY-002", "Marigold HL Low Fat Milk 1L", 395, "SR", True),
    ("DRY-003", "Farmland Fresh Eggs 10s", 385, "SR", True),
    ("DRY-004", "Yakult Cultured Milk 5x100ml", 290, "SR", True),
    ("DRY-005", "Vitasoy Original Soya Milk 6x250ml", 560, "SR", True),
    ("DRY-006", "Unicurd Silken Tofu 300g", 130, "SR", True),
    ("RIC-001", "Royal Umbrella Thai Hom Mali Rice 5kg", 1595, "SR", True),
    ("RIC-002", "Golden Phoenix Jasmine Rice 5kg", 1450, "SR", True),
    ("BEV-001", "Milo 3in1 Activ-Go 18x27g", 850, "SR", True),
    ("BEV-002", "Nescafe Gold Instant Coffee 200g", 1590, "SR", True),
    ("BEV-003", "Owl Kopi-O Kosong 20s", 550, "SR", True),
    ("BEV-004", "Yeo's Chrysanthemum Tea 6x250ml", 495, "SR", True),
    ("BEV-005", "Pokka Jasmine Green Tea 1.5L", 290, "SR", True),
    ("BEV-006", "F&N Seasons Ice Lemon Tea 1.5L", 265, "SR", True),
    ("BEV-007", "100Plus Isotonic Drink 6x325ml", 720, "SR", True),
    ("BEV-008", "Coca-Cola Original 1.5L", 295, "SR", True),
    ("BEV-009", "Ice Mountain Mineral Water 1.5L", 125, "SR", True),
    ("BEV-010", "Ribena Blackcurrant Cordial 1L", 490, "SR", True),
    ("ALC-001", "Tiger Lager Beer 6x320ml", 1880, "SR", False),
    ("ALC-002", "Heineken Beer 6x330ml", 2150, "SR", False),
    ("NDL-001", "Prima Taste Laksa La Mian 4x185g", 1390, "SR", True),
    ("NDL-002", "Nissin Cup Noodles Seafood 75g", 170, "SR", True),
    ("NDL-003", "Maggi 2-Minute Curry Noodles 5x79g", 450, "SR", True),
    ("NDL-004", "Indomie Mi Goreng 5x85g", 335, "SR", True),
    ("CAN-001", "Ayam Brand Tuna Flakes in Oil 150g", 330, "SR", True),
    ("CAN-002", "Ayam Brand Sardines in Tomato Sauce 155g", 260, "SR", True),
    ("SAU-001", "Lee Kum Kee Premium Oyster Sauce 510g", 560, "SR", True),
    ("SAU-002", "Kikkoman Naturally Brewed Soy Sauce 600ml", 495, "SR", True),
    ("SAU-003", "Knife Blended Cooking Oil 2L", 940, "SR", True),
    ("SAU-004", "Adabi Meat Curry Powder 250g", 360, "SR", True),
    ("SNK-001", "Khong Guan Cream Crackers 250g", 330, "SR", True),
    ("SNK-002", "Julie's Peanut Butter Sandwich 360g", 390, "SR", True),
    ("SNK-003", "Mister Potato Original Crisps 160g", 330, "SR", True),
    ("SNK-004", "Pringles Sour Cream & Onion 134g", 395, "SR", True),
    ("SNK-005", "Bee Cheng Hiang Sliced Bak Kwa 300g", 2400, "SR", True),
    ("FRZ-001", "CP Chicken Gyoza 600g", 1050, "SR", True),
    ("FRZ-002", "Norwegian Salmon Fillet 200g", 990, "SR", True),
    ("MEA-001", "Fresh Whole Chicken 1.3kg", 790, "SR", True),
    ("MEA-002", "Pork Collar Slices 300g", 650, "SR", True),
    ("VEG-001", "Chye Sim 300g", 150, "SR", True),
    ("VEG-002", "Kang Kong 250g", 120, "SR", True),
    ("VEG-003", "Tomatoes 500g", 210, "SR", True),
    ("VEG-004", "Red Onions 1kg", 260, "SR", True),
    ("VEG-005", "Cavendish Bananas (bunch)", 250, "SR", True),
    ("VEG-006", "Fuji Apples 4s", 450, "SR", True),
    ("HSE-001", "Kleenex Facial Tissue 4x100s", 690, "SR", True),
    ("HSE-002", "Scott Kitchen Towel 6 Rolls", 795, "SR", True),
    ("HSE-003", "Dynamo Power Gel Detergent 2.7kg", 1690, "SR", True),
    ("HSE-004", "Sunlight Lemon Dishwashing Liquid 900ml", 340, "SR", True),
    ("HSE-005", "Colgate Total Toothpaste 150g", 395, "SR", True),
    ("HSE-006", "Dettol Original Hand Wash 250ml", 590, "SR", True),
    ("EXP-001", "Overseas Gift Hamper (export delivery)", 8800, "ZR", False),
    ("EXP-002", "International Courier Charge", 2500, "ZR", False),
    ("ESX-001", "PAMP Investment Gold Bar 1g", 13800, "ES", False),
    ("ESX-002", "Prepaid Stored-Value Card Top-up S$10", 1000, "ES", False),
)

TENDERS: tuple[tuple[str, str, TenderKind], ...] = (
    ("cash", "Cash", "cash"),
    ("nets", "NETS", "nets"),
    ("card", "Credit/Debit Card", "card"),
    ("paynow", "PayNow", "paynow"),
    ("cdc", "CDC Vouchers", "cdc"),
    ("points", "Loyalty Points", "points"),
)

CASHIERS: tuple[tuple[str, Literal["cashier", "manager"], str], ...] = (
    ("Aisha", "cashier", "1234"),
    ("Mr Tan", "manager", "9999"),
)
"""name, role, PIN (demo only; real PINs are set at HQ and never stored in clear)."""

# name, phone, email, opening points
CUSTOMERS: tuple[tuple[str, str, str | None, int], ...] = (
    ("Tan Wei Ming", "+6591234567", "weiming.tan@example.sg", 120),
    ("Siti Nurhaliza bte Ahmad", "+6581234568", None, 45),
    ("Rajesh Kumar", "+6590001234", "rajesh.k@example.sg", 300),
    ("Lim Mei Ling", "+6597654321", None, 0),
    ("Chen Jia Hui", "+6588887777", "jiahui.chen@example.sg", 15),
)


def settings() -> SettingsRecord:
    return SettingsRecord(
        store_name="Kedai Demo Mart",
        address="Blk 123 Ang Mo Kio Avenue 3, #01-45, Singapore 560123",
        gst_reg_no="M90312345X",
        gst_rates=[
            GstRate(effective_from=date(2007, 7, 1), rate_bp=700),
            GstRate(effective_from=date(2023, 1, 1), rate_bp=800),
            GstRate(effective_from=date(2024, 1, 1), rate_bp=900),
        ],
    )


def products() -> list[ProductRecord]:
    return [
        ProductRecord(
            product_id=product_uuid(sku),
            sku=sku,
            barcode=BREAD_BARCODE if i == 0 else _ean13(i + 100),
            name=name,
            price_cents=price,
            tax_code=tax,
            cdc_eligible=cdc,
            active=True,
        )
        for i, (sku, name, price, tax, cdc) in enumerate(PRODUCTS)
    ]


def tenders() -> list[TenderRecord]:
    return [
        TenderRecord(code=code, name=name, kind=kind, active=True, sort_order=i)
        for i, (code, name, kind) in enumerate(TENDERS)
    ]


def cashiers() -> list[CashierRecord]:
    """Cashier records with freshly salted PIN hashes (about 50 ms each to compute)."""
    return [
        CashierRecord(
            cashier_id=cashier_uuid(name), name=name, role=role, pin_hash=hash_pin(pin), active=True
        )
        for name, role, pin in CASHIERS
    ]


def customers() -> list[CustomerRecord]:
    """Customers with their opening balances (HQ books these as ledger entries)."""
    return [
        CustomerRecord(
            customer_id=customer_uuid(phone),
            name=name,
            phone=phone,
            email=email,
            loyalty_balance=points,
        )
        for name, phone, email, points in CUSTOMERS
    ]


def opening_loyalty() -> list[LoyaltyDelta]:
    """The ledger entries behind the opening balances (fixed ids: seeding is idempotent)."""
    return [
        LoyaltyDelta(
            entry_id=uuid.uuid5(NAMESPACE, f"opening:{c.customer_id}"),
            customer_id=c.customer_id,
            points=c.loyalty_balance,
            reason="adjust",
        )
        for c in customers()
        if c.loyalty_balance
    ]
