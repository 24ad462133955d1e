"""Catalog CSV import (back office and ``kedai-hq import-catalog``): check every row first,
preview what would change, then import all of it in one unit of work or nothing.

Rows are read with :mod:`hq.catalog`'s column rules (``sku, barcode, name, price or
price_cents, tax_code, cdc_eligible, active, age_restricted, category``). Every bad row is
reported with its line number (up to :data:`MAX_ERRORS`), and one bad row imports nothing.
Writes are bulk statements run at the driver's level (one INSERT and one UPDATE
executemany, and one more UPDATE for rows whose only change is their category), so 100,000
products take a few seconds; a row whose fields did not change keeps its change_seq and
costs the tills nothing.

A file without the ``age_restricted`` column (one written before tills checked ages) leaves
existing products' flag as it is rather than clearing it; new products in it are not
age-restricted. The ``category`` column works the same way: a file without it keeps
existing products' categories. A category is named (any case: "drinks" is the category
"Drinks"); a name HQ does not know yet is created by the import (the preview lists them),
and an empty cell means no category. Categories never reach the tills, so a row whose only
change is its category is written without a new change_seq.
"""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import categories
from hq import models as m
from hq.catalog import _product_from_cells
from hq.sqlutil import allocate_change_seqs, executemany, uuid_param
from sync import protocol as p

MAX_ERRORS = 200
FIELDS = (
    "sku",
    "barcode",
    "name",
    "price_cents",
    "tax_code",
    "cdc_eligible",
    "active",
    "age_restricted",
)
PRODUCTS: Table = m.Product.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str


@dataclass
class CatalogCheck:
    records: list[p.ProductRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    age_column: bool = True
    """False when the file has no ``age_restricted`` column: existing flags are kept."""
    category_column: bool = False
    """True when the file has a ``category`` column; without it categories are kept."""
    categories: list[tuple[str, str] | None] = field(default_factory=list)
    """Beside each record, when the file has the column: its category's name as cleaned
    and its key (None: no category). One shared tuple per distinct cell, not one per row."""
    new_categories: list[str] = field(default_factory=list)
    """Names in the file that HQ has no category for yet: the import creates them."""

    @property
    def ok(self) -> bool:
        return self.error_count == 0 and bool(self.records)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a loop builds 100,000 acyclic objects (the
    collector would scan all of them again and again, for nothing: a third of the parse)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _error(check: CatalogCheck, line: int, message: str) -> None:
    check.error_count += 1
    if len(check.errors) < MAX_ERRORS:
        check.errors.append(RowError(line, message))


CELLS = (
    "sku",
    "barcode",
    "name",
    "price_cents",
    "price",
    "tax_code",
    "cdc_eligible",
    "active",
    "age_restricted",
)
"""The columns :func:`hq.catalog._product_from_cells` takes, in its parameters' order."""


def parse(text: str) -> CatalogCheck:
    """Every row's record, or every row's error (by line number, the header is line 1).

    Rows are read as :class:`csv.DictReader` reads them (blank lines skipped and not
    counted, a short row's missing cells empty, a repeated column's last cell wins), by
    position rather than through a dict per row.
    """
    with _gc_paused():
        return _parse(text)


def _parse(text: str) -> CatalogCheck:
    check = CatalogCheck()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, [])
    columns = set(header)
    if not {"sku", "name"} <= columns or not columns & {"price", "price_cents"}:
        _error(check, 1, "the header needs columns sku, name and price (or price_cents)")
        return check
    check.age_column = "age_restricted" in columns
    check.category_column = "category" in columns
    width = len(header)
    where = {name: i for i, name in enumerate(header)}  # the last of a repeated name
    missing = width  # every row is padded with one more empty cell, for absent columns
    positions = [where.get(name, missing) for name in CELLS]
    category_at = where.get("category", missing)
    pad = [""] * (width + 1)
    cleaned: dict[str, tuple[str, str] | None] = {}
    skus: dict[str, int] = {}
    barcodes: dict[str, int] = {}
    line = 1
    for cells in reader:
        if not cells:
            continue
        line += 1
        if len(cells) > width:
            del cells[width:]  # cells beyond the header are ignored
        cells += pad[len(cells) :]
        try:
            rec = _product_from_cells(*[cells[i].strip() for i in positions])
        except ValidationError as exc:
            bad = ", ".join(str(e["loc"][0]) for e in exc.errors() if e["loc"])
            _error(check, line, f"bad {bad or 'value'}")
            continue
        except ValueError as exc:
            _error(check, line, str(exc) or "bad value")
            continue
        if not rec.name:
            _error(check, line, "empty name")
            continue
        if rec.sku in skus:
            _error(check, line, f"sku {rec.sku!r} already on line {skus[rec.sku]}")
            continue
        if rec.barcode and rec.barcode in barcodes:
            _error(check, line, f"barcode {rec.barcode!r} already on line {barcodes[rec.barcode]}")
            continue
        if check.category_column:
            raw = cells[category_at]
            if raw not in cleaned:
                try:
                    name = categories.clean_name(raw) if raw.strip() else None
                except categories.CategoryError as exc:
                    _error(check, line, f"category: {exc}")
                    continue
                cleaned[raw] = (name, categories.key_of(name)) if name else None
            check.categories.append(cleaned[raw])
        skus[rec.sku] = line
        if rec.barcode:
            barcodes[rec.barcode] = line
        check.records.append(rec)
    if not check.records and not check.error_count:
        _error(check, 2, "the file has no products")
    return check


EXPORT_HEADER = (
    "sku",
    "barcode",
    "name",
    "price",
    "tax_code",
    "cdc_eligible",
    "active",
    "age_restricted",
    "category",
)


def _safe(value: str) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with ``'``."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def export_csv(session: AsyncSession) -> str:
    """Every product in the import's own columns (an export imports back unchanged)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    rows = await session.execute(
        select(
            m.Product.sku,
            m.Product.barcode,
            m.Product.name,
            m.Product.price_cents,
            m.Product.tax_code,
            m.Product.cdc_eligible,
            m.Product.active,
            m.Product.age_restricted,
            m.Category.name.label("category"),
        )
        .outerjoin(m.Category, m.Category.category_id == m.Product.category_id)
        .order_by(m.Product.sku)
    )
    for r in rows:
        writer.writerow(
            (
                _safe(r.sku),
                _safe(r.barcode or ""),
                _safe(r.name),
                f"{r.price_cents // 100}.{r.price_cents % 100:02d}",
                r.tax_code,
                "yes" if r.cdc_eligible else "no",
                "yes" if r.active else "no",
                "yes" if r.age_restricted else "no",
                _safe(r.category or ""),
            )
        )
    return out.getvalue()


@dataclass(slots=True)
class Write:
    """A product the import writes."""

    product_id: UUID
    values: tuple[Any, ...]
    """The :data:`FIELDS`, in that order."""
    new: bool
    """Inserted (else updated)."""
    till: bool
    """Tills must get it: it takes a new change_seq (a category alone does not)."""
    category: int | str | None
    """A category id, None, or the key of a category still to be made."""


async def compare(session: AsyncSession, check: CatalogCheck) -> list[Write]:
    """Fill the preview counts (and barcode clashes with products outside the file, and
    the categories the import would create); return the products to write."""
    width = len(FIELDS)
    existing = {
        r[1]: r
        for r in (
            await session.execute(
                select(
                    m.Product.product_id, *(PRODUCTS.c[f] for f in FIELDS), m.Product.category_id
                )
            )
        ).all()
    }
    known = await categories.ids_by_key(session) if check.category_column else {}
    with _gc_paused():
        return _compare(check, existing, known, width)


def _compare(
    check: CatalogCheck, existing: dict[str, Any], known: dict[str, int], width: int
) -> list[Write]:
    to_make: dict[str, str] = {}
    in_file = {r.sku for r in check.records}
    taken_barcodes = {
        r.barcode: sku for sku, r in existing.items() if r.barcode and sku not in in_file
    }
    lines = {r.sku: i for i, r in enumerate(check.records)}
    fields = attrgetter(*FIELDS)
    writes: list[Write] = []
    check.new = check.changed = check.unchanged = 0
    for i, rec in enumerate(check.records):
        if rec.barcode and rec.barcode in taken_barcodes:
            _error(
                check,
                lines[rec.sku] + 2,
                f"barcode {rec.barcode!r} belongs to {taken_barcodes[rec.barcode]!r}",
            )
            continue
        old = existing.get(rec.sku)
        values: tuple[Any, ...] = fields(rec)
        if old is not None and not check.age_column:
            values = (*values[:-1], old.age_restricted)
        category: int | str | None = old.category_id if old is not None else None
        if check.category_column:
            named = check.categories[i]
            if named is None:
                category = None
            else:
                name, key = named
                category = known.get(key, key)
                if isinstance(category, str):
                    to_make.setdefault(key, name)
        if old is None:
            check.new += 1
            writes.append(Write(rec.product_id, values, True, True, category))
        elif (till := tuple(old[1 : 1 + width]) != values) or old.category_id != category:
            check.changed += 1
            writes.append(Write(old.product_id, values, False, till, category))
        else:
            check.unchanged += 1
    check.new_categories = list(to_make.values())
    return writes


_COLUMNS = (*FIELDS, "category_id", "change_seq")
_INSERT = (
    f"INSERT INTO products (product_id, {', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})"
)
_UPDATE = f"UPDATE products SET {', '.join(f'{c} = ?' for c in _COLUMNS)} WHERE product_id = ?"
_MOVE = "UPDATE products SET category_id = ? WHERE product_id = ?"


async def import_checked(session: AsyncSession, check: CatalogCheck) -> CatalogCheck:
    """Compare and, if every row is good, write them all in the caller's unit of work."""
    writes = await compare(session, check)
    if not check.ok or not writes:
        return check
    if check.new_categories:
        ids = await categories.create_missing(session, check.new_categories)
        for w in writes:
            if isinstance(w.category, str):
                w.category = ids[w.category]
    till = [w for w in writes if w.till]
    seqs = await allocate_change_seqs(session, len(till))
    as_id = uuid_param(session)
    with _gc_paused():
        new = [
            (as_id(w.product_id), *w.values, w.category, s)
            for w, s in zip(till, seqs, strict=True)
            if w.new
        ]
        changed = [
            (*w.values, w.category, s, as_id(w.product_id))
            for w, s in zip(till, seqs, strict=True)
            if not w.new
        ]
        moved = [(w.category, as_id(w.product_id)) for w in writes if not w.till]
    if new:
        await executemany(session, _INSERT, new)
    if changed:
        await executemany(session, _UPDATE, changed)
    if moved:
        await executemany(session, _MOVE, moved)
    return check


async def import_file(session: AsyncSession, path: Path) -> CatalogCheck:
    """Check and import a CSV file in the caller's unit of work (nothing if a row is bad).

    An undecodable file is one error on line 1, like a bad header.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        check = CatalogCheck()
        _error(check, 1, f"not UTF-8 text (byte {exc.start}): save the file as CSV UTF-8")
        return check
    return await import_checked(session, parse(text))
