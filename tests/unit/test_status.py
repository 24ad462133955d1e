"""`till_status`: what the till has sold and how its outbox stands."""

from __future__ import annotations

from sqlalchemy import text

from terminal.services.checkout import finalize_sale
from terminal.services.status import till_status
from tests.unit.test_checkout import request


async def test_status_counts_sales_and_outbox_by_state(till_db):
    for _ in range(3):
        await finalize_sale(till_db, request())
    async with till_db.writer() as s, s.begin():
        await s.execute(text("UPDATE outbox SET status = 'sent' WHERE seq = 1"))
        await s.execute(text("UPDATE outbox SET status = 'rejected', reason = 'x' WHERE seq = 2"))
    st = await till_status(till_db)
    assert (st.sales_count, st.sales_total_cents) == (3, 3 * 660)
    assert (st.outbox_pending, st.outbox_sent, st.outbox_rejected) == (1, 1, 1)
    assert (st.outlet_code, st.terminal_code, st.enrolled, st.hq_url) == (
        "DEMO",
        "T01",
        False,
        None,
    )
