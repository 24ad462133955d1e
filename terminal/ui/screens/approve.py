"""A manager's PIN for a void or a large discount (DESIGN: approvals are audited).

Returns True once the service has checked the PIN and queued ``approval.granted``.
While a PIN is being checked, Esc and Enter are ignored: leaving then could record an
approval for an action that never happens (and dismiss a screen already gone). Enter starts
the check as the PIN field handles the key, not on ``Input.Submitted``: that message is
queued behind keys already typed, so an Esc right after Enter would get in first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label

from terminal.services.cashiers import approve
from terminal.services.schemas import ApprovalView
from terminal.ui.screens.base import TillModal

if TYPE_CHECKING:
    from terminal.domain.approval import ApprovalNeed

_WHAT = {
    "void": "Void",
    "discount": "Discount over the limit",
    "qty_decrease": "Lower a quantity",
    "price_override": "Price override",
    "no_sale": "Open the drawer (no sale)",
    "cancel": "Cancel the sale",
    "refund": "Refund",
    "refund_to_cash": "Refund to cash",
    "unlock": "Unlock the till",
}


class ApproveModal(TillModal[ApprovalView | None]):
    BINDINGS = [Binding("escape", "cancel", "Back")]
    AUTO_FOCUS = "#manager-pin"

    def __init__(
        self,
        action: ApprovalNeed,
        note: str,
        *,
        check: Callable[[str], Awaitable[ApprovalView]] | None = None,
    ) -> None:
        """``check``: what a PIN is checked by, when not an approval for the signed-in
        cashier (unlocking a locked log-in, where nobody is signed in)."""
        super().__init__()
        self.action_name: ApprovalNeed = action
        self.note = note
        self.checking = False
        self._check_by = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Manager approval", classes="dialog-title")
            yield Label(f"{_WHAT[self.action_name]}: {self.note}", id="approve-what")
            yield _PinInput(password=True, placeholder="manager PIN", id="manager-pin")
            yield Label("", id="approve-error")
            yield Label("Enter: approve   Esc: back", classes="dialog-hint")

    def submit_pin(self) -> None:
        """Enter in the PIN field: check it (once; a second Enter while checking is lost)."""
        if self.checking:
            return
        field = self.query_one("#manager-pin", Input)
        pin = field.value
        field.value = ""
        self.checking = True
        self.query_one("#approve-error", Label).update("Checking...")
        self._check(pin)

    @work(exclusive=True, group="approve", exit_on_error=False)
    async def _check(self, pin: str) -> None:
        till = self.till
        label = self.query_one("#approve-error", Label)
        try:
            with self.boundary("checking the PIN", show=label.update) as outcome:
                if self._check_by is not None:
                    granted = await self._check_by(pin)
                else:
                    granted = await approve(
                        till.database,
                        pin,
                        action=self.action_name,
                        cashier_id=till.signed_in.id,
                        note=self.note,
                        now=till.clock(),
                    )
        finally:
            self.checking = False
        if not outcome.failed:
            till.local_change()
            self.dismiss(granted)

    def action_cancel(self) -> None:
        if self.checking:
            self.app.bell()
            return
        self.dismiss(None)


class _PinInput(Input):
    """The manager-PIN field: Enter marks the modal busy in key order (see module doc)."""

    async def action_submit(self) -> None:
        screen = self.screen
        if isinstance(screen, ApproveModal):
            screen.submit_pin()
