"""Ctrl+F: past receipts of this till, found by number, day or member; view and reprint.

Type a receipt number (``12`` is this till's ``...-000012``) or a day (``14/03``,
``14/03/2025``, ``today``, ``yesterday``) and Enter; F3 picks a member and lists their
receipts; an empty Enter lists the latest. Arrows move through the list from the search
field, Enter on the list opens a receipt rebuilt from the sale's rows and marked
``** COPY **``, and F12 there prints it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Label, OptionList
from textual.widgets.option_list import Option

from terminal.domain.money import format_cents
from terminal.printing.documents import render_tax_invoice
from terminal.services.receipts import find_receipts, receipt_copy
from terminal.ui.clock import local
from terminal.ui.screens.base import TillScreen
from terminal.ui.screens.customer import CustomerModal
from terminal.ui.screens.refund import full_receipt_no

if TYPE_CHECKING:
    from terminal.services.schemas import CustomerView, ReceiptSummary


def parse_day(text: str, today: date) -> date | None:
    """A day as a cashier types it (dd/mm[/yyyy], yyyy-mm-dd, today, yesterday), or None."""
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    try:
        if "-" in word and word[:4].isdigit():
            return date.fromisoformat(word)
        parts = [int(p) for p in word.split("/")]
    except ValueError:
        return None
    try:
        if len(parts) == 2:
            return date(today.year, parts[1], parts[0])
        if len(parts) == 3:
            year = parts[2] + 2000 if parts[2] < 100 else parts[2]
            return date(year, parts[1], parts[0])
    except ValueError:
        return None
    return None


def receipt_line(r: ReceiptSummary) -> Text:
    member = r.customer_name or ""
    mark = ""
    if r.refunded_cents:
        mark = "refunded" if r.refunded_cents >= r.total_cents else "part refunded"
    return Text(  # plain text: a member's name may hold "["
        f"{local(r.created_at):%d/%m %H:%M}  {r.receipt_no:<18.18} {member:<14.14} "
        f"{'S$' + format_cents(r.total_cents):>10} {mark}"
    )


class _MemberPick(CustomerModal):
    TITLE = "Receipts of a member (F3)"
    HINT = "Enter: list their receipts   Esc: back"
    NOTHING = "No member matches."


class ReceiptsScreen(TillScreen[None]):
    BINDINGS = [
        Binding("escape", "leave", "Back"),
        Binding("f3", "member", "Member"),
        Binding("f12", "reprint", "Reprint"),
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
    ]
    AUTO_FOCUS = "#receipts-find"

    def __init__(self) -> None:
        super().__init__()
        self.found: list[ReceiptSummary] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="receipts-box"):
            yield Label("Past receipts (Ctrl+F)", classes="screen-title")
            with Horizontal(id="receipts-row"):
                yield Label("Find", id="receipts-find-label")
                yield Input(
                    placeholder="receipt number, or a day (14/03, today)", id="receipts-find"
                )
            yield Label("The latest receipts of this till.", id="receipts-what", markup=False)
            yield OptionList(id="receipts-list")
            yield Label(
                "Enter: search, Enter again: view the copy   Up/Down: choose   "
                "F3: a member's receipts   F12: print a copy",
                id="receipts-hint",
            )
            yield Label("", id="message", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#receipts-list", OptionList).can_focus = False
        self._search("The latest receipts of this till.")

    # ------------------------------------------------------------------ search

    @on(Input.Submitted, "#receipts-find")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.value = ""
        if not text:  # Enter again: the receipt found (or the latest, if none)
            if self._highlighted() is not None:
                self.action_view()
            else:
                self._search("The latest receipts of this till.")
            return
        day = parse_day(text, local(self.till.clock()).date())
        if day is not None:
            self._search(f"Receipts of {day:%d/%m/%Y}.", day=day)
            return
        st = self.till.store.store
        number = full_receipt_no(text, st.outlet_code, st.terminal_code)
        self._search(f"Receipt {number}.", receipt_no=number)

    def action_member(self) -> None:
        def done(customer: CustomerView | None) -> None:
            if customer is not None:
                self._search(f"Receipts of {customer.name}.", customer_id=customer.id)

        self.app.push_screen(_MemberPick(), done)

    @work(exclusive=True, group="receipts", exit_on_error=False)
    async def _search(
        self,
        what: str,
        *,
        receipt_no: str | None = None,
        day: date | None = None,
        customer_id: UUID | None = None,
    ) -> None:
        with self.boundary("finding receipts", title="Receipts") as outcome:
            found = await find_receipts(
                self.till.database, receipt_no=receipt_no, day=day, customer_id=customer_id
            )
        if outcome.failed:
            return
        self.found = found
        self.query_one("#receipts-what", Label).update(what)
        options = self.query_one("#receipts-list", OptionList)
        options.clear_options()
        if not found:
            self.error(f"{what.rstrip('.')}: no receipt found in this till's history.", "Receipts")
            options.add_option(Option("No receipts found.", disabled=True))
            return
        self.error_clear()
        options.add_options([Option(receipt_line(r)) for r in found])
        options.highlighted = 0

    def error_clear(self) -> None:
        message = self.query_one("#message", Label)
        message.update("")
        message.set_class(False, "error")

    # ------------------------------------------------------------------ choose, view

    def action_cursor(self, step: int) -> None:
        options = self.query_one("#receipts-list", OptionList)
        if self.found:
            now = options.highlighted or 0
            options.highlighted = min(max(now + step, 0), len(self.found) - 1)

    def _highlighted(self) -> ReceiptSummary | None:
        index = self.query_one("#receipts-list", OptionList).highlighted
        if index is None or index >= len(self.found):
            return None
        return self.found[index]

    @on(OptionList.OptionSelected, "#receipts-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.action_view()

    def action_view(self) -> None:
        self._open_chosen(print_now=False)

    def action_reprint(self) -> None:
        self._open_chosen(print_now=True)

    def _open_chosen(self, *, print_now: bool) -> None:
        chosen = self._highlighted()
        if chosen is None:
            self.error("No receipt chosen: search first.", "Receipts")
            return
        self._open(chosen.receipt_no, print_now)

    @work(exclusive=True, group="receipt-copy", exit_on_error=False)
    async def _open(self, receipt_no: str, print_now: bool) -> None:
        from terminal.ui.screens.document import DocumentModal

        with self.boundary("reading the receipt", title="Receipts") as outcome:
            receipt = await receipt_copy(self.till.database, receipt_no)
        if outcome.failed:
            return
        self.app.push_screen(
            DocumentModal(
                f"Copy of {receipt.receipt_no}",
                f"Total S${format_cents(receipt.total_cents)}  "
                f"{local(receipt.created_at):%d/%m/%Y %H:%M}  F12: print the copy",
                render_tax_invoice(receipt, copy=True),
                print_now=print_now,
            )
        )

    def action_leave(self) -> None:
        self.dismiss(None)
