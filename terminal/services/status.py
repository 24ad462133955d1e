"""What the till has sold and how sync stands, for `kedai-till status` and the UI."""

from __future__ import annotations

from sqlalchemy import func, select

from terminal.db.engine import Database
from terminal.db.models import Sale, StoreSettings, SyncState
from terminal.services.errors import NotInitialisedError
from terminal.services.outbox import count_outbox
from terminal.services.schemas import TillStatus
from terminal.services.uow import reading


async def till_status(db: Database) -> TillStatus:
    """One read unit of work; three small queries."""
    async with reading(db) as s:
        store = (
            await s.execute(select(StoreSettings.outlet_code, StoreSettings.terminal_code))
        ).first()
        if store is None:
            raise NotInitialisedError("This till has no store settings: run `kedai-till init`.")
        sales = (
            await s.execute(select(func.count(), func.coalesce(func.sum(Sale.total_cents), 0)))
        ).one()
        outbox = await count_outbox(s)
        sync = (await s.execute(select(SyncState))).scalar_one()
    return TillStatus(
        db_path=str(db.path),
        outlet_code=store.outlet_code,
        terminal_code=store.terminal_code,
        sales_count=sales[0],
        sales_total_cents=sales[1],
        outbox_pending=outbox.pending,
        outbox_rejected=outbox.rejected,
        outbox_sent=outbox.sent,
        last_push_ok_at=sync.last_push_ok_at,
        last_pull_ok_at=sync.last_pull_ok_at,
        last_error=sync.last_error,
        hq_url=sync.hq_url,
        enrolled=bool(sync.token),
        change_cursor=sync.change_cursor,
        acked_seq=sync.acked_seq,
    )
