"""Catalog CSV import's rows and writes (real SQLite file and real PostgreSQL database):
rows are read as ``csv.DictReader`` reads them, every error is named on the same line as
before, product ids are exactly ``uuid5(NAMESPACE, "product:" + sku)``, and the three
bulk writes (new products, changed ones, ones whose only change is their category) land
on both stores with change_seq taken only where tills must pull the row."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from hq import catalog_import, manage
from hq import models as m
from hq.db import open_database
from hq.fields import FREE_PRICE
from sync import demo_data

TRICKY = (
    "\ufeffsku,barcode,name,price,tax_code,cdc_eligible,active,age_restricted,category\n"
    "A-1,111,Kopi,3.30,sr,yes,yes,no,Drinks\n"
    "\n"
    "A-2,,Teh,1.2,,,,,drinks\n"
    "A-3,222,  Milo  ,2.00,ZR,no,no,yes,\n"
    "A-4,333,Short,1.00\n"
    "A-5,444,Long,1.00,SR,y,n,t,Snacks,extra,cells\n"
    ",555,No sku,1.00\n"
    "A-6,666,,1.00\n"
    "A-7,777,Bad price,abc\n"
    "A-8,888,Too precise,1.234\n"
    "A-9,999,Negative,-1.00\n"
    "A-10,1010,Bad tax,1.00,XX\n"
    "A-11,1111,Bad flag,1.00,SR,maybe\n"
    "A-1,1212,Dup sku,1.00\n"
    "A-12,111,Dup barcode,1.00\n"
    "A-13,1313," + "N" * 201 + ",1.00,QQ\n"
    'A-15,1515,"Quoted ""x""","2.50"\n'
    "A-16,1616,Empty price,\n"
    "A-17,1717,Bad category,1.00,SR,,,," + "C" * 101 + "\n" + "S" * 65 + ",1818,Long sku,1.00\n"
    "A-19,1919,Exponent,1e3\n"
    "A-20,2020,Given away,0.00\n"
    'A-21,2121,Dollar sign,"S$1,250.50"\n'
)
"""Blank lines (skipped, not counted), short and long rows, and one of each error."""

TRICKY_ERRORS = [
    (7, "empty sku"),
    (8, "empty name"),
    (9, "price 'abc' is not an amount like 3.30"),
    (10, "price '1.234' is not an amount like 3.30"),
    (11, "price '-1.00' is not an amount like 3.30"),
    (12, "bad tax_code"),
    (13, "expected yes/no, got 'maybe'"),
    (14, "sku 'A-1' already on line 2"),
    (15, "barcode '111' already on line 2"),
    (16, "bad name, tax_code"),
    (18, "price '' is not an amount like 3.30"),
    (19, "category: a category name is at most 100 characters"),
    (20, "bad sku"),
    (21, "price '1e3' is not an amount like 3.30"),
    (22, FREE_PRICE),
]


def test_rows_read_as_dict_reader_reads_them_and_errors_name_their_line() -> None:
    check = catalog_import.parse(TRICKY)
    assert [(e.line, e.message) for e in check.errors] == TRICKY_ERRORS
    assert check.error_count == len(TRICKY_ERRORS)
    rows = [
        (r.sku, r.barcode, r.name, r.price_cents, r.tax_code, r.cdc_eligible, r.active,
         r.age_restricted)
        for r in check.records
    ]  # fmt: skip
    assert rows == [
        ("A-1", "111", "Kopi", 330, "SR", True, True, False),
        ("A-2", None, "Teh", 120, "SR", True, True, False),
        ("A-3", "222", "Milo", 200, "ZR", False, False, True),
        ("A-4", "333", "Short", 100, "SR", True, True, False),
        ("A-5", "444", "Long", 100, "SR", True, False, True),
        ("A-15", "1515", 'Quoted "x"', 250, "SR", True, True, False),
        ("A-21", "2121", "Dollar sign", 125050, "SR", True, True, False),
    ]
    assert check.categories == [
        ("Drinks", "drinks"),
        ("drinks", "drinks"),
        None,
        None,
        ("Snacks", "snacks"),
        None,
        None,
    ]
    assert (check.age_column, check.category_column) == (True, True)


def test_a_repeated_column_s_last_cell_wins_and_a_missing_one_is_empty() -> None:
    check = catalog_import.parse(
        "sku,name,price_cents,name,price\nB-1,First,100,Second,\nB-2,X,abc,Y,\n"
        "B-3,Z,,W,1.50\nB-4,V\n"
    )
    assert [(e.line, e.message) for e in check.errors] == [
        (3, "price_cents 'abc' is not whole cents like 330"),
        (5, "price '' is not an amount like 3.30"),
    ]
    assert [(r.sku, r.name, r.price_cents) for r in check.records] == [
        ("B-1", "Second", 100),
        ("B-3", "W", 150),
    ]
    assert (check.age_column, check.category_column) == (False, False)


HEADER_ERROR = "the header needs columns sku, name and price (or price_cents)"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", (1, HEADER_ERROR)),
        ("\nsku,name,price\nD-1,X,1\n", (1, HEADER_ERROR)),
        ("sku,name\nC-1,X\n", (1, HEADER_ERROR)),
        ("sku,name,price\n", (2, "the file has no products")),
        ("sku,name,price\n\n\n", (2, "the file has no products")),
        ("sku,name,price\n\n\nE-1,,1\n", (2, "empty name")),
    ],
)  # fmt: skip
def test_headers_and_empty_files(text: str, error: tuple[int, str]) -> None:
    check = catalog_import.parse(text)
    assert [(e.line, e.message) for e in check.errors] == [error]


@pytest.mark.parametrize("sku", ["KOPI-001", "CAT-000001", "", "ü€😀 x", "S" * 64, "a:b"])
def test_ids_are_exactly_uuid5_of_the_sku(sku: str) -> None:
    expected = uuid.uuid5(demo_data.NAMESPACE, f"product:{sku}")
    got = demo_data.product_uuid(sku)
    assert got == expected and str(got) == str(expected) and got.version == 5
    assert got.variant == uuid.RFC_4122 and hash(got) == hash(expected)
    assert demo_data.demo_id("customer", sku) == uuid.uuid5(demo_data.NAMESPACE, f"customer:{sku}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """HQ's store with the demo catalog, SQLite file or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hq.db'}"
    else:
        url = request.getfixturevalue("own_postgres_url")
    manage.seed_demo_sync(url)
    return url


Row = tuple[uuid.UUID, str, str | None, str, int, str, bool, bool, bool, str | None, int]


async def products(db_url: str) -> dict[str, Row]:
    db = open_database(db_url)
    try:
        async with db.sessions() as s:
            result = await s.execute(
                select(
                    m.Product.product_id, m.Product.sku, m.Product.barcode, m.Product.name,
                    m.Product.price_cents, m.Product.tax_code, m.Product.cdc_eligible,
                    m.Product.active, m.Product.age_restricted, m.Category.name,
                    m.Product.change_seq,
                ).outerjoin(m.Category, m.Category.category_id == m.Product.category_id)
            )  # fmt: skip
            return {r[1]: tuple(r) for r in result}  # type: ignore[misc]
    finally:
        await db.dispose()


async def import_file(db_url: str, path: Path) -> catalog_import.CatalogCheck:
    db = open_database(db_url)
    try:
        async with db.sessions() as s, s.begin():
            return await catalog_import.import_file(s, path)
    finally:
        await db.dispose()


async def test_new_changed_and_moved_products_land_on_each_store(
    db_url: str, tmp_path: Path
) -> None:
    demo = {x.sku: x for x in demo_data.demo_products()}
    milo, eggs = demo["MILO-400"], demo["EGGS-10"]
    before = await products(db_url)
    top = max(r[-1] for r in before.values())  # the counter is shared with other kinds
    csv = tmp_path / "catalog.csv"
    csv.write_text(
        "sku,barcode,name,price_cents,tax_code,cdc_eligible,active,age_restricted,category\n"
        "NEW-1,9000000000001,Beer Can 320ml,450,SR,no,yes,yes,Drinks\n"
        "NEW-2,,Ice 2kg,300,zr,yes,no,no,\n"
        f"KOPI-001,{demo_data.DEMO_BARCODE},Kopi-O Powder 500g,350,SR,yes,yes,no,\n"
        f"MILO-400,{milo.barcode},{milo.name},{milo.price_cents},{milo.tax_code},"
        f"{'yes' if milo.cdc_eligible else 'no'},{'yes' if milo.active else 'no'},no,DRINKS\n"
        f"EGGS-10,{eggs.barcode},{eggs.name},{eggs.price_cents},{eggs.tax_code},"
        f"{'yes' if eggs.cdc_eligible else 'no'},{'yes' if eggs.active else 'no'},no,\n"
    )
    first = await import_file(db_url, csv)
    assert first.ok and (first.new, first.changed, first.unchanged) == (2, 2, 1)
    assert first.new_categories == ["Drinks"]
    after = await products(db_url)
    new1, new2, kopi = after["NEW-1"], after["NEW-2"], after["KOPI-001"]
    assert new1[0] == uuid.uuid5(demo_data.NAMESPACE, "product:NEW-1")
    assert new2[0] == uuid.uuid5(demo_data.NAMESPACE, "product:NEW-2")
    assert new1[1:10] == (
        "NEW-1", "9000000000001", "Beer Can 320ml", 450, "SR", False, True, True, "Drinks"
    )  # fmt: skip
    assert new2[1:10] == ("NEW-2", None, "Ice 2kg", 300, "ZR", True, False, False, None)
    assert kopi[0] == before["KOPI-001"][0] and kopi[4] == 350
    # Tills pull the new and the repriced products, in one run of fresh seqs...
    first_seq, *rest = sorted((new1[-1], new2[-1], kopi[-1]))
    assert first_seq > top and rest == [first_seq + 1, first_seq + 2]
    # ...but not MILO-400, whose only change is its category, nor the unchanged EGGS-10.
    assert after["MILO-400"][9] == "Drinks"
    assert after["MILO-400"][-1] == before["MILO-400"][-1]
    assert after["EGGS-10"] == before["EGGS-10"]

    # A file without the age and category columns keeps both on the products it changes.
    csv.write_text("sku,name,price\nNEW-1,Beer Can 330ml,4.60\n")
    second = await import_file(db_url, csv)
    assert second.ok and (second.new, second.changed) == (0, 1)
    beer = (await products(db_url))["NEW-1"]
    assert beer[1:10] == (
        "NEW-1", None, "Beer Can 330ml", 460, "SR", True, True, True, "Drinks"
    )  # fmt: skip
    assert beer[-1] > first_seq + 2
