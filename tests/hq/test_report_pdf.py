"""GST F5 and reconciliation as PDFs, on the real HQ app in-process (httpx over ASGI, a
real SQLite file): the figures printed are the test's own sums.

The PDFs' content streams are uncompressed, so each printed figure is searched for as
text inside the PDF's bytes (as ``(... 12.34) Tj`` operands).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from hq import manage
from hq.app import create_app
from hq.config import Settings
from tests.events import push_body
from tests.hq.test_reports_auth import ACCOUNTANT, OWNER, PASSWORD, audit_actions, client, log_in
from tests.hq.test_reports_figures import gst_in, line, pay, refund, sale, shift_closed


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    manage.create_admin_sync(url, username=OWNER, password=PASSWORD)
    manage.create_admin_sync(url, username=ACCOUNTANT, password=PASSWORD, role="accountant")
    manage.seed_demo_sync(url)
    return url


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(Settings(database_url=db_url, secret_key="t" * 32))
    async with application.router.lifespan_context(application):
        yield application


def plain(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def texts(pdf: bytes) -> list[str]:
    """The strings the PDF draws (``(...) Tj`` operands), unescaped."""
    found = re.findall(rb"\(((?:[^()\\]|\\.)*)\) ?Tj", pdf)
    return [re.sub(rb"\\(.)", rb"\1", s).decode("latin-1") for s in found]


async def test_gst_f5_and_reconciliation_pdfs_print_the_tests_own_sums(
    app: FastAPI, db_url: str
) -> None:
    enrolled = await asyncio.to_thread(
        manage.enroll_terminal_sync, db_url, outlet="AMK", terminal="T01"
    )
    tid = enrolled.terminal_id
    shift = uuid.uuid4()
    a_id, a = sale(tid, 1, [line(1, "X", 2, 1250, "SR"), line(2, "Z", 1, 380, "ZR")],
                   [pay("cash", 2880, 3000)], change=120)  # fmt: skip
    _, b = sale(tid, 2, [line(1, "E", 1, 700, "ES"), line(2, "Y", 3, 333, "SR")],
                [pay("nets", 1699)])  # fmt: skip
    r = refund(tid, 3, a_id, [line(1, "X", 1, 1250, "SR")], [pay("cash", 1250)])
    for ev in (a, b):  # the refund is made outside the shift
        ev["payload"]["shift_id"] = str(shift)
    # the till claims a third sale of 5.00 that HQ never received
    figures = {
        "opening_float_cents": 5000,
        "expected_cash_cents": 7880,
        "counted_cash_cents": 7850,
        "sales_count": 3,
        "sales_total_cents": 5079,
    }
    close = shift_closed(tid, 4, shift, **figures)  # fmt: skip
    async with client(app) as c:
        answer = await c.post(
            "/v1/sync/push",
            json=push_body(tid, [a, b, r, close]),
            headers={"Authorization": f"Bearer {enrolled.token}"},
        )
        assert {x["status"] for x in answer.json()["results"]} == {"accepted"}
        await log_in(c, ACCOUNTANT)
        page = await c.get("/reports/gst-f5", params={"terminal": tid})
        assert f'href="/reports/gst-f5.pdf?terminal={tid}"' in page.text
        f5 = await c.get("/reports/gst-f5.pdf", params={"terminal": tid})
        rec = await c.get("/reports/reconciliation.pdf", params={"terminal": tid})
        assert (await c.get("/reports/sales.pdf")).status_code == 404
    assert f5.status_code == 200 and f5.headers["content-type"] == "application/pdf"
    assert "attachment" in f5.headers["content-disposition"]
    assert f5.content.startswith(b"%PDF-") and f5.content.rstrip().endswith(b"%%EOF")

    sr = 2500 + 999 - 1250
    tax = gst_in(2500) + gst_in(999) - gst_in(1250)
    boxes = {1: sr - tax, 2: 380, 3: 700, 4: sr - tax + 380 + 700, 5: 0, 6: tax, 7: 0, 8: tax}
    drawn = texts(f5.content)
    assert "GST F5 return" in drawn and any("GST registration no." in t for t in drawn)
    rows = [t for t in drawn if t in {str(n) for n in boxes}]
    assert rows == [str(n) for n in boxes]  # the boxes, in order
    for n, cents in boxes.items():
        at = drawn.index(str(n))
        assert drawn[at + 2] == plain(cents), (n, drawn[at : at + 3])

    drawn = texts(rec.content)
    assert rec.content.startswith(b"%PDF-") and "Shift reconciliation" in drawn
    row = drawn.index(tid, drawn.index("Differences"))
    assert drawn[row + 2 : row + 8] == [
        "3 / 2", plain(5079), plain(2880 + 1699), f"{plain(7880)} / {plain(5000 + 2880)}",
        plain(7850), plain(-30),
    ]  # fmt: skip
    assert "1 closed shift(s), 1 differ" in drawn
    assert "sales count 3 at the till, 2 at HQ; sales 5.00 more at the till" in " ".join(drawn)
    exports = [a for u, a in audit_actions(db_url) if u == ACCOUNTANT]
    assert exports.count("report.export") == 2


async def test_pdfs_need_a_session(app: FastAPI) -> None:
    async with client(app) as c:
        r = await c.get("/reports/gst-f5.pdf")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        await log_in(c, OWNER)
        bad = await c.get("/reports/gst-f5.pdf", params={"from": "2026-02-30"})
        assert bad.status_code == 422
