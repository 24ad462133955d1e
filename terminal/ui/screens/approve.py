"""A manager's PIN for a void or a large discount (DESIGN: approvals are audited).

Returns True once the service has checked the PIN and queued ``approval.granted``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from terminal.services.cashiers import ApprovalAction, approve
from terminal.services.errors import TillError
from terminal.ui.failures import unexpected

if TYPE_CHECKING:
    from terminal.ui.app import KedaiTill

_WHAT = {"void": "Void a line", "discount": "Discount over the limit"}


class ApproveModal(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "cancel", "Back")]
    AUTO_FOCUS = "#manager-pin"

    def __init__(self, action: str, note: str) -> None:
        super().__init__()
        self.action_name = cast("ApprovalAction", action)
        self.note = note

    @property
    def till(self) -> KedaiTill:
        return cast("KedaiTill", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Manager approval", classes="dialog-title")
            yield Label(f"{_WHAT.get(self.action_name, self.action_name)}: {self.note}")
            yield Input(password=True, placeholder="manager PIN", id="manager-pin")
            yield Label("", id="approve-error")

    @on(Input.Submitted, "#manager-pin")
    def _submitted(self, event: Input.Submitted) -> None:
        pin = event.value
        event.input.value = ""
        self._check(pin)

    @work(exclusive=True, group="approve", exit_on_error=False)
    async def _check(self, pin: str) -> None:
        till = self.till
        assert till.db is not None and till.cashier is not None
        try:
            await approve(
                till.db,
                pin,
                action=self.action_name,
                cashier_id=till.cashier.id,
                note=self.note,
                now=till.clock(),
            )
        except TillError as exc:
            self.query_one("#approve-error", Label).update(exc.message)
            return
        except Exception as exc:
            self.query_one("#approve-error", Label).update(unexpected(exc, "checking the PIN"))
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
