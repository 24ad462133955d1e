"""Product categories at head office: made, renamed and deactivated by owners (audited),
chosen on the product form, named in the catalog CSV, and the rows of the top-categories
report. Tills never see them.

A name is unique whatever its case ("Drinks" and "DRINKS" are one category): the store
keeps the casefolded name in a unique column, so two owners (or two imports) making the
same category at once cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.auth import audit
from hq.sqlutil import insert

MAX_NAME = 100
UNCATEGORISED = "Uncategorised"
"""How reports name products without a category (not a name a category may take)."""


class CategoryError(ValueError):
    """A request the admin can fix."""


class CategoryView(BaseModel):
    category_id: int
    name: str
    active: bool
    products: int
    """Products in it (active or not); 0 when not counted."""


def clean_name(text: str) -> str:
    """A category's name as kept: inner runs of spaces made one, trimmed; refused when
    empty, too long, holding control characters or taken by the reports' own label."""
    name = " ".join(text.split())
    if not name:
        raise CategoryError("a category needs a name")
    if len(name) > MAX_NAME:
        raise CategoryError(f"a category name is at most {MAX_NAME} characters")
    if not name.isprintable():
        raise CategoryError("the name holds control characters: use plain words")
    if key_of(name) == key_of(UNCATEGORISED):
        raise CategoryError(f"{UNCATEGORISED!r} is what reports call products without one")
    return name


def key_of(name: str) -> str:
    return name.casefold()[:MAX_NAME]


async def list_categories(session: AsyncSession, *, with_counts: bool = True) -> list[CategoryView]:
    """Every category by name; ``with_counts=False`` skips counting products (a product
    page needs only the names, and a catalog may hold 100,000 products)."""
    counts: dict[int | None, int] = {}
    if with_counts:
        result = await session.execute(
            select(m.Product.category_id, func.count())
            .where(m.Product.category_id.is_not(None))
            .group_by(m.Product.category_id)
        )
        counts = dict(result.all())
    rows = await session.execute(select(m.Category).order_by(m.Category.name_key))
    return [
        CategoryView(
            category_id=c.category_id,
            name=c.name,
            active=c.active,
            products=int(counts.get(c.category_id, 0)),
        )
        for c in rows.scalars()
    ]


async def _taken(session: AsyncSession, name: str, *, other_than: int | None = None) -> None:
    stmt = select(m.Category.name).where(m.Category.name_key == key_of(name))
    if other_than is not None:
        stmt = stmt.where(m.Category.category_id != other_than)
    if (found := (await session.execute(stmt)).scalar_one_or_none()) is not None:
        raise CategoryError(f"there is already a category {found!r}")


async def create_category(session: AsyncSession, *, name: str, actor: str) -> CategoryView:
    clean = clean_name(name)
    await _taken(session, clean)
    # ON CONFLICT: an owner making the same name at the same moment is told so, not a 500.
    table = m.Category.__table__
    made = (
        await session.execute(
            insert(session, table)
            .values(name=clean, name_key=key_of(clean), active=True)
            .on_conflict_do_nothing()
            .returning(table.c.category_id)
        )
    ).scalar_one_or_none()
    if made is None:
        raise CategoryError(f"there is already a category {clean!r}")
    await audit.record(session=session, username=actor, action="category.create", target=clean)
    return CategoryView(category_id=int(made), name=clean, active=True, products=0)


async def _get(session: AsyncSession, category_id: int) -> m.Category:
    row = await session.get(m.Category, category_id, with_for_update=True)
    if row is None:
        raise CategoryError("no such category")
    return row


async def rename_category(
    session: AsyncSession, *, category_id: int, name: str, actor: str
) -> None:
    row = await _get(session, category_id)
    clean = clean_name(name)
    await _taken(session, clean, other_than=category_id)
    old = row.name
    row.name, row.name_key = clean, key_of(clean)
    await session.flush()
    await audit.record(
        session=session,
        username=actor,
        action="category.rename",
        target=clean,
        detail=f"was {old!r}",
    )


async def set_active(session: AsyncSession, *, category_id: int, active: bool, actor: str) -> None:
    """Deactivate (products keep it; the product form no longer offers it) or reactivate."""
    row = await _get(session, category_id)
    if row.active == active:
        return
    row.active = active
    await session.flush()
    await audit.record(
        session=session,
        username=actor,
        action="category.reactivate" if active else "category.deactivate",
        target=row.name,
    )


async def check_id(session: AsyncSession, category_id: int | None) -> None:
    """Refuse a category id the store does not hold (None, no category, is fine)."""
    if category_id is not None and await session.get(m.Category, category_id) is None:
        raise CategoryError("no such category")


async def ids_by_key(session: AsyncSession) -> dict[str, int]:
    """Every category's id by its casefolded name (a chain has tens, not thousands)."""
    rows = await session.execute(select(m.Category.name_key, m.Category.category_id))
    return dict(rows.all())


async def create_missing(session: AsyncSession, names: Iterable[str]) -> dict[str, int]:
    """Make the categories named (as spelt in the first row naming each) that do not
    exist yet, in one statement; every category's id by key afterwards."""
    known = await ids_by_key(session)
    new = {key_of(n): n for n in names if key_of(n) not in known}
    if new:
        await session.execute(
            insert(session, m.Category.__table__).on_conflict_do_nothing(),
            [{"name": n, "name_key": k, "active": True} for k, n in new.items()],
        )
        known = await ids_by_key(session)
    return known
