"""What every report shares: the filter, the admin's outlet scope, and local-time SQL.

Sales are stored with UTC timestamps; a shop's "day" and "hour" are local. PostgreSQL
converts with its time-zone database (``timezone(tz, ts)``); SQLite has none, so the UTC
offset of the zone at the start of the period is applied (exact for Singapore, which has
had no daylight saving since 1982).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVarTuple
from zoneinfo import ZoneInfo

from pydantic import BaseModel, model_validator
from sqlalchemy import Integer, Select, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from hq import models as m
from hq.sqlutil import dialect_name

MAX_DAYS = 366
Ts = TypeVarTuple("Ts")


class ReportQuery(BaseModel):
    """A report's filters: local dates (both inclusive), and optionally one outlet,
    terminal or cashier."""

    date_from: date
    date_to: date
    outlet: str | None = None
    terminal: str | None = None
    cashier: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ReportQuery:
        if self.date_to < self.date_from:
            raise ValueError("'to' is before 'from'")
        if (self.date_to - self.date_from).days >= MAX_DAYS:
            raise ValueError(f"a report covers at most {MAX_DAYS} days")
        return self


@dataclass(frozen=True, slots=True)
class Scope:
    """Where the asker may look: ``outlets`` None means every outlet."""

    tz: ZoneInfo
    outlets: Sequence[str] | None = None


def window(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC bounds [from, to) of local days ``start``..``end`` inclusive."""
    lo = datetime.combine(start, time(), tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), tz).astimezone(UTC)
    return lo, hi


def today(tz: ZoneInfo) -> date:
    return datetime.now(tz).date()


def _sqlite_shift(tz: ZoneInfo, at: date) -> str:
    offset = datetime.combine(at, time(), tz).utcoffset() or timedelta(0)
    return f"{int(offset.total_seconds() // 60):+d} minutes"


def local_day(session: AsyncSession, column: Any, tz: ZoneInfo, at: date) -> ColumnElement[str]:
    """``YYYY-MM-DD`` of ``column`` in the shop's time zone, as text on both dialects."""
    if dialect_name(session) == "postgresql":
        return func.to_char(func.timezone(tz.key, column), "YYYY-MM-DD")
    return func.date(column, _sqlite_shift(tz, at))


def local_hour(session: AsyncSession, column: Any, tz: ZoneInfo, at: date) -> ColumnElement[int]:
    if dialect_name(session) == "postgresql":
        return cast(func.extract("hour", func.timezone(tz.key, column)), Integer)
    return cast(func.strftime("%H", column, _sqlite_shift(tz, at)), Integer)


def scoped_sales(
    stmt: Select[*Ts], query: ReportQuery, scope: Scope, *, time_column: Any = None
) -> Select[*Ts]:
    """Restrict a select over ``sales`` (joined to ``terminals``) to the filter and scope."""
    lo, hi = window(query.date_from, query.date_to, scope.tz)
    column = m.Sale.occurred_at if time_column is None else time_column
    stmt = stmt.join(m.Terminal, m.Terminal.terminal_id == m.Sale.terminal_id).where(
        and_(column >= lo, column < hi)
    )
    return restrict(stmt, query, scope)


def rollup_fits(query: ReportQuery, scope: Scope) -> bool:
    """Whether the period's local days are whole UTC hours, so the hourly rollups
    (:mod:`hq.rollups`) hold exactly its sales (any zone with whole-hour offsets)."""
    return all(
        t.minute == 0 and t.second == 0 and t.microsecond == 0
        for t in window(query.date_from, query.date_to, scope.tz)
    )


def scoped_rollup(
    stmt: Select[*Ts], table: Any, query: ReportQuery, scope: Scope, *, join: bool = True
) -> Select[*Ts]:
    """Restrict a select over a rollup table (``hour``, ``terminal_id`` and, for a cashier
    filter, ``cashier_id``) to the filter and scope, as :func:`scoped_sales` does sales.

    ``join=False`` leaves ``terminals`` out of the statement (a select that needs no
    terminal column): the outlet filters become one ``terminal_id IN (...)`` instead of a
    join per rollup row.
    """
    lo, hi = window(query.date_from, query.date_to, scope.tz)
    cashier = table.c.cashier_id if "cashier_id" in table.c else None
    if query.cashier and cashier is None:
        raise ValueError(f"{table.name} has no cashier to filter by")
    stmt = stmt.where(and_(table.c.hour >= lo, table.c.hour < hi))
    if join:
        stmt = stmt.join(m.Terminal, m.Terminal.terminal_id == table.c.terminal_id)
        return restrict(stmt, query, scope, cashier_column=cashier)
    if scope.outlets is not None or query.outlet:
        tills = restrict(
            select(m.Terminal.terminal_id), query.model_copy(update={"cashier": None}), scope
        )
        stmt = stmt.where(table.c.terminal_id.in_(tills))
    elif query.terminal:
        stmt = stmt.where(table.c.terminal_id == query.terminal)
    if query.cashier and cashier is not None:
        stmt = stmt.where(cashier.in_(_cashier_ids(query.cashier)))
    return stmt


def restrict(
    stmt: Select[*Ts], query: ReportQuery, scope: Scope, *, cashier_column: Any = None
) -> Select[*Ts]:
    """Outlet/terminal/cashier filters; the statement must already join ``terminals``."""
    if scope.outlets is not None:
        stmt = stmt.where(m.Terminal.outlet_code.in_(scope.outlets))
    if query.outlet:
        stmt = stmt.where(m.Terminal.outlet_code == query.outlet)
    if query.terminal:
        stmt = stmt.where(m.Terminal.terminal_id == query.terminal)
    if query.cashier:
        column = m.Sale.cashier_id if cashier_column is None else cashier_column
        stmt = stmt.where(column.in_(_cashier_ids(query.cashier)))
    return stmt


def _cashier_ids(name_or_id: str) -> Select[Any]:
    return select(m.Cashier.cashier_id).where(
        func.lower(m.Cashier.name) == name_or_id.strip().lower()
    )


class Choices(BaseModel):
    """What the filter form offers, within the asker's scope."""

    outlets: list[str]
    terminals: list[str]
    cashiers: list[str]


async def choices(*, session: AsyncSession, scope: Scope) -> Choices:
    terminals = select(m.Terminal.terminal_id, m.Terminal.outlet_code).order_by(
        m.Terminal.terminal_id
    )
    outlets = select(m.Outlet.code).order_by(m.Outlet.code)
    if scope.outlets is not None:
        terminals = terminals.where(m.Terminal.outlet_code.in_(scope.outlets))
        outlets = outlets.where(m.Outlet.code.in_(scope.outlets))
    names = select(m.Cashier.name).order_by(m.Cashier.name)
    return Choices(
        outlets=list((await session.execute(outlets)).scalars()),
        terminals=[r.terminal_id for r in await session.execute(terminals)],
        cashiers=list((await session.execute(names)).scalars()),
    )


def money(cents: int) -> str:
    """``1234567`` -> ``12,345.67`` (no currency sign: for CSV and tables)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100:,}.{abs(cents) % 100:02d}"
