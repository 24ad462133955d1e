"""The change feed tills pull: latest state of every entity changed after a cursor.

Each master-data row carries the ``change_seq`` of its latest change, so a page is "rows
with change_seq > since, in change_seq order". An entity that changes again simply moves
to a higher seq and is seen again; nothing is ever paged by timestamp.

The feed is scoped to the asking till's outlet: products, tenders and settings are
chain-wide; cashiers are the outlet's own (plus those of every outlet); customers carry
name, phone and balance only (never email or address). A cashier reassigned away from an
outlet reaches that outlet's tills as a removal (:class:`~hq.models.FeedRemoval`), so a
till never keeps another outlet's PIN hashes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.prices import PriceRow, price_rows, steps_for
from sync import protocol as p


async def read_changes(
    *, session: AsyncSession, since: int, limit: int, outlet_code: str
) -> p.ChangePage:
    """Up to ``limit`` changes with seq > ``since`` that a till of ``outlet_code`` may
    hold; ``more`` says whether to ask again.

    Each table is asked for ``limit + 1`` rows: if the merged list is longer than
    ``limit``, some table holds more.
    """
    changes: list[Any] = []
    products = list(
        (
            await session.execute(
                select(m.Product)
                .where(m.Product.change_seq > since)
                .order_by(m.Product.change_seq)
                .limit(limit + 1)
            )
        ).scalars()
    )
    scheduled = await price_rows(session, [r.product_id for r in products], outlet_code)
    now = datetime.now(UTC)
    changes.extend(
        _product_change(r, scheduled.get(r.product_id, []), outlet_code, now) for r in products
    )
    for model in (m.Customer, m.Cashier, m.Tender, m.StoreSettings):
        query = select(model).where(model.change_seq > since)
        if model is m.Cashier:
            query = query.where(
                or_(m.Cashier.outlet_code.is_(None), m.Cashier.outlet_code == outlet_code)
            )
        rows = (await session.execute(query.order_by(model.change_seq).limit(limit + 1))).scalars()
        changes.extend(_change(row) for row in rows)
    removals = (
        await session.execute(
            select(m.FeedRemoval)
            .where(
                m.FeedRemoval.change_seq > since,
                m.FeedRemoval.kind == "cashier",
                or_(m.FeedRemoval.outlet_code.is_(None), m.FeedRemoval.outlet_code == outlet_code),
            )
            .order_by(m.FeedRemoval.change_seq)
            .limit(limit + 1)
        )
    ).scalars()
    changes.extend(
        p.CashierRemovedChange(seq=r.change_seq, data=p.CashierRemoval(cashier_id=uuid.UUID(r.key)))
        for r in removals
    )
    changes.sort(key=lambda c: c.seq)
    page, more = changes[:limit], len(changes) > limit
    return p.ChangePage(changes=page, next=page[-1].seq if page else since, more=more)


def _product_change(
    row: m.Product, scheduled: list[PriceRow], outlet_code: str, now: datetime
) -> p.ProductChange:
    current, steps = steps_for(row.price_cents, scheduled, outlet_code, now)
    record = product_record(row).model_copy(update={"price_cents": current, "prices": steps})
    return p.ProductChange(seq=row.change_seq, data=record)


def _change(row: m.Base) -> Any:
    if isinstance(row, m.Customer):
        return p.CustomerChange(seq=row.change_seq, data=customer_record(row))
    if isinstance(row, m.Cashier):
        return p.CashierChange(
            seq=row.change_seq,
            data=p.CashierRecord(
                cashier_id=row.cashier_id,
                name=row.name,
                role=row.role,  # type: ignore[arg-type]
                pin_hash=row.pin_hash,
                active=row.active,
            ),
        )
    if isinstance(row, m.Tender):
        return p.TenderChange(
            seq=row.change_seq,
            data=p.TenderRecord(
                code=row.code,
                name=row.name,
                kind=row.kind,  # type: ignore[arg-type]
                active=row.active,
                sort_order=row.sort_order,
            ),
        )
    if isinstance(row, m.StoreSettings):
        return p.SettingsChange(seq=row.change_seq, data=settings_record(row))
    raise AssertionError(type(row).__name__)


def product_record(row: m.Product) -> p.ProductRecord:
    return p.ProductRecord(
        product_id=row.product_id,
        sku=row.sku,
        barcode=row.barcode,
        name=row.name,
        price_cents=row.price_cents,
        tax_code=row.tax_code,  # type: ignore[arg-type]
        cdc_eligible=row.cdc_eligible,
        active=row.active,
    )


def customer_record(row: m.Customer) -> p.CustomerRecord:
    return p.CustomerRecord(
        customer_id=row.customer_id,
        name=row.name,
        phone=row.phone,
        email=None,  # a till needs name, phone and balance; email stays at HQ
        loyalty_balance=row.loyalty_balance,
    )


def settings_record(row: m.StoreSettings) -> p.SettingsRecord:
    return p.SettingsRecord(
        store_name=row.store_name,
        address=row.address,
        gst_reg_no=row.gst_reg_no,
        gst_rates=[
            p.GstRate(effective_from=date.fromisoformat(r["effective_from"]), rate_bp=r["rate_bp"])
            for r in row.gst_rates
        ],
        loyalty_cents_per_point_earned=row.loyalty_cents_per_point_earned,
        loyalty_point_value_cents=row.loyalty_point_value_cents,
        approval_limits=p.ApprovalLimits.model_validate(row.approval_limits or {}),
    )
