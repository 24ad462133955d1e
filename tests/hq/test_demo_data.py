"""The demo catalog the till imports too: pure data, deterministic ids, no FastAPI."""

from __future__ import annotations

import subprocess
import sys

from sync import demo_data


def test_demo_catalog_is_realistic_and_deterministic() -> None:
    products = demo_data.demo_products()
    assert len(products) >= 50
    assert len({pr.sku for pr in products}) == len(products)
    assert len({pr.barcode for pr in products}) == len(products)
    kopi = [pr for pr in products if pr.barcode == "8880000000019"]
    assert len(kopi) == 1 and kopi[0].price_cents == 330
    assert {pr.tax_code for pr in products} == {"SR", "ZR", "ES"}
    assert any(not pr.cdc_eligible for pr in products)
    assert [pr.product_id for pr in demo_data.demo_products()] == [pr.product_id for pr in products]
    assert {t.code for t in demo_data.demo_tenders()} == {
        "cash",
        "nets",
        "card",
        "paynow",
        "cdc",
        "points",
    }
    assert len(demo_data.demo_customers()) >= 5 and all(c.phone for c in demo_data.demo_customers())
    assert demo_data.demo_settings().gst_reg_no == "M90312345X"


def test_demo_cashier_pins_verify() -> None:
    from sync.pins import verify_pin

    by_name = {c.name: c for c in demo_data.demo_cashiers()}
    assert verify_pin("1234", by_name["Aisha"].pin_hash)
    assert verify_pin("9999", by_name["Mr Tan"].pin_hash)
    assert not verify_pin("1234", by_name["Mr Tan"].pin_hash)


def test_importing_demo_data_does_not_import_the_web_stack() -> None:
    code = (
        "import sys, sync.demo_data; "
        "bad = [m for m in ('fastapi', 'uvicorn', 'starlette', 'sqlalchemy') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
