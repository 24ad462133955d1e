"""The change feed tills pull: latest state of every entity changed after a cursor.

Each master-data row carries the ``change_seq`` of its latest change, so a page is "rows
with change_seq > since, in change_seq order". An entity that changes again simply moves
to a higher seq and is seen again; nothing is ever paged by timestamp.

The feed is scoped to the asking till's outlet: products and settings are chain-wide;
tenders too, but one the outlet does not take reaches its tills as inactive; cashiers are
the outlet's own (plus those of every outlet); customers carry name, phone and balance
only (never email or address). A cashier reassigned away from an outlet reaches that
outlet's tills as a removal (:class:`~hq.models.FeedRemoval`), so a till never keeps
another outlet's PIN hashes. A member merged into another is sent marked "(merged)",
without a phone and with a zero balance.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Row, Table, bindparam, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.prices import PRICES, PriceRow, price_rows, steps_for
from sync import protocol as p

log = logging.getLogger(__name__)

DEFAULT_PAGE_MAX_BYTES = 1024 * 1024
PRODUCTS = cast(Table, m.Product.__table__)


async def read_changes(
    *,
    session: AsyncSession,
    since: int,
    limit: int,
    outlet_code: str,
    max_bytes: int = DEFAULT_PAGE_MAX_BYTES,
) -> p.ChangePage:
    """Up to ``limit`` changes with seq > ``since`` that a till of ``outlet_code`` may
    hold; ``more`` says whether to ask again.

    Each table is asked for ``limit + 1`` rows: if the merged list is longer than
    ``limit``, some table holds more. A page also stops before ``max_bytes`` of JSON
    (it always holds at least one change), so no page is larger than a till can take.
    A row that does not fit the wire record (data written before the wire bounds, or
    by hand) is logged and left out rather than failing the feed for every till.
    """
    page = await _read_page(
        session=session,
        since=since,
        limit=limit,
        outlet_code=outlet_code,
        max_bytes=max_bytes,
        keep=True,
    )
    return p.ChangePage(changes=page.changes, next=page.next, more=page.more)


async def read_changes_json(
    *,
    session: AsyncSession,
    since: int,
    limit: int,
    outlet_code: str,
    contiguous_seq: int | None,
    max_bytes: int = DEFAULT_PAGE_MAX_BYTES,
) -> str:
    """:func:`read_changes` with the terminal's ``contiguous_seq`` and the feed's head,
    as the JSON of its :class:`~sync.protocol.ChangePage` (the same text
    ``model_dump_json`` gives), assembled from each change's JSON, made once while
    sizing the page rather than again for the whole page.

    Only those texts are kept, not the changes: a new till asks for 200 such pages in a
    row, and 500 models kept alive per page are what the garbage collector's passes over
    the whole process kept finding (a fifth of HQ's CPU in such a pull, measured).
    """
    page = await _read_page(
        session=session,
        since=since,
        limit=limit,
        outlet_code=outlet_code,
        max_bytes=max_bytes,
        keep=not _ASSEMBLED,
    )
    whole = p.ChangePage(
        changes=page.changes,
        next=page.next,
        more=page.more,
        contiguous_seq=contiguous_seq,
        head=page.head,
    )
    if not _ASSEMBLED:  # the page's shape changed: serialise it whole
        return whole.model_dump_json()
    rest = whole.model_dump_json()
    return '{"changes":[' + ",".join(page.texts) + "]" + rest[len(_EMPTY_CHANGES) :]


_EMPTY_CHANGES = '{"changes":[]'
_ASSEMBLED = (
    p.ChangePage(changes=[], next=0, more=False).model_dump_json().startswith(_EMPTY_CHANGES)
)
"""A page is its changes' texts spliced into the JSON of the page without them, while
that JSON starts with the (empty) list of changes."""


class _Page:
    """A page's changes (when kept), each one's JSON, the cursor, whether more follows
    and the feed's head."""

    __slots__ = ("changes", "head", "more", "next", "texts")

    def __init__(
        self, changes: list[Any], texts: list[str], next: int, more: bool, head: int
    ) -> None:
        self.changes, self.texts, self.head = changes, texts, head
        self.next, self.more = next, more


_PRODUCTS_AFTER = (
    # Plain rows, not ORM objects: the feed only reads them, 500 at a time. Each says
    # whether its product has scheduled prices the outlet sees: only those are read
    # (during a catalog pull, usually none), never an IN list of the whole page's ids.
    select(
        PRODUCTS.c.change_seq,
        PRODUCTS.c.product_id,
        PRODUCTS.c.sku,
        PRODUCTS.c.barcode,
        PRODUCTS.c.name,
        PRODUCTS.c.price_cents,
        PRODUCTS.c.tax_code,
        PRODUCTS.c.cdc_eligible,
        PRODUCTS.c.active,
        PRODUCTS.c.age_restricted,
        exists()
        .where(
            PRICES.c.product_id == PRODUCTS.c.product_id,
            or_(PRICES.c.outlet_code.is_(None), PRICES.c.outlet_code == bindparam("outlet")),
        )
        .label("priced"),
    )
    .where(PRODUCTS.c.change_seq > bindparam("since"))
    .order_by(PRODUCTS.c.change_seq)
    .limit(bindparam("rows"))
)
"""Built once, as :data:`_PROBE`: not built and keyed for SQLAlchemy's cache again for
every page."""
_OTHERS = (m.Customer, m.Cashier, m.Tender, m.StoreSettings, m.FeedRemoval)
_PROBE = select(
    # One round trip says which of the smaller tables hold changes at all (during a
    # catalog pull, none), and the feed's head: only those tables are asked for rows.
    *(exists().where(model.change_seq > bindparam("since")) for model in _OTHERS),
    select(m.Counter.value).where(m.Counter.name == "change_seq").scalar_subquery(),
)


async def _read_page(
    *,
    session: AsyncSession,
    since: int,
    limit: int,
    outlet_code: str,
    max_bytes: int,
    keep: bool,
) -> _Page:
    products: Sequence[Any] = (
        await session.execute(
            _PRODUCTS_AFTER, {"since": since, "rows": limit + 1, "outlet": outlet_code}
        )
    ).all()
    priced = [r.product_id for r in products if r.priced]
    scheduled = await price_rows(session, priced, outlet_code) if priced else {}
    *probed, head = (await session.execute(_PROBE, {"since": since})).one()
    changed = dict(zip(_OTHERS, probed, strict=True))
    rows: Sequence[Any] = products  # in change_seq order: alone, they need no merging
    if any(changed.values()):
        rows = await _with_others(session, list(products), since, limit, outlet_code, changed)
    page: list[Any] = []
    texts: list[str] = []
    now = datetime.now(UTC)
    size, last, more = 0, since, len(rows) > limit
    for row in rows[:limit]:
        try:
            change = _feed_change(row, scheduled, outlet_code, now)
        except ValidationError as exc:
            log.error("change feed: %s seq %d left out: %s", _kind(row), row.change_seq, exc)
            last = row.change_seq
            continue
        text = change.model_dump_json()
        cost = len(text) + 1
        if texts and size + cost > max_bytes:
            more = True
            break
        if keep:
            page.append(change)
        texts.append(text)
        size += cost
        last = row.change_seq
    return _Page(page, texts, last, more, int(head or 0))


async def _with_others(
    session: AsyncSession,
    rows: list[Any],
    since: int,
    limit: int,
    outlet_code: str,
    changed: dict[type[m.Base], bool],
) -> list[Any]:
    """``rows`` (products) merged in change_seq order with the changed rows of the other
    tables a till of ``outlet_code`` may hold, up to ``limit + 1`` of each."""
    for model in (m.Customer, m.Cashier, m.Tender, m.StoreSettings):
        if not changed[model]:
            continue
        query = select(model).where(model.change_seq > since)
        if model is m.Cashier:
            query = query.where(
                or_(m.Cashier.outlet_code.is_(None), m.Cashier.outlet_code == outlet_code)
            )
        found = (await session.execute(query.order_by(model.change_seq).limit(limit + 1))).scalars()
        rows.extend(cast(list[Any], found.all()))
    if any(isinstance(row, m.Tender) for row in rows):
        refused = await refused_tenders(session, outlet_code)
        rows = [
            _TenderRow(row, row.code not in refused) if isinstance(row, m.Tender) else row
            for row in rows
        ]
    if changed[m.FeedRemoval]:
        removals = (
            await session.execute(
                select(m.FeedRemoval)
                .where(
                    m.FeedRemoval.change_seq > since,
                    m.FeedRemoval.kind == "cashier",
                    or_(
                        m.FeedRemoval.outlet_code.is_(None),
                        m.FeedRemoval.outlet_code == outlet_code,
                    ),
                )
                .order_by(m.FeedRemoval.change_seq)
                .limit(limit + 1)
            )
        ).scalars()
        rows.extend(removals)
    rows.sort(key=lambda row: int(row.change_seq))
    return rows


def _kind(row: Any) -> str:
    """The name a left-out row is logged under (its model's, as before)."""
    if isinstance(row, Row):
        return "Product"
    if isinstance(row, _TenderRow):
        return "Tender"
    return type(row).__name__


class _TenderRow:
    """A tender row and whether the asking till's outlet takes it."""

    __slots__ = ("change_seq", "row", "taken_here")

    def __init__(self, row: m.Tender, taken_here: bool) -> None:
        self.row, self.taken_here, self.change_seq = row, taken_here, row.change_seq


async def refused_tenders(session: AsyncSession, outlet_code: str) -> set[str]:
    """The codes of the tenders ``outlet_code`` does not take (though the chain may)."""
    found = await session.execute(
        select(m.OutletTenderRefused.tender_code).where(
            m.OutletTenderRefused.outlet_code == outlet_code
        )
    )
    return set(found.scalars())


def tender_record(row: m.Tender, *, taken_here: bool = True) -> p.TenderRecord:
    return p.TenderRecord(
        code=row.code,
        name=row.name,
        kind=row.kind,  # type: ignore[arg-type]
        active=row.active and taken_here,
        sort_order=row.sort_order,
    )


def _feed_change(
    row: Any, scheduled: dict[uuid.UUID, list[PriceRow]], outlet_code: str, now: datetime
) -> Any:
    if isinstance(row, Row):  # a product (asked first: most rows are)
        return _product_change(row, scheduled, outlet_code, now)
    if isinstance(row, _TenderRow):
        return p.TenderChange(
            seq=row.row.change_seq, data=tender_record(row.row, taken_here=row.taken_here)
        )
    if isinstance(row, m.FeedRemoval):
        return p.CashierRemovedChange(
            seq=row.change_seq, data=p.CashierRemoval(cashier_id=uuid.UUID(row.key))
        )
    return _change(row)


def _product_change(
    row: Any, scheduled: dict[uuid.UUID, list[PriceRow]], outlet_code: str, now: datetime
) -> p.ProductChange:
    """A product row (of :data:`_PRODUCTS_AFTER`) as its change, with the price steps
    ``outlet_code`` sees."""
    seq, product_id, sku, barcode, name, price_cents, tax_code, cdc, active, age, priced = row
    if priced and product_id in scheduled:
        current, steps = steps_for(price_cents, scheduled[product_id], outlet_code, now)
    else:  # what steps_for gives without a scheduled price, without working it out
        current, steps = price_cents, []
    # One validation of the whole change (record included), as strict as the models'.
    return p.ProductChange.model_validate(
        {
            "seq": seq,
            "data": {
                "product_id": product_id,
                "sku": sku,
                "barcode": barcode,
                "name": name,
                "price_cents": current,
                "tax_code": tax_code,
                "cdc_eligible": cdc,
                "active": active,
                "prices": steps,
                "age_restricted": age,
            },
        }
    )


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
    if isinstance(row, m.StoreSettings):
        return p.SettingsChange(seq=row.change_seq, data=settings_record(row))
    raise AssertionError(type(row).__name__)


MERGED_PREFIX = "(merged) "


def customer_record(row: m.Customer) -> p.CustomerRecord:
    """A member merged into another reaches the tills without a phone (a phone search no
    longer finds it), its name marked "(merged)" and its balance (zero once merged): the
    wire has no "inactive" for members, and points a till still gives it land on the
    member it was merged into (:mod:`hq.ingest`)."""
    merged = row.merged_into is not None
    return p.CustomerRecord(
        customer_id=row.customer_id,
        name=(MERGED_PREFIX + row.name)[:200] if merged else row.name,
        phone=None if merged else row.phone,
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


async def feed_head(*, session: AsyncSession) -> int:
    """The newest change seq HQ has handed out (0 before the first change)."""
    value = await session.scalar(select(m.Counter.value).where(m.Counter.name == "change_seq"))
    return int(value or 0)


async def advance_feed_past_clock(*, session: AsyncSession, now: datetime) -> int:
    """Move the change sequence past the wall clock (in microseconds) as HQ starts.

    A till keeps a cursor into this feed. If HQ is restored from a backup its counter
    goes back, and changes made after the restore would reuse seqs a till has already
    passed, so the till would never see them (a member's balance, a price). Starting
    each run of HQ past the clock means every seq handed out after a restart is higher
    than any handed out before it, restored or not. Returns the counter's value.
    """
    floor = int(now.timestamp() * 1_000_000)
    value = await session.scalar(select(m.Counter.value).where(m.Counter.name == "change_seq"))
    if value is not None and value < floor:
        await session.execute(
            update(m.Counter).where(m.Counter.name == "change_seq").values(value=floor)
        )
        return floor
    return int(value or 0)
