"""Printable PDFs of the reports people print: the GST F5 (filed, and kept with the books)
and the shift reconciliation (signed off by the outlet manager).

Drawn with fpdf2 (pure Python, no system libraries, nothing fetched at run time) from the
same report model the page, CSV and JSON show. The core PDF fonts cover Latin-1 only, so
any other character from a till (a cashier's name in Chinese, say) prints as ``?``
rather than failing the download. Content streams are left uncompressed: the files are a
few kilobytes, and a figure in the PDF can then be found by searching its bytes.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from hq import store_settings
from hq.api.admin import PageAdminDep
from hq.api.deps import DatabaseDep, SettingsDep
from hq.api.errors import ApiError
from hq.api.report_params import ReportQueryDep, scope_for
from hq.auth import audit
from hq.pages.reports import PDF_REPORTS
from hq.reports import gst_f5, reconciliation
from hq.reports.common import ReportQuery, money
from sync import protocol as p

router = APIRouter()


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


class _Doc(FPDF):
    def __init__(self, title: str, *, landscape: bool = False) -> None:
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        self.compress = False
        self.doc_title = title
        self.set_title(title)
        self.set_creator("Kedai HQ")
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("helvetica", size=8)
        self.cell(0, 5, _latin(f"{self.doc_title} - page {self.page_no()}"), align="C")

    def line_of(self, text: str, *, size: float = 10, bold: bool = False, h: float = 6) -> None:
        self.set_font("helvetica", style="B" if bold else "", size=size)
        self.multi_cell(0, h, _latin(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _heading(
    doc: _Doc, store: p.SettingsRecord | None, query: ReportQuery, tz: ZoneInfo, now: datetime
) -> None:
    doc.line_of(doc.doc_title, size=16, bold=True, h=9)
    if store is not None:
        doc.line_of(store.store_name, bold=True)
        if store.gst_reg_no:
            doc.line_of(f"GST registration no. {store.gst_reg_no}")
        if store.address:
            doc.line_of(store.address)
    period = f"Period: {query.date_from.isoformat()} to {query.date_to.isoformat()} ({tz.key})"
    doc.line_of(period)
    only = [f"{k} {v}" for k, v in (("outlet", query.outlet), ("terminal", query.terminal)) if v]
    if only:
        doc.line_of("Only " + ", ".join(only))
    doc.line_of(f"Printed {now.astimezone(tz):%Y-%m-%d %H:%M}", size=8)
    doc.ln(3)


def gst_f5_pdf(
    report: gst_f5.GstF5, *, store: p.SettingsRecord | None, tz: ZoneInfo, now: datetime
) -> bytes:
    doc = _Doc("GST F5 return")
    _heading(doc, store, report.query, tz, now)
    doc.set_font("helvetica", size=10)
    with doc.table(col_widths=(12, 128, 40), text_align=("CENTER", "LEFT", "RIGHT")) as table:
        table.row(["Box", "Description", "S$"])
        for n, label, value in report.boxes():
            table.row([str(n), _latin(label), money(value)])
    doc.ln(3)
    doc.line_of(report.note, size=9)
    doc.ln(2)
    doc.line_of("Rate check", bold=True)
    rates = ", ".join(f"{bp / 100:g}%" for bp in report.rates_in_period) or "none configured"
    doc.line_of(f"GST rates in force in the period: {rates}.")
    doc.line_of(
        f"Output tax recomputed at those rates: S${money(report.recomputed_output_tax_cents)} "
        f"({report.sales_checked} sales checked)."
    )
    if report.mismatches:
        doc.line_of(f"{len(report.mismatches)} sale(s) carry GST that differs from the rate:")
        doc.set_font("helvetica", size=9)
        with doc.table(text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")) as table:
            table.row(["Receipt", "Day", "SR total", "GST charged", "GST expected"])
            for x in report.mismatches:
                table.row([_latin(x.receipt_no), x.day, money(x.standard_rated_cents),
                           money(x.recorded_tax_cents), money(x.expected_tax_cents)])  # fmt: skip
    else:
        doc.line_of("Every sale's GST matches the rate in force on its date.")
    return bytes(doc.output())


def reconciliation_pdf(
    report: reconciliation.ReconciliationReport,
    *,
    store: p.SettingsRecord | None,
    tz: ZoneInfo,
    now: datetime,
) -> bytes:
    doc = _Doc("Shift reconciliation", landscape=True)
    _heading(doc, store, report.query, tz, now)
    doc.line_of("Gaps in terminal sequences", bold=True)
    if report.gaps:
        for g in report.gaps:
            doc.line_of(
                f"{g.terminal_id}: {g.missing} event(s) missing between seq "
                f"{g.contiguous_seq} and {g.highest_seq}"
            )
    else:
        doc.line_of("HQ holds every terminal's events without a gap.")
    doc.ln(2)
    doc.line_of(f"{len(report.shifts)} closed shift(s), {report.differing} differ", bold=True)
    doc.set_font("helvetica", size=8)
    widths = (24, 26, 24, 20, 20, 20, 30, 20, 18, 75)
    align = ("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "LEFT")
    with doc.table(col_widths=widths, text_align=align) as table:
        table.row(["Terminal", "Closed", "Cashier", "Sales till / HQ", "Amount till",
                   "Amount HQ", "Expected cash till / HQ", "Counted", "Variance",
                   "Differences"])  # fmt: skip
        for s in report.shifts:
            table.row([
                s.terminal_id, f"{s.closed_at.astimezone(tz):%Y-%m-%d %H:%M}",
                _latin(s.cashier or ""), f"{s.till_sales_count} / {s.hq_sales_count}",
                money(s.till_sales_cents), money(s.hq_sales_cents),
                f"{money(s.till_expected_cash_cents)} / {money(s.hq_expected_cash_cents)}",
                money(s.counted_cash_cents), money(s.variance_cents),
                _latin("; ".join(s.differences) or "agrees"),
            ])  # fmt: skip
    doc.ln(4)
    doc.line_of("Checked by: ____________________    Date: ____________", size=10)
    return bytes(doc.output())


@router.get("/reports/{name}.pdf")
async def report_pdf(
    name: str,
    request: Request,
    admin: PageAdminDep,
    db: DatabaseDep,
    settings: SettingsDep,
    query: ReportQueryDep,
) -> Response:
    """The GST F5 or the reconciliation as a PDF (other reports have none)."""
    if name not in PDF_REPORTS:
        raise ApiError(404, "not_found", f"no PDF of report {name!r}")
    scope = scope_for(admin, settings)
    now = datetime.now(scope.tz)
    async with db.readers() as session, session.begin():
        store = await store_settings.current(session)
        if name == "gst-f5":
            f5 = await gst_f5.gst_f5(session=session, query=query, scope=scope)
            body = gst_f5_pdf(f5, store=store, tz=scope.tz, now=now)
        else:
            rec = await reconciliation.reconciliation(session=session, query=query, scope=scope)
            body = reconciliation_pdf(rec, store=store, tz=scope.tz, now=now)
    async with db.sessions() as session, session.begin():
        await audit.record(
            session=session,
            username=admin.username,
            action="report.export",
            target=f"{name}.pdf",
            detail=str(request.url.query) or None,
            ip=admin.address,
        )
    filename = f"kedai-{name}-{query.date_from}-{query.date_to}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
