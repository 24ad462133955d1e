"""F5 on the refund screen: a manual return, goods back without a sale to refund them from.

For a sale made at another till when HQ cannot be asked (offline) or does not have it
yet, or no receipt at all. The cashier scans each item (Enter; again for one more), sets
a line's quantity (F6) or price (F7: the price now by default, the price paid if the
receipt shows another), picks where the money goes (F10: cash, or the tender the
customer paid with), and F9 asks the reason and then a manager. The service
(:func:`terminal.services.returns.manual_return`) refuses it without a reason or without
the manager's approval, whoever calls it; this screen only asks for them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Input, Label

from terminal.domain.money import MoneyError, format_cents, parse_cents
from terminal.domain.tender import TENDER_NAMES
from terminal.printing.documents import render_credit_note
from terminal.services.catalog import lookup_code
from terminal.services.errors import ApprovalRequired
from terminal.services.returns import manual_return
from terminal.services.schemas import ApprovalIn, ManualReturnLineIn, ManualReturnRequest
from terminal.ui.screens.base import TillScreen

if TYPE_CHECKING:
    from collections.abc import Callable

    from sync.protocol import TenderKind
    from terminal.services.schemas import ApprovalView, CreditNote, ProductView

TENDERS: tuple[TenderKind, ...] = ("cash", "card", "nets", "paynow")
"""Where a manual return's money can go (F10 cycles): never points, no sale took any."""


@dataclass(frozen=True)
class ReturnLine:
    product: ProductView
    qty: int
    price_cents: int

    @property
    def total_cents(self) -> int:
        return self.qty * self.price_cents


class ManualReturnScreen(TillScreen["CreditNote | None"]):
    BINDINGS = [
        Binding("escape", "leave", "Back"),
        Binding("f6", "quantity", "Qty"),
        Binding("f7", "price", "Price"),
        Binding("f8", "remove", "Remove"),
        Binding("f10", "tender", "Tender"),
        Binding("f9", "give_back", "Return"),
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
    ]
    AUTO_FOCUS = "#return-scan"

    def __init__(self, receipt_no: str = "") -> None:
        super().__init__()
        self.receipt_no = receipt_no
        self.lines: list[ReturnLine] = []
        self.tender: TenderKind = "cash"
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="refund-box"):
            yield Label("Manual return (no sale to refund it from)", classes="screen-title")
            with Horizontal(id="refund-row"):
                yield Label("Item", id="refund-receipt-label")
                yield Input(placeholder="scan or type each item returned", id="return-scan")
            ref = f"Customer's receipt: {self.receipt_no}. " if self.receipt_no else ""
            yield Label(
                f"{ref}A reason and a manager's approval are needed.",
                id="return-ref",
                markup=False,
            )
            table: DataTable[str | Text] = DataTable(cursor_type="row", id="return-lines")
            table.can_focus = False
            yield table
            yield Label("", id="return-total", markup=False)
            yield Label("", id="message", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#return-lines", DataTable)
        table.add_column("#", key="no", width=2)
        table.add_column("Item", key="name", width=34)
        for key, label, width in (("qty", "Qty", 4), ("price", "Price", 8), ("amount", "S$", 8)):
            table.add_column(Text(label, justify="right"), key=key, width=width)
        self._show()

    # ------------------------------------------------------------------ the items

    def on_input_submitted(self, event: Input.Submitted) -> None:
        code = event.value.strip()
        event.input.value = ""
        if code and not self._refuse_if_busy():
            self._add(code)

    @work(exclusive=True, group="return-scan", exit_on_error=False)
    async def _add(self, code: str) -> None:
        with self.boundary("finding the item", title="Manual return") as outcome:
            product = await lookup_code(self.till.database, code)
        if outcome.failed:
            return
        for i, line in enumerate(self.lines):
            if line.product.id == product.id:
                self.lines[i] = replace(line, qty=line.qty + 1)
                break
        else:
            self.lines.append(ReturnLine(product, 1, product.price_cents))
        self._clear()
        self._show(cursor=len(self.lines) - 1)

    def _show(self, cursor: int | None = None) -> None:
        table = self.query_one("#return-lines", DataTable)
        row = table.cursor_row if cursor is None else cursor
        table.clear()
        for no, ln in enumerate(self.lines, start=1):
            table.add_row(
                str(no),
                Text(ln.product.name),
                Text(str(ln.qty), justify="right"),
                Text(format_cents(ln.price_cents), justify="right"),
                Text(format_cents(ln.total_cents), justify="right"),
            )
        if self.lines:
            table.move_cursor(row=min(max(row, 0), len(self.lines) - 1))
        total = sum(ln.total_cents for ln in self.lines)
        to = TENDER_NAMES.get(self.tender, self.tender)
        self.query_one("#return-total", Label).update(
            f"Give back S${format_cents(total)} to {to} (F10: another tender). F9 to return."
            if self.lines
            else f"Scan each item returned. Money back to {to} (F10: another tender)."
        )

    def _clear(self) -> None:
        message = self.query_one("#message", Label)
        message.update("")
        message.set_class(False, "error")

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#return-lines", DataTable)
        if table.row_count:
            table.move_cursor(row=min(max(table.cursor_row + step, 0), table.row_count - 1))

    def _selected(self) -> int | None:
        if not self.lines:
            self.error("Scan an item first.", "Manual return")
            return None
        row = self.query_one("#return-lines", DataTable).cursor_row
        return min(max(row, 0), len(self.lines) - 1)

    def _ask_line(
        self,
        title: str,
        question: str,
        default: str,
        apply: Callable[[ManualReturnScreen, int, str], str | None],
    ) -> None:
        from terminal.ui.screens.prompt import PromptModal

        at = self._selected()
        if at is None or self._refuse_if_busy():
            return

        def done(text: str | None) -> None:
            if text is None:
                return
            why = apply(self, at, text.strip())
            if why:
                self.error(why, "Manual return")
            else:
                self._clear()
                self._show()

        self.app.push_screen(PromptModal(title, question, default=default), done)

    def action_quantity(self) -> None:
        at = self._selected()
        if at is not None:
            line = self.lines[at]
            self._ask_line(
                "Quantity returned", f"{line.product.name}: how many?", str(line.qty), _set_qty
            )

    def action_price(self) -> None:
        at = self._selected()
        if at is not None:
            line = self.lines[at]
            self._ask_line(
                "Price paid",
                f"{line.product.name}: price each (now S${format_cents(line.product.price_cents)})",
                format_cents(line.price_cents),
                _set_price,
            )

    def action_remove(self) -> None:
        at = self._selected()
        if at is not None and not self._refuse_if_busy():
            del self.lines[at]
            self._show()

    def action_tender(self) -> None:
        if not self._refuse_if_busy():
            self.tender = TENDERS[(TENDERS.index(self.tender) + 1) % len(TENDERS)]
            self._show()

    # ------------------------------------------------------------------ give it back

    def _refuse_if_busy(self) -> bool:
        if self._busy:
            self.app.bell()
            self.notify("Still saving the return: one moment.", title="Busy")
        return self._busy

    def action_leave(self) -> None:
        if not self._refuse_if_busy():
            self.dismiss(None)

    def action_give_back(self) -> None:
        from terminal.ui.screens.prompt import PromptModal

        if not self.lines:
            self.error("Scan what comes back first.", "Manual return")
            return
        if self._refuse_if_busy():
            return

        def done(reason: str | None) -> None:
            if reason is None:
                return
            if not reason.strip():
                self.error("Not returned: a reason is needed (F9 again).", "Manual return")
                return
            if not self._refuse_if_busy():
                self._busy = True
                self._return(reason.strip())

        self.app.push_screen(
            PromptModal("Reason for the return", "Why is it coming back, with no sale here?"),
            done,
        )

    def _request(self, reason: str, approvals: tuple[ApprovalIn, ...]) -> ManualReturnRequest:
        till = self.till
        return ManualReturnRequest(
            cashier_id=till.signed_in.id,
            shift_id=till.shift.id if till.shift is not None else None,
            lines=[
                ManualReturnLineIn(
                    product_id=ln.product.id, qty=ln.qty, unit_price_cents=ln.price_cents
                )
                for ln in self.lines
            ],
            receipt_no=self.receipt_no,
            tender=self.tender,
            reason=reason,
            approvals=list(approvals),
        )

    @work(group="manual-return", exit_on_error=False)
    async def _return(self, reason: str, approvals: tuple[ApprovalIn, ...] = ()) -> None:
        till = self.till
        request = self._request(reason, approvals)
        with self.boundary("saving the return", title="Not returned") as outcome:
            try:
                note = await manual_return(till.database, request, now=till.clock())
            except ApprovalRequired as exc:
                if approvals:  # given and still refused: say why, do not loop
                    raise
                self._ask(reason, exc.message)
                return
        self._busy = False
        if outcome.failed:
            return
        till.local_change()
        self._committed(note)

    def _ask(self, reason: str, why: str) -> None:
        """The manager approves (their PIN, or a manager's own confirmation), then again."""
        from terminal.ui.screens.approve import ApproveModal
        from terminal.ui.screens.confirm import ConfirmModal

        total = sum(ln.total_cents for ln in self.lines)
        what = f"manual return, S${format_cents(total)}, {reason}"

        def approved(granted: ApprovalView | None) -> None:
            if granted is None:
                self._not_given(why)
            else:
                self._return(reason, (granted.as_approval(),))

        if self.till.signed_in.role != "manager":
            self.app.push_screen(ApproveModal("refund", what), approved)
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._own_approval(reason, what)
            else:
                self._not_given(why)

        self.app.push_screen(
            ConfirmModal(
                "Manual return: manager's own approval",
                f"{what}\nYou approve this yourself; it is recorded for HQ.",
                yes="approve",
                no="do not return",
            ),
            confirmed,
        )

    @work(group="manual-return", exit_on_error=False)
    async def _own_approval(self, reason: str, what: str) -> None:
        from terminal.services.cashiers import record_own_approval

        till = self.till
        with self.boundary("recording the approval", title="Not returned") as outcome:
            own = await record_own_approval(
                till.database, action="refund", manager_id=till.signed_in.id, note=what,
                now=till.clock(),
            )  # fmt: skip
        if outcome.failed:
            self._busy = False
            return
        till.local_change()
        self._return(reason, (own.as_approval(),))

    def _not_given(self, why: str) -> None:
        self._busy = False
        self.error(
            f"Not returned: {why.removesuffix(' Nothing was saved.')} It was not given. "
            "Nothing was saved.",
            "Not returned",
        )

    def _committed(self, note: CreditNote) -> None:
        from terminal.ui.screens.document import DocumentModal

        back = ", ".join(
            f"{TENDER_NAMES.get(p.tender, p.tender)} S${format_cents(p.amount_cents)}"
            for p in note.payments
        )
        self.notify(f"Returned: {note.credit_note_no}", title="Manual return")
        self.app.push_screen(
            DocumentModal(
                f"RETURNED  S${format_cents(note.total_cents)}",
                f"Credit note {note.credit_note_no} (manual return). Give back: {back}.",
                render_credit_note(note),
                print_now=True,
            ),
            lambda _: self.dismiss(note),
        )


def _set_qty(screen: ManualReturnScreen, at: int, text: str) -> str | None:
    if not text.isdigit() or not 0 < int(text) <= 9_999:
        return f"{text!r} is not a quantity: type a whole number from 1 to 9999."
    screen.lines[at] = replace(screen.lines[at], qty=int(text))
    return None


def _set_price(screen: ManualReturnScreen, at: int, text: str) -> str | None:
    try:
        cents = parse_cents(text)
    except MoneyError as exc:
        return str(exc)
    screen.lines[at] = replace(screen.lines[at], price_cents=cents)
    return None
