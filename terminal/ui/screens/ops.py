"""What the till's own operations share: a manager's approval when the service asks for
one, and the printer (a document, or the cash drawer) off the UI's thread.

A no-sale drawer open is tried without an approval first: the service decides, and
refuses with ``ApprovalRequired`` having written nothing. Only then is a manager asked
(their PIN, or a logged-in manager's own confirm, both audited) and the operation tried
once more carrying that approval. Cancelling a sale reads the policy first instead, so
that one dialog is both the question and the approval (the PIN dialog when a manager
must approve, a plain confirm when not); the service still checks. Dialogs answer
through callbacks, never by a worker waiting on them: a worker that waits for a person
would hold up every ``wait_for_complete`` (the tests, and the app at exit).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from terminal.domain.approval import simple_needs
from terminal.domain.money import format_cents
from terminal.domain.words import plural
from terminal.printing.printer import CashDrawer, PrinterError
from terminal.services.approvals import current_limits
from terminal.services.cashiers import record_own_approval
from terminal.services.errors import ApprovalRequired
from terminal.services.till_ops import cancel_sale, open_drawer
from terminal.ui.screens.base import TillModal, TillScreen

if TYPE_CHECKING:
    from terminal.domain.approval import ApprovalNeed
    from terminal.services.schemas import ApprovalIn, ApprovalView

log = logging.getLogger(__name__)

Host = TillScreen[Any] | TillModal[Any]
Call = Callable[[Sequence["ApprovalIn"]], Awaitable[None]]


def ask_approval(
    host: Host,
    need: ApprovalNeed,
    note: str,
    then: Callable[[ApprovalView | None], None],
) -> None:
    """A cashier types a manager's PIN; a manager confirms their own. ``then`` gets the
    recorded approval, or None if nobody approved (Esc)."""
    from terminal.ui.screens.approve import ApproveModal
    from terminal.ui.screens.confirm import ConfirmModal

    till = host.till
    if till.signed_in.role != "manager":
        host.app.push_screen(ApproveModal(need, note), then)
        return

    async def record() -> None:
        with host.boundary("recording the approval", title="Approval") as outcome:
            granted = await record_own_approval(
                till.database,
                action=need,
                manager_id=till.signed_in.id,
                note=note,
                now=till.clock(),
            )
        if outcome.failed:
            then(None)
            return
        till.local_change()
        then(granted)

    def confirmed(yes: bool | None) -> None:
        if yes:
            host.run_worker(record(), group="approval", exit_on_error=False)
        else:
            then(None)

    host.app.push_screen(
        ConfirmModal(
            "Manager's own approval",
            f"{note}\nYou approve this yourself; it is recorded for HQ.",
            yes="approve",
            no="back, nothing done",
        ),
        confirmed,
    )


class ManagedOp:
    """One till operation the service may refuse until a manager approves it.

    :meth:`start` tries ``call`` with no approval; on ``ApprovalRequired`` it asks for
    ``need`` and tries again with it. ``done(True)`` once the call committed (the sync
    indicator is told), ``done(False)`` if it failed (the cashier has been told) or
    nobody approved. Exactly one ``done`` per :meth:`start` or :meth:`ask_first`.
    """

    def __init__(
        self,
        host: Host,
        *,
        need: ApprovalNeed,
        note: str,
        doing: str,
        title: str,
        call: Call,
        done: Callable[[bool], None],
    ) -> None:
        self.host = host
        self.need: ApprovalNeed = need
        self.note = note
        self.doing = doing
        self.title = title
        self.call = call
        self.done = done

    def start(self, approvals: Sequence[ApprovalIn] = ()) -> None:
        self.host.run_worker(self._try(list(approvals)), group="till-op", exit_on_error=False)

    def ask_first(self) -> None:
        """The policy is known to need a manager: ask before trying."""
        ask_approval(self.host, self.need, self.note, self._approved)

    def _approved(self, granted: ApprovalView | None) -> None:
        if granted is None:
            self.done(False)
        else:
            self.start([granted.as_approval()])

    async def _try(self, approvals: list[ApprovalIn]) -> None:
        needed = False
        committed = False
        try:
            with self.host.boundary(self.doing, title=self.title) as outcome:
                try:
                    await self.call(approvals)
                except ApprovalRequired:
                    if approvals:  # carried one and still refused: say why
                        raise
                    needed = True
            committed = not outcome.failed and not needed
        finally:
            if committed:
                self.host.till.local_change()
            if needed:
                self.ask_first()
            else:
                self.done(committed)


def print_document(host: Host, text: str, *, what: str) -> None:
    """Print ``text`` on the till's printer in a thread; a fault is said, never raised."""
    printer = host.till.printer
    if printer is None:
        host.notify("No printer is set up on this till.", title=what, severity="warning")
        return

    def run() -> None:
        try:
            printer.print_text(text)
        except PrinterError as exc:
            log.warning("%s not printed: %s", what, exc)
            host.app.call_from_thread(
                host.notify, f"Not printed: {exc} (F12 to try again)", title=what, severity="error"
            )

    host.run_worker(run, group="print", thread=True, exit_on_error=False)


def cancel_cart(host: Host, *, lines: int, total_cents: int, done: Callable[[bool], None]) -> None:
    """Cancel the cart on screen: one approval for the whole sale if the policy wants
    one (the PIN dialog is then the question), else a plain confirm. ``done(True)`` once
    ``sale.cancelled`` is saved; the caller empties the cart."""
    host.run_worker(_cancel_cart(host, lines, total_cents, done), exit_on_error=False)


async def _cancel_cart(
    host: Host, lines: int, total_cents: int, done: Callable[[bool], None]
) -> None:
    from terminal.ui.screens.confirm import ConfirmModal

    till = host.till
    with host.boundary("cancelling the sale", title="Cancel") as outcome:
        limits = await current_limits(till.database)
        cashier_id = till.signed_in.id
    if outcome.failed:
        done(False)
        return
    shift_id = till.shift.id if till.shift is not None else None
    what = f"{plural(lines, 'line')}, S${format_cents(total_cents)}"

    async def call(approvals: Sequence[ApprovalIn]) -> None:
        await cancel_sale(
            till.database,
            cashier_id=cashier_id,
            line_count=lines,
            total_cents=total_cents,
            shift_id=shift_id,
            approvals=approvals,
            now=till.clock(),
        )

    op = ManagedOp(
        host,
        need="cancel",
        note=f"the whole sale ({what})",
        doing="cancelling the sale",
        title="Cancel",
        call=call,
        done=done,
    )
    if simple_needs("cancel", limits):
        op.ask_first()
        return

    def answered(yes: bool | None) -> None:
        if yes:
            op.start()
        else:
            done(False)

    host.app.push_screen(
        ConfirmModal(
            "Cancel the sale",
            f"Cancel the whole sale ({what})? The cart is emptied; the cancel is recorded.",
            yes="cancel the sale",
            no="keep selling",
        ),
        answered,
    )


def open_drawer_no_sale(host: Host) -> None:
    """Ctrl+D: record a no-sale open (a manager approves if the policy says so), then
    open the drawer."""
    till = host.till
    shift = till.shift
    if shift is None:
        host.error("No shift is open: log in again to open one.", "No sale")
        return
    cashier_id = till.signed_in.id

    async def call(approvals: Sequence[ApprovalIn]) -> None:
        await open_drawer(
            till.database,
            cashier_id=cashier_id,
            shift_id=shift.id,
            approvals=approvals,
            now=till.clock(),
        )

    def done(opened: bool) -> None:
        if opened:
            host.notify("Drawer opened, no sale: recorded.", title="No sale")
            kick_drawer(host)

    ManagedOp(
        host,
        need="no_sale",
        note="open the cash drawer",
        doing="recording the no-sale",
        title="No sale",
        call=call,
        done=done,
    ).start()


def kick_drawer(host: Host, *, say_missing: bool = True) -> None:
    """Open the cash drawer through the printer it hangs on (in a thread)."""
    printer = host.till.printer
    if not isinstance(printer, CashDrawer):
        if not say_missing:
            return
        host.notify(
            "No cash drawer is connected to this till: open it with its key.",
            title="Drawer",
            severity="warning",
        )
        return
    drawer: CashDrawer = printer

    def run() -> None:
        try:
            drawer.kick_drawer()
        except PrinterError as exc:
            log.warning("drawer not opened: %s", exc)
            host.app.call_from_thread(
                host.notify, f"{exc} Open it with its key.", title="Drawer", severity="error"
            )

    host.run_worker(run, group="drawer", thread=True, exit_on_error=False)
