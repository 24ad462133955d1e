"""Ctrl+R: refund (part of) a past sale, by its receipt number; F5 a manual return.

Scan the receipt's barcode or type its number (just ``12`` for this till's receipt
``...-000012``), choose what comes back (F6 a line's quantity, F7 everything left), F9 to
refund with a reason. Another till's receipt is looked up at HQ (:mod:`terminal.ui.
hq_lookup`) and refunded from HQ's copy the same way; when HQ cannot be asked or does
not have it, the screen says so and F5 opens the manual return. The service decides
everything that matters: what can still be refunded, the money per tender, and whether a
manager must approve. When it answers
:class:`ApprovalRequired` nothing was written; the screen asks the manager's PIN (or a
manager's own confirmation) for each action it names and sends the same request again
carrying the approvals. A refusal stays on the screen (``#message``), not only a toast.

The refund worker is not ``exclusive``: a second F9 would cancel the first, possibly
after its COMMIT. ``_busy`` refuses it instead, as the sale screen does for park.
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

from terminal.domain.money import format_cents
from terminal.domain.tender import TENDER_NAMES
from terminal.domain.words import plural
from terminal.printing.documents import render_credit_note
from terminal.services import refunds
from terminal.services.cashiers import record_own_approval
from terminal.services.errors import ApprovalRequired, NotFoundError
from terminal.services.schemas import ApprovalIn, RefundLineIn, RefundRequest
from terminal.ui.clock import local
from terminal.ui.screens.base import TillScreen

if TYPE_CHECKING:
    from sync.protocol import SaleLookup
    from terminal.domain.approval import ApprovalNeed
    from terminal.services.schemas import ApprovalView, CreditNote, PastSale, SoldLineView
    from terminal.ui.port import TillPort

_NEEDS: dict[str, ApprovalNeed] = {"refund": "refund", "refund_to_cash": "refund_to_cash"}
"""The approvals a refund can need (what :func:`refunds.refund_sale` may name)."""

_WHAT = {"refund": "Refund", "refund_to_cash": "Refund in cash"}


@dataclass(frozen=True)
class _Pending:
    """A refund waiting for its approvals: what to send again once they are given."""

    reason: str
    approvals: tuple[ApprovalIn, ...]
    asked: frozenset[str]
    why: str
    """The service's words for what is needed (said if the manager does not approve)."""

    def carrying(self, approval: ApprovalIn) -> _Pending:
        return replace(self, approvals=(*self.approvals, approval))


def full_receipt_no(text: str, outlet: str, terminal: str) -> str:
    """What was typed or scanned, as a receipt number: digits alone are this till's."""
    number = text.strip().upper()
    if number.isdigit():
        return f"{outlet}-{terminal}-{int(number):06d}"
    return number


def _left(line: SoldLineView) -> int:
    return line.qty - line.refunded_qty


def _amount(line: SoldLineView, qty: int) -> int:
    """The line's share for ``qty`` (the service's own split; the credit note is exact)."""
    return line.total_cents * qty // line.qty


class RefundScreen(TillScreen[None]):
    BINDINGS = [
        Binding("escape", "leave", "Back"),
        Binding("f6", "quantity", "Qty"),
        Binding("f7", "all", "All"),
        Binding("f8", "none", "None"),
        Binding("f10", "to_cash", "To cash"),
        Binding("f5", "manual", "Manual return"),
        Binding("f9", "refund", "Refund"),
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
    ]
    AUTO_FOCUS = "#refund-receipt"

    def __init__(self) -> None:
        super().__init__()
        self.sale: PastSale | None = None
        self.hq_sale: SaleLookup | None = None
        """HQ's copy when the sale is another till's (the refund is planned from it)."""
        self.tried = ""
        """The last receipt number looked for (F5 offers it to the manual return)."""
        self.chosen: dict[int, int] = {}
        """Line number -> quantity to refund."""
        self.to_cash = False
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="refund-box"):
            yield Label("Refund / return (Ctrl+R)", classes="screen-title")
            with Horizontal(id="refund-row"):
                yield Label("Receipt", id="refund-receipt-label")
                yield Input(placeholder="scan or type the receipt number", id="refund-receipt")
            yield Label(
                "Scan or type the receipt number, then Enter.", id="refund-sale", markup=False
            )
            table: DataTable[str | Text] = DataTable(cursor_type="row", id="refund-lines")
            table.can_focus = False
            yield table
            yield Label("", id="refund-chosen", markup=False)
            yield Label("", id="message", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#refund-lines", DataTable)
        table.add_column("#", key="no", width=2)
        table.add_column("Item", key="name", width=28)
        for key, label, width in (
            ("sold", "Sold", 4),
            ("done", "Refunded", 8),
            ("qty", "Refund", 6),
            ("amount", "S$", 8),
        ):
            table.add_column(Text(label, justify="right"), key=key, width=width)

    # ------------------------------------------------------------------ find the sale

    def on_input_submitted(self, event: Input.Submitted) -> None:
        st = self.till.store.store
        number = full_receipt_no(event.value, st.outlet_code, st.terminal_code)
        event.input.value = ""
        if not number:
            self.error("Scan or type a receipt number first.", "Refund")
            return
        if self._refuse_if_busy():
            return
        self._find(number)

    @work(exclusive=True, group="refund-find", exit_on_error=False)
    async def _find(self, number: str) -> None:
        from terminal.ui.hq_lookup import AtHq, look_up, other_till

        self.tried = number
        told: list[str] = []
        at_hq = None
        with self.boundary("finding the sale", show=told.append) as outcome:
            sale = await refunds.find_sale(self.till.database, number)
        if isinstance(outcome.error, NotFoundError) and other_till(number, self.till):
            self.query_one("#refund-sale", Label).update(f"Asking HQ for {number}...")
            told.clear()
            found: AtHq | str | None = None
            with self.boundary("asking HQ", show=told.append) as outcome:
                found = await look_up(self.till, number)
            if isinstance(found, AtHq):
                at_hq, sale = found.sale, found.view
            elif found is not None:
                told.append(found)
        if at_hq is None and (outcome.failed or told):
            self._load(None)
            self.error(told[0] if told else outcome.message, "Refund")
            return
        self._load(sale, at_hq)
        self.error_clear()
        if all(_left(ln) == 0 for ln in sale.lines):
            self.error(
                f"Everything on {sale.receipt_no} has already been refunded "
                f"({', '.join(sale.refunds)}): there is nothing left to refund.",
                "Refund",
            )

    def _load(self, sale: PastSale | None, at_hq: SaleLookup | None = None) -> None:
        self.sale = sale
        self.hq_sale = at_hq
        self.chosen = {}
        self.to_cash = False
        head = self.query_one("#refund-sale", Label)
        if sale is None:
            head.update("Scan or type the receipt number, then Enter.")
        else:
            paid = ", ".join(
                f"{TENDER_NAMES.get(p.tender, p.tender)} {format_cents(p.amount_cents)}"
                for p in sale.payments
            )
            member = f"  Member: {sale.customer_name}" if sale.customer_name else ""
            done = f"\nRefunded before: {', '.join(sale.refunds)}" if sale.refunds else ""
            where = f"  (from HQ: sold at {at_hq.terminal_id})" if at_hq is not None else ""
            head.update(
                f"{sale.receipt_no}  {local(sale.created_at):%d/%m/%Y %H:%M}  "
                f"Total S${format_cents(sale.total_cents)}  Paid: {paid}{member}{where}{done}"
            )
        self._show()

    def _show(self) -> None:
        table = self.query_one("#refund-lines", DataTable)
        row = table.cursor_row
        table.clear()
        sale = self.sale
        chosen_label = self.query_one("#refund-chosen", Label)
        if sale is None:
            chosen_label.update("")
            return
        for ln in sale.lines:
            qty = self.chosen.get(ln.line_no, 0)
            table.add_row(
                str(ln.line_no),
                Text(ln.name),  # plain: a name may hold "["
                Text(str(ln.qty), justify="right"),
                Text("all" if _left(ln) == 0 else str(ln.refunded_qty), justify="right"),
                Text(str(qty) if qty else "-", justify="right"),
                Text(format_cents(_amount(ln, qty)) if qty else "", justify="right"),
                key=str(ln.line_no),
            )
        table.move_cursor(row=min(max(row, 0), len(sale.lines) - 1))
        items = sum(self.chosen.values())
        where = (
            "in cash (a manager approves; F10: to the tenders paid)"
            if self.to_cash
            else "to the tenders paid (F10: in cash)"
        )
        if items:
            amount = sum(_amount(ln, self.chosen.get(ln.line_no, 0)) for ln in sale.lines)
            chosen_label.update(
                f"Refund {plural(items, 'item')}, about S${format_cents(amount)}, {where}. "
                "F9 to refund."
            )
        else:
            chosen_label.update(f"Nothing chosen: F6 a line's quantity, F7 all. Refund {where}.")

    def error_clear(self) -> None:
        message = self.query_one("#message", Label)
        message.update("")
        message.set_class(False, "error")

    # ------------------------------------------------------------------ choose

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#refund-lines", DataTable)
        if table.row_count:
            table.move_cursor(row=min(max(table.cursor_row + step, 0), table.row_count - 1))

    def _line(self) -> SoldLineView | None:
        if self.sale is None:
            self.error("Find the sale first: scan or type its receipt number.", "Refund")
            return None
        row = self.query_one("#refund-lines", DataTable).cursor_row
        return self.sale.lines[min(max(row, 0), len(self.sale.lines) - 1)]

    def action_quantity(self) -> None:
        from terminal.ui.screens.prompt import PromptModal

        line = self._line()
        if line is None or self._refuse_if_busy():
            return
        if _left(line) == 0:
            self.error(
                f"{line.name}: all {line.qty} already refunded. Nothing left to refund "
                "on this line.",
                "Refund",
            )
            return

        def done(text: str | None) -> None:
            if text is not None:
                self._set_quantity(line, text)

        self.app.push_screen(
            PromptModal(
                "Quantity to refund",
                f"{line.name}: sold {line.qty}, already refunded {line.refunded_qty}, "
                f"{_left(line)} can come back. How many?",
                default=str(_left(line)),
            ),
            done,
        )

    def _set_quantity(self, line: SoldLineView, text: str) -> None:
        """A whole number up to what is left (the service checks again when it writes:
        another refund may have taken some since this screen read the sale)."""
        text = text.strip()
        if not text.isdigit():
            self.error(f"{text!r} is not a quantity: type a whole number.", "Refund")
            return
        qty = int(text)
        if qty > _left(line):
            self.error(
                f"Cannot refund {qty} of line {line.line_no} ({line.name}): sold "
                f"{line.qty}, {line.refunded_qty} already refunded, at most {_left(line)} "
                "can be refunded.",
                "Refund",
            )
            return
        if qty:
            self.chosen[line.line_no] = qty
        else:
            self.chosen.pop(line.line_no, None)
        self.error_clear()
        self._show()

    def action_all(self) -> None:
        if self.sale is None:
            self.error("Find the sale first: scan or type its receipt number.", "Refund")
            return
        if self._refuse_if_busy():
            return
        self.chosen = {ln.line_no: _left(ln) for ln in self.sale.lines if _left(ln)}
        if not self.chosen:
            self.error(f"Everything on {self.sale.receipt_no} has already been refunded.", "Refund")
            return
        self.error_clear()
        self._show()

    def action_none(self) -> None:
        if not self._refuse_if_busy():
            self.chosen = {}
            self._show()

    def action_to_cash(self) -> None:
        if self.sale is not None and not self._refuse_if_busy():
            self.to_cash = not self.to_cash
            self._show()

    # ------------------------------------------------------------------ refund

    def _refuse_if_busy(self) -> bool:
        if self._busy:
            self.app.bell()
            self.notify("Still saving the refund: one moment.", title="Busy")
        return self._busy

    def action_leave(self) -> None:
        if not self._refuse_if_busy():
            self.dismiss(None)

    def action_manual(self) -> None:
        """Goods back without a sale to refund them from (the sale's till is not
        reachable through HQ, or there is no receipt): the manual return screen."""
        from terminal.ui.screens.manual_return import ManualReturnScreen

        if self._refuse_if_busy():
            return
        own = self.sale is not None and self.hq_sale is None
        suggested = "" if own else self.tried

        def done(note: CreditNote | None) -> None:
            if note is not None:
                self.dismiss(None)

        self.app.push_screen(ManualReturnScreen(suggested), done)

    def action_refund(self) -> None:
        from terminal.ui.screens.prompt import PromptModal

        if self.sale is None:
            self.error("Find the sale first: scan or type its receipt number.", "Refund")
            return
        if self._refuse_if_busy():
            return
        if not self.chosen:
            self.error("Choose what comes back first: F6 a line's quantity, F7 all.", "Refund")
            return

        def done(reason: str | None) -> None:
            if reason is None:
                return
            if not reason.strip():
                self.error("Not refunded: a reason is needed (F9 again).", "Refund")
                return
            if not self._refuse_if_busy():
                self._busy = True
                self._refund(reason.strip())

        self.app.push_screen(
            PromptModal(
                "Reason for the refund",
                "Why is it coming back? (e.g. faulty, wrong size, changed mind)",
            ),
            done,
        )

    def _done(self) -> None:
        self._busy = False

    @work(group="refund", exit_on_error=False)
    async def _refund(
        self,
        reason: str,
        approvals: tuple[ApprovalIn, ...] = (),
        asked: frozenset[str] = frozenset(),
    ) -> None:
        """One try at the refund; approvals it lacks are asked for, then it tries again.

        No worker waits on a dialog: each answer starts the next step (so the app's
        workers all finish while the manager types the PIN).
        """
        sale = self.sale
        assert sale is not None
        till = self.till
        request = RefundRequest(
            receipt_no=sale.receipt_no,
            cashier_id=till.signed_in.id,
            shift_id=till.shift.id if till.shift is not None else None,
            lines=[RefundLineIn(line_no=no, qty=q) for no, q in sorted(self.chosen.items())],
            to_cash=self.to_cash,
            reason=reason,
            approvals=list(approvals),
        )
        with self.boundary("refunding the sale", title="Not refunded") as outcome:
            note = await _attempt(till, request, self.hq_sale)
        if outcome.failed:
            self._done()
            return
        if isinstance(note, ApprovalRequired):
            wanted = list(dict.fromkeys(a for a, _ in note.needs if a not in asked))
            if not wanted:  # approvals given and still refused: say why, do not loop
                self._done()
                self.error(note.message, "Not refunded")
                return
            self._ask(wanted, _Pending(reason, approvals, asked | set(wanted), note.message))
            return
        self._done()
        till.local_change()
        self._committed(note)

    def _ask(self, actions: list[str], pending: _Pending) -> None:
        """Ask for the first approval of ``actions``; then the rest; then refund again."""
        from terminal.ui.screens.approve import ApproveModal
        from terminal.ui.screens.confirm import ConfirmModal

        if not actions:
            self._refund(pending.reason, pending.approvals, pending.asked)
            return
        need, rest = _NEEDS.get(actions[0]), actions[1:]
        sale = self.sale
        if need is None or sale is None:
            self._not_given(pending)
            return
        amount = sum(_amount(ln, self.chosen.get(ln.line_no, 0)) for ln in sale.lines)
        what = (
            f"about S${format_cents(amount)} of {sale.receipt_no}"
            + (" in cash" if self.to_cash else "")
            + f", {pending.reason}"
        )

        def approved(granted: ApprovalView | None) -> None:
            if granted is None:
                self._not_given(pending)
            else:
                self._ask(rest, pending.carrying(granted.as_approval()))

        if self.till.signed_in.role != "manager":
            self.app.push_screen(ApproveModal(need, what), approved)
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._own_approval(need, what, rest, pending)
            else:
                self._not_given(pending)

        self.app.push_screen(
            ConfirmModal(
                f"{_WHAT.get(need, 'Refund')}: manager's own approval",
                f"{what}\nYou approve this yourself; it is recorded for HQ.",
                yes="approve",
                no="do not refund",
            ),
            confirmed,
        )

    @work(group="refund", exit_on_error=False)
    async def _own_approval(
        self, need: ApprovalNeed, what: str, rest: list[str], pending: _Pending
    ) -> None:
        """A manager's own approval is still an ``approval.granted`` event for HQ."""
        till = self.till
        with self.boundary("recording the approval", title="Not refunded") as outcome:
            own = await record_own_approval(
                till.database,
                action=need,
                manager_id=till.signed_in.id,
                sale_id=self.sale.sale_id if self.sale is not None else None,
                note=what,
                now=till.clock(),
            )
        if outcome.failed:
            self._done()
            return
        till.local_change()
        self._ask(rest, pending.carrying(own.as_approval()))

    def _not_given(self, pending: _Pending) -> None:
        self._done()
        self.error(
            f"Not refunded: {pending.why.removesuffix(' Nothing was saved.')} "
            "It was not given. Nothing was saved.",
            "Not refunded",
        )

    def _committed(self, note: CreditNote) -> None:
        from terminal.ui.screens.document import DocumentModal

        back = ", ".join(
            f"{TENDER_NAMES.get(p.tender, p.tender)} S${format_cents(p.amount_cents)}"
            for p in note.payments
        )
        self.notify(f"Refunded: {note.credit_note_no}", title="Refund")
        self.app.push_screen(
            DocumentModal(
                f"REFUNDED  S${format_cents(note.total_cents)}",
                f"Credit note {note.credit_note_no} for {note.original_receipt_no}. "
                f"Give back: {back}.",
                render_credit_note(note),
                print_now=True,
            ),
            lambda _: self.dismiss(None),
        )


async def _attempt(
    till: TillPort, request: RefundRequest, at_hq: SaleLookup | None
) -> CreditNote | ApprovalRequired:
    """The refund, or the approvals it still needs (nothing was written then)."""
    from terminal.services.returns import refund_hq_sale

    try:
        if at_hq is not None:
            return await refund_hq_sale(till.database, request, at_hq, now=till.clock())
        return await refunds.refund_sale(till.database, request, now=till.clock())
    except ApprovalRequired as exc:
        return exc
