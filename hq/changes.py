"""The change feed tills pull: latest state of every entity changed after a cursor.

Each master-data row carries the ``change_seq`` of its latest change, so a page is "rows
with change_seq > since, in change_seq order". An entity that changes again simply moves
to a higher seq and is seen again; nothing is ever paged by timestamp.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from sync import protocol as p

log = logging.getLogger(__name__)

DEFAULT_PAGE_MAX_BYTES = 1024 * 1024


async def read_changes(
    *, session: AsyncSession, since: int, limit: int, max_bytes: int = DEFAULT_PAGE_MAX_BYTES
) -> p.ChangePage:
    """Up to ``limit`` changes with seq > ``since``; ``more`` says whether to ask again.

    Each table is asked for ``limit + 1`` rows: if the merged list is longer than
    ``limit``, some table holds more. A page also stops before ``max_bytes`` of JSON
    (it always holds at least one change), so no page is larger than a till can take.
    A row that does not fit the wire record (data written before the wire bounds, or
    by hand) is logged and left out rather than failing the feed for every till.
    """
    rows: list[tuple[int, Any]] = []
    for model in (m.Product, m.Customer, m.Cashier, m.Tender, m.StoreSettings):
        found = (
            await session.execute(
                select(model)
                .where(model.change_seq > since)
                .order_by(model.change_seq)
                .limit(limit + 1)
            )
        ).scalars()
        rows.extend((row.change_seq, row) for row in cast(list[Any], found.all()))
    rows.sort(key=lambda r: r[0])
    page: list[Any] = []
    size, last, more = 0, since, len(rows) > limit
    for seq, row in rows[:limit]:
        try:
            change = _change(row)
        except ValidationError as exc:
            log.error("change feed: %s seq %d left out: %s", type(row).__name__, seq, exc)
            last = seq
            continue
        cost = len(change.model_dump_json()) + 1
        if page and size + cost > max_bytes:
            more = True
            break
        page.append(change)
        size += cost
        last = seq
    return p.ChangePage(changes=page, next=last, more=more)


def _change(row: m.Base) -> Any:
    if isinstance(row, m.Product):
        return p.ProductChange(seq=row.change_seq, data=product_record(row))
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
        email=row.email,
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


async def feed_head(*, session: AsyncSession) -> int:
    """The newest change seq HQ has handed out (0 before the first change)."""
    value = await session.scalar(select(m.Counter.value).where(m.Counter.name == "change_seq"))
    return int(value or 0)
