"""Store settings and tenders at HQ: the store's name, address and GST registration,
effective-dated GST rates, loyalty earn and redeem rates, and which tenders the tills
take. Each change stamps a fresh change_seq (the tills pull it) and is audited.

GST rates are effective-dated: a rate is added from a date on and never rewritten, so a
till prices every sale at the rate of its own day, offline too.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import fields
from hq import models as m
from hq.auth import audit
from hq.changes import settings_record, tender_record
from hq.sqlutil import allocate_change_seqs
from sync import protocol as p


class SettingsError(ValueError):
    """A request the admin can fix."""


async def current(session: AsyncSession) -> p.SettingsRecord | None:
    row = await session.get(m.StoreSettings, 1)
    return settings_record(row) if row else None


async def _row(session: AsyncSession) -> m.StoreSettings:
    row = await session.get(m.StoreSettings, 1, with_for_update=True)
    if row is None:
        raise SettingsError("HQ has no store settings yet (seed or import them first)")
    return row


async def save_store(
    session: AsyncSession,
    *,
    store_name: str,
    address: str,
    gst_reg_no: str,
    cents_per_point: int,
    point_value_cents: int,
    actor: str,
) -> None:
    if not store_name.strip() or len(store_name) > 200:
        raise SettingsError("a store name has 1 to 200 characters")
    if len(address) > 2000:
        raise SettingsError("the address is too long (2,000 characters at most)")
    try:
        reg = fields.gst_reg_no(gst_reg_no)
    except fields.FieldError as exc:
        raise SettingsError(str(exc)) from None
    if not 0 < cents_per_point <= 1_000_000 or not 0 < point_value_cents <= 100_000:
        raise SettingsError("loyalty rates are whole numbers of cents above zero")
    row = await _row(session)
    row.store_name = store_name.strip()
    row.address = address.strip()
    row.gst_reg_no = reg or ""
    row.loyalty_cents_per_point_earned = cents_per_point
    row.loyalty_point_value_cents = point_value_cents
    (row.change_seq,) = await allocate_change_seqs(session, 1)
    await audit.record(
        session=session,
        username=actor,
        action="settings.store",
        target="settings",
        detail=f"earn 1 point per {cents_per_point} cents; 1 point = {point_value_cents} cents",
    )


async def add_gst_rate(
    session: AsyncSession, *, effective_from: date, rate_bp: int, actor: str, today: date
) -> None:
    """Add a GST rate from a future date (rates in force are never rewritten)."""
    if effective_from <= today:
        raise SettingsError("a new GST rate starts after today")
    if not 0 <= rate_bp <= 10_000:
        raise SettingsError("a GST rate is 0 to 100%")
    row = await _row(session)
    rates = [r for r in row.gst_rates if r["effective_from"] != effective_from.isoformat()]
    rates.append({"effective_from": effective_from.isoformat(), "rate_bp": rate_bp})
    row.gst_rates = sorted(rates, key=lambda r: str(r["effective_from"]))
    (row.change_seq,) = await allocate_change_seqs(session, 1)
    await audit.record(
        session=session,
        username=actor,
        action="settings.gst_rate",
        target="settings",
        detail=f"{rate_bp} bp from {effective_from.isoformat()}",
    )


async def tenders(session: AsyncSession) -> list[p.TenderRecord]:
    rows = await session.execute(select(m.Tender).order_by(m.Tender.sort_order, m.Tender.code))
    return [tender_record(t) for t in rows.scalars()]


async def refusals(session: AsyncSession) -> dict[str, set[str]]:
    """For each tender code, the outlets that do not take it."""
    found: dict[str, set[str]] = {}
    for outlet, tender in await session.execute(
        select(m.OutletTenderRefused.outlet_code, m.OutletTenderRefused.tender_code)
    ):
        found.setdefault(tender, set()).add(outlet)
    return found


async def set_tender(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    active: bool,
    sort_order: int,
    actor: str,
    refused_at: Collection[str] | None = None,
) -> None:
    """Save a tender. ``refused_at``: the outlets that do not take it (None: unchanged).
    The tender moves to a fresh change_seq, so every till hears of it again, each as its
    own outlet sees it."""
    row = await session.get(m.Tender, code, with_for_update=True)
    if row is None:
        raise SettingsError(f"no tender {code!r}")
    if not name.strip() or len(name) > 100 or not 0 <= sort_order <= 1000:
        raise SettingsError("a tender needs a name (up to 100 characters) and order 0 to 1000")
    before = (await refusals(session)).get(code, set())
    refused = before if refused_at is None else set(refused_at)
    if refused != before:
        outlets = set((await session.execute(select(m.Outlet.code))).scalars())
        unknown = sorted(refused - outlets)
        if unknown:
            raise SettingsError(f"no outlet {unknown[0]!r}")
    if (row.name, row.active, row.sort_order, refused) == (
        name.strip(),
        active,
        sort_order,
        before,
    ):
        return
    row.name, row.active, row.sort_order = name.strip(), active, sort_order
    if refused != before:
        await session.execute(
            delete(m.OutletTenderRefused).where(m.OutletTenderRefused.tender_code == code)
        )
        session.add_all(
            m.OutletTenderRefused(outlet_code=o, tender_code=code) for o in sorted(refused)
        )
    (row.change_seq,) = await allocate_change_seqs(session, 1)
    detail = f"{'active' if active else 'inactive'}, order {sort_order}"
    if refused:
        detail += f", not at {', '.join(sorted(refused))}"
    await audit.record(
        session=session, username=actor, action="tender.edit", target=code, detail=detail
    )
