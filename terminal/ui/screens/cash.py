"""Cash in / cash out (Ctrl+E): petty cash taken from or put into the drawer, with a reason.

Cash out is what a shop does most (paying a delivery, buying milk), so it is the
default; F2 switches between out and in. Type the amount, Enter, the reason, Enter: the
movement is saved (``cash.movement`` for HQ; the shift's expected cash moves by it), the
drawer opens if there is one, and the modal returns what was saved. Esc saves nothing.
"""

from __future__ import annotations

from typing import Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label

from terminal.domain.money import MoneyError, format_cents, parse_cents
from terminal.services.till_ops import move_cash
from terminal.ui.screens.base import TillModal

Direction = Literal["in", "out"]

_SAYS: dict[Direction, str] = {
    "out": "Cash OUT of the drawer (petty cash paid out)",
    "in": "Cash IN to the drawer (cash added)",
}


class CashMoveModal(TillModal[str | None]):
    """Returns a sentence saying what was recorded, or None (Esc)."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f2", "switch", "In/Out"),
    ]
    AUTO_FOCUS = "#cash-amount"

    def __init__(self) -> None:
        super().__init__()
        self.kind: Direction = "out"
        self.saving = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="cash-box"):
            yield Label("Cash in / cash out", classes="dialog-title")
            yield Label(_SAYS[self.kind], id="cash-kind")
            yield Label("Amount (S$)")
            yield Input(placeholder="e.g. 20.00", id="cash-amount")
            yield Label("Reason (what the cash is for)")
            yield Input(placeholder="e.g. delivery COD", id="cash-reason", max_length=200)
            yield Label("", id="cash-error")
            yield Label("F2: switch in/out   Enter: next / save   Esc: back", classes="dialog-hint")

    def action_switch(self) -> None:
        self.kind = "in" if self.kind == "out" else "out"
        self.query_one("#cash-kind", Label).update(_SAYS[self.kind])

    @on(Input.Submitted, "#cash-amount")
    def _amount_done(self) -> None:
        self.query_one("#cash-reason", Input).focus()

    @on(Input.Submitted, "#cash-reason")
    def _reason_done(self) -> None:
        if self.saving:
            return
        self.saving = True
        self._save(
            self.kind,
            self.query_one("#cash-amount", Input).value,
            self.query_one("#cash-reason", Input).value,
        )

    def _show_error(self, text: str) -> None:
        self.query_one("#cash-error", Label).update(text)
        self.error(text, "Cash in/out")

    @work(exclusive=True, group="cash-move", exit_on_error=False)
    async def _save(self, kind: Direction, amount: str, reason: str) -> None:
        till = self.till
        try:
            with self.boundary("recording the cash", show=self._show_error) as outcome:
                shift = till.shift
                if shift is None:
                    self._show_error("No shift is open: log in again to open one.")
                    return
                cents = parse_cents(amount)
                await move_cash(
                    till.database,
                    cashier_id=till.signed_in.id,
                    shift_id=shift.id,
                    kind=kind,
                    amount_cents=cents,
                    reason=reason,
                    now=till.clock(),
                )
        finally:
            self.saving = False
        if outcome.failed:
            if isinstance(outcome.error, MoneyError) or "amount" in outcome.message:
                self.query_one("#cash-amount", Input).focus()
            return
        till.local_change()
        self.dismiss(f"Cash {kind} S${format_cents(cents)} recorded: {reason.strip()}")

    def action_back(self) -> None:
        if self.saving:
            self.app.bell()
            return
        self.dismiss(None)
