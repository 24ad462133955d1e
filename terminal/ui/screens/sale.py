"""The sale screen: scan, adjust, attach a member, park/recall, pay.

The cart and its line edits belong to the :class:`CartPane` widget; this screen composes
it with the side pane, runs the scan queue, and reacts to what the pane says.

The scan input always has focus. Every code it takes is numbered and queued for a single
consumer worker, strictly in order: a barcode scanner's burst is never dropped or
reordered (``exclusive=True`` per scan would *cancel* earlier lookups).

F9 and F4 take the cart as it stands *with every code scanned before the key*: they hold
the queue at that point, wait for the codes before it to be looked up, then pay or park
that cart. Codes scanned after the key wait, and go into the next cart (or back into
this one if payment is cancelled). Payment works on a copy of the cart.
Park and recall are not ``exclusive`` workers: a second F4 would cancel the first,
possibly after its COMMIT, and park the cart twice. ``_busy`` refuses a second one until
the first is over. Errors go through the screen's one boundary, and the cart always stays.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from uuid import UUID

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Label

from terminal.domain.money import format_cents
from terminal.services import catalog, parked
from terminal.services.cashiers import record_own_approval
from terminal.ui.cart import parse_qty
from terminal.ui.heap import freeze_long_lived_heap
from terminal.ui.messages import SaleCommitted, Scanned
from terminal.ui.screens.base import TillScreen
from terminal.ui.widgets.cart.cart_pane import CartPane, LineEdit
from terminal.ui.widgets.cart.customer_badge import CustomerBadge
from terminal.ui.widgets.cart.totals_panel import TotalsPanel
from terminal.ui.widgets.header.till_header import TillHeader
from terminal.ui.widgets.scan.scan_input import ScanInput
from terminal.ui.widgets.scan.scan_queue import ScanQueue
from terminal.ui.widgets.text import show_text

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sync.agent import AgentState
    from terminal.domain.approval import ApprovalNeed
    from terminal.services.schemas import ApprovalView, CustomerView, ProductView, Receipt
    from terminal.ui.cart import Cart, CartEntry

log = logging.getLogger(__name__)


class SaleScreen(TillScreen[None]):
    # The footer must fit 80 columns: short labels; the rarer keys are listed in the
    # side pane instead (#more-keys).
    BINDINGS = [
        Binding("f2", "search", "Find"),
        Binding("f3", "customer", "Member"),
        Binding("f4", "park", "Park"),
        Binding("f5", "recall", "Recall"),
        Binding("f9", "pay", "Pay"),
        Binding("escape", "back", "Clear"),
        Binding("f6", "quantity", "Qty"),
        Binding("f7", "discount", "Disc"),
        Binding("f8", "void", "Void"),
        Binding("f10", "sync", "Sync", show=False),
        Binding("f11", "detach", "No member", show=False),
        Binding("f12", "reprint", "Reprint", show=False),
        Binding("ctrl+l", "logout", "Close shift, log out", show=False),
        Binding("ctrl+r", "refund", "Refund / return", show=False),
        Binding("ctrl+f", "receipts", "Past receipts", show=False),
        Binding("f1", "keys", "All keys", show=False),
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        # Priority: the scan input would take these as its own editing keys.
        Binding("ctrl+x", "x_report", "X report", show=False, priority=True),
        Binding("ctrl+e", "cash_move", "Cash in/out", show=False, priority=True),
        Binding("ctrl+d", "no_sale", "No sale", show=False, priority=True),
        Binding("ctrl+k", "cancel_sale", "Cancel sale", show=False, priority=True),
        Binding("ctrl+p", "price_override", "Price override", show=False),
    ]
    AUTO_FOCUS = "#scan"

    def __init__(self) -> None:
        super().__init__()
        self._scans = ScanQueue()
        self._busy: str | None = None
        """Set while a park or recall is saving: the cart is not to be touched twice."""

    def compose(self) -> ComposeResult:
        till = self.till
        st = till.store.store
        yield TillHeader(
            store=st.store_name,
            till=f"{st.outlet_code}-{st.terminal_code}",
            cashier=till.signed_in.name,
            clock=till.clock,
            sync_state=till.sync_state,
        )
        with Horizontal(id="sale-body"):
            yield CartPane(till.store.gst_rate_bp)
            with Vertical(id="side-pane"):
                yield CustomerBadge(id="badge")
                yield TotalsPanel(id="totals")
                # Fixed heights (the name on two lines, clipped; the price on one):
                # a scan never changes the side pane's layout.
                yield Label("", id="last-scan")
                yield Label("", id="last-price")
                yield Label(
                    "F1 All keys, refunds\nF12 Reprint  F10 Sync\nF11 No member\n"
                    "Ctrl+L Close shift",
                    id="more-keys",
                )
        yield Footer(compact=True)

    @property
    def pane(self) -> CartPane:
        return self.query_one(CartPane)

    @property
    def cart(self) -> Cart:
        return self.pane.cart

    # ------------------------------------------------------------------ the pane says

    @on(CartPane.Changed)
    def _cart_changed(self, message: CartPane.Changed) -> None:
        self.query_one(TotalsPanel).show(message.totals, item_count=message.item_count)
        self.query_one(CustomerBadge).show(message.customer)
        last = message.last
        show_text(self.query_one("#last-scan", Label), f"Last: {last.name}" if last else "")
        show_text(
            self.query_one("#last-price", Label),
            f"S${format_cents(last.price_cents)}" if last else "",
        )

    @on(CartPane.Refused)
    def _refused(self, message: CartPane.Refused) -> None:
        self.error(message.text, message.title)

    @on(CartPane.ApprovalNeeded)
    def _approval_needed(self, message: CartPane.ApprovalNeeded) -> None:
        self._with_approval(message.need, message.edit)

    # ------------------------------------------------------------------ scanning

    @on(Scanned)
    def _scanned(self, message: Scanned) -> None:
        if self._scans.put(message.code):
            self._consume_scans()

    def _hold(self, key: str) -> int:
        """Keep codes scanned after ``key`` for later; return the last code to wait for.

        Counted by the scan input, in key order: by the time a binding runs, the input
        may have taken later codes, and its last ``Scanned`` may not have reached us.
        """
        through = self.query_one(ScanInput).taken_before(key)
        self._scans.hold(through)
        return through

    def _release(self) -> None:
        if self._scans.release():
            self._consume_scans()

    @work(group="scan-queue", exit_on_error=False)
    async def _consume_scans(self) -> None:
        """The one consumer of the scan queue: lookups happen in scan order.

        Started when a code arrives and ends when the queue is empty (or held), so the
        app's workers all finish between scans. ``exclusive=True`` is deliberately not
        used: it would cancel a running lookup.
        """
        await self._scans.drain(self._add_code)

    async def _add_code(self, code: str) -> None:
        """Look one code up and add it; any failure is told and the next code goes on."""
        with self.boundary(f"adding {code!r}", title="Not added") as outcome:
            qty = 1
            if "*" in code:
                head, _, code = code.partition("*")
                qty = parse_qty(head)
            product = await catalog.lookup_code(self.till.database, code)
            self._add_product(product, qty)
        if not outcome.failed:
            self.error_clear()

    def error_clear(self) -> None:
        show_text(self.query_one("#message", Label), "")

    async def scans_settled(self) -> None:
        """Wait until every scan not held for the next cart is looked up (tests, bench)."""
        await self._scans.settled()

    async def scans_looked_up(self, count: int) -> None:
        """Wait until the first ``count`` codes scanned on this screen are looked up (and
        added or refused), even those whose keys are still on their way (bench)."""
        await self._scans.through(count)

    def action_cursor(self, step: int) -> None:
        self.pane.move(step)

    def action_back(self) -> None:
        self.query_one(ScanInput).value = ""
        self.error_clear()

    # ------------------------------------------------------------------ line edits

    def _selected(self) -> int | None:
        index = self.pane.selected()
        if index is None:
            self.error("The cart is empty.", "Cart")
        return index

    def _ask_line(
        self,
        title: str,
        question: Callable[[CartEntry], str],
        propose: Callable[[int, str], None],
        *,
        default: Callable[[CartEntry], str] | None = None,
    ) -> None:
        """F6/F7/Ctrl+P: ask for the selected line's new value, then propose it to the pane
        (which asks for a manager where the store's limits say so)."""
        from terminal.ui.screens.prompt import PromptModal

        index = self._selected()
        if index is None:
            return
        entry = self.cart.entries[index]

        def done(text: str | None) -> None:
            if text is not None:
                propose(index, text)

        initial = default(entry) if default is not None else ""
        self.app.push_screen(PromptModal(title, question(entry), default=initial), done)

    def action_quantity(self) -> None:
        self._ask_line(
            "Quantity",
            lambda e: f"{e.product.name}: new quantity (lowering it needs a manager)",
            self.pane.propose_quantity,
            default=lambda e: str(e.qty),
        )

    def action_discount(self) -> None:
        self._ask_line(
            "Line discount",
            lambda e: (
                f"{e.product.name}: type an amount in S$ (e.g. 1.50) "
                "or a percent of the line (e.g. 10%)"
            ),
            self.pane.propose_discount,
        )

    def action_void(self) -> None:
        index = self._selected()
        if index is not None:
            self.pane.propose_void(index)

    def _with_approval(self, need: ApprovalNeed, edit: LineEdit) -> None:
        """A cashier needs a manager's PIN; a manager confirms their own once. Both audited."""
        from terminal.ui.screens.approve import ApproveModal
        from terminal.ui.screens.confirm import ConfirmModal

        if self.till.signed_in.role == "manager":

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._own_approval(need, edit)

            what = {"void": "Void", "discount": "Discount", "qty_decrease": "Lower quantity"}.get(
                need, need.replace("_", " ").capitalize()
            )
            self.app.push_screen(
                ConfirmModal(
                    f"{what}: manager's own approval",
                    f"{edit.note}\nYou approve this yourself; it is recorded for HQ.",
                    yes="approve",
                    no="keep the line as it is",
                ),
                confirmed,
            )
            return

        def approved(granted: ApprovalView | None) -> None:
            if granted is not None:
                self._applied(edit, granted)

        self.app.push_screen(ApproveModal(need, edit.note), approved)

    @work(group="approval", exit_on_error=False)
    async def _own_approval(self, need: ApprovalNeed, edit: LineEdit) -> None:
        """Record the manager's ``approval.granted`` first: no audit, no action."""
        till = self.till
        with self.boundary("recording the approval", title="Approval") as outcome:
            granted = await record_own_approval(
                till.database,
                action=need,
                manager_id=till.signed_in.id,
                note=edit.note,
                now=till.clock(),
            )
        if not outcome.failed:
            till.local_change()
            self._applied(edit, granted)

    def _applied(self, edit: LineEdit, approval: ApprovalView | None = None) -> None:
        if self.pane.apply(edit, approval) and edit.kind == "void":
            self.notify(f"Voided: {edit.entry.product.name}", title="Line void")

    # ------------------------------------------------------------------ F-keys

    def action_search(self) -> None:
        from terminal.ui.screens.search import SearchModal

        def done(product: ProductView | None) -> None:
            if product is not None:
                with self.boundary("adding the item", title="Not added"):
                    self._add_product(product)

        self.app.push_screen(SearchModal(), done)

    def action_customer(self) -> None:
        from terminal.ui.screens.customer import CustomerModal

        def done(customer: CustomerView | None) -> None:
            if customer is not None:
                self.pane.attach(customer)
                self.notify(f"Member attached: {customer.name}", title="Customer")

        self.app.push_screen(CustomerModal(), done)

    def action_detach(self) -> None:
        customer = self.cart.customer
        if customer is None:
            self.error("No member is attached to this sale.", "Customer")
            return
        self.pane.attach(None)
        self.notify(f"Member taken off the sale: {customer.name}", title="Customer")

    def _refuse_if_busy(self) -> bool:
        if self._busy is None:
            return False
        self.app.bell()
        self.notify(f"Still saving the {self._busy}: one moment.", title="Busy")
        return True

    def action_park(self) -> None:
        if self._refuse_if_busy():
            return
        through = self._hold("f4")
        if not self.cart.entries and self._scans.looked_up >= through:
            self._release()
            self.error("The cart is empty: there is nothing to park.", "Park")
            return
        self._busy = "park"
        self._park(through)

    @work(group="park", exit_on_error=False)
    async def _park(self, through: int) -> None:
        """Park the cart with the codes scanned before F4; later ones start the next cart."""
        till = self.till
        try:
            await self._scans.through(through)
            if not self.cart.entries:
                self.error("The cart is empty: there is nothing to park.", "Park")
                return
            with self.boundary("parking the sale", title="Park") as outcome:
                view = await parked.park_sale(
                    till.database,
                    cashier_id=till.signed_in.id,
                    items=self.cart.parked_items(),
                    customer=self.cart.customer,
                    now=till.clock(),
                    sale_approval=self.cart.sale_approval,
                    sale_discount_approved=self.cart.sale_discount_approved,
                )
            if outcome.failed:
                return
            self.pane.clear()  # held scans cannot have changed it meanwhile
            self.notify(f"Parked: {view.label} (F5 to recall)", title="Park")
        finally:
            self._busy = None
            self._release()

    def action_recall(self) -> None:
        from terminal.ui.screens.recall import RecallModal

        if self._refuse_if_busy():
            return
        if self.cart.entries:
            self.error("Finish or park (F4) the current sale before recalling.", "Recall")
            return

        def done(parked_id: UUID | None) -> None:
            if parked_id is not None and not self._refuse_if_busy():
                self._busy = "recall"
                self._recall(parked_id)

        self.app.push_screen(RecallModal(), done)

    @work(group="park", exit_on_error=False)
    async def _recall(self, parked_id: UUID) -> None:
        try:
            with self.boundary("recalling the sale", title="Recall") as outcome:
                cart = await parked.recall_sale(self.till.database, parked_id)
        finally:
            self._busy = None
        if outcome.failed:
            return
        self.pane.load(cart)
        if cart.missing:
            self.error(f"No longer sold, left out: {', '.join(cart.missing)}", "Recall")
        else:
            self.notify(f"Recalled: {cart.label}", title="Recall")

    def action_pay(self) -> None:
        if self._refuse_if_busy():
            return
        through = self._hold("f9")
        if not self.cart.entries and self._scans.looked_up >= through:
            self._release()
            self.error("The cart is empty: scan an item first.", "Pay")
            return
        self._busy = "payment"
        self._pay(through)

    @work(group="pay", exit_on_error=False)
    async def _pay(self, through: int) -> None:
        """Pay for the cart with every code scanned before F9 (it waits for their lookups).

        The payment screen gets a copy of the cart: codes scanned after F9 are held
        until it closes, then go into the next cart (or this one if payment is cancelled).
        """
        from terminal.ui.screens.payment import PaymentScreen

        with self.boundary("starting the payment", title="Pay"):
            await self._scans.through(through)
            totals = self.pane.totals()
            if totals is None:
                self.error("The cart is empty: scan an item first.", "Pay")
            else:
                self.app.push_screen(PaymentScreen(self.cart.copy(), totals), self._paid)
                return  # _paid ends the payment
        self._busy = None
        self._release()

    def _paid(self, receipt: Receipt | None) -> None:
        from terminal.ui.screens.receipt import ReceiptModal

        self._busy = None
        if receipt is None:
            self._release()
            return
        self.pane.clear()
        self._release()
        self.app.post_message(SaleCommitted(receipt))
        self.app.push_screen(ReceiptModal(receipt))

    def action_reprint(self) -> None:
        from terminal.ui.screens.receipt import ReceiptModal

        if self.till.last_receipt is None:
            self.error("No sale yet on this till since it started.", "Reprint")
            return
        self.app.push_screen(ReceiptModal(self.till.last_receipt, reprint=True))

    def action_refund(self) -> None:
        from terminal.ui.screens.refund import RefundScreen

        if self._refuse_if_busy():
            return
        if self.cart.entries:
            self.error("Finish or park (F4) the sale before a refund (Ctrl+R).", "Refund")
            return
        self.app.push_screen(RefundScreen())

    def action_receipts(self) -> None:
        from terminal.ui.screens.receipts import ReceiptsScreen

        self.app.push_screen(ReceiptsScreen())

    def action_keys(self) -> None:
        """F1: every key of this screen in a list; Enter on one does what its key does."""
        from terminal.ui.screens.keys import KeysModal, key_entries

        display = {
            b.key: self.app.get_key_display(b) for b in self.BINDINGS if isinstance(b, Binding)
        }

        def chosen(action: str | None) -> None:
            if action is not None:
                self.call_later(self.run_action, action)

        self.app.push_screen(KeysModal(key_entries(self.BINDINGS, display)), chosen)

    def action_sync(self) -> None:
        from terminal.ui.screens.sync import SyncScreen

        self.app.push_screen(SyncScreen())

    def action_logout(self) -> None:
        from terminal.ui.screens.shift import CloseShiftModal

        if self._refuse_if_busy():
            return
        if self.cart.entries:
            self.error("Finish or park (F4) the sale before logging out.", "Logout")
            return
        if self.till.shift is None:
            self.till.end_session()
            return
        self.app.push_screen(CloseShiftModal())

    # ------------------------------------------------------------------ shift operations

    @work(exclusive=True, group="x-report", exit_on_error=False)
    async def action_x_report(self) -> None:
        from terminal.services.shifts import x_report
        from terminal.ui.screens.reports import XReportScreen

        till = self.till
        if till.shift is None:
            self.error("No shift is open: there is nothing to report.", "X report")
            return
        with self.boundary("making the X report", title="X report") as outcome:
            report = await x_report(till.database, till.shift.id)
        if not outcome.failed:
            self.app.push_screen(XReportScreen(report, store_name=till.store.store.store_name))

    def action_cash_move(self) -> None:
        from terminal.ui.screens.cash import CashMoveModal
        from terminal.ui.screens.ops import kick_drawer

        def done(said: str | None) -> None:
            if said is not None:
                self.notify(said, title="Cash in/out")
                kick_drawer(self, say_missing=False)

        self.app.push_screen(CashMoveModal(), done)

    def action_no_sale(self) -> None:
        from terminal.ui.screens.ops import open_drawer_no_sale

        open_drawer_no_sale(self)

    def action_cancel_sale(self) -> None:
        if self._refuse_if_busy():
            return
        self._busy = "cancel"
        self._cancel(self._hold("ctrl+k"))

    @work(group="park", exit_on_error=False)
    async def _cancel(self, through: int) -> None:
        """Cancel the cart with the codes scanned before Ctrl+K (one approval for all)."""
        from terminal.ui.screens.ops import cancel_cart

        try:
            await self._scans.through(through)
            totals = self.pane.totals()
        except BaseException:
            self._cancelled(False)
            raise
        if totals is None:
            self.error("The cart is empty: there is nothing to cancel.", "Cancel")
            self._cancelled(False)
            return
        cancel_cart(
            self,
            lines=len(self.cart.entries),
            total_cents=totals.total_cents,
            done=self._cancelled,
        )

    def _cancelled(self, done: bool) -> None:
        if done:
            self.pane.clear()  # held scans cannot have changed it meanwhile
            self.notify("Sale cancelled: recorded.", title="Cancel")
        self._busy = None
        self._release()

    def quit_held(self) -> bool:
        """Ctrl+Q: True if quitting waits for the cashier (a cart is open: park it?)."""
        from terminal.ui.screens.confirm import ConfirmModal

        if not self.cart.entries and self._scans.looked_up >= self._scans.taken:
            return False
        if self.app.screen is not self:
            self.notify("Finish what is on screen first (Esc), then Ctrl+Q.", title="Quit")
            return True
        if self._refuse_if_busy():
            return True

        def answered(yes: bool | None) -> None:
            if yes and not self._refuse_if_busy():
                self._busy = "park"
                self._park_and_quit()

        self.app.push_screen(
            ConfirmModal(
                "Quit with a sale open",
                "Park this sale and quit? F5 recalls it after the next log-in.",
                yes="park it and quit",
                no="stay",
            ),
            answered,
        )
        return True

    @work(group="quit", exit_on_error=False)
    async def _park_and_quit(self) -> None:
        await self._park(self._hold("ctrl+q")).wait()
        if not self.cart.entries:
            self.app.exit()

    # ------------------------------------------------------------------ line operations

    _limits_synced: datetime | None = None
    """The sync the approval limits were last read after."""

    def on_mount(self) -> None:
        self._load_limits()
        # Once painted: its widgets live as long as the cashier's session (see heap.py).
        self.call_after_refresh(freeze_long_lived_heap)

    def sync_state_changed(self, state: AgentState) -> None:
        """A pull may have brought new store settings: judge edits by them from now on
        (read again once per successful sync, not on every progress update)."""
        synced = state.last_success_at
        if synced is not None and synced != self._limits_synced:
            self._limits_synced = synced
            self._load_limits()

    @work(exclusive=True, group="limits", exit_on_error=False)
    async def _load_limits(self) -> None:
        """The store's approval limits, the ones the checkout and ``change_line`` apply."""
        from terminal.services.approvals import current_limits

        with self.boundary("reading the approval limits", title="Approvals") as outcome:
            limits = await current_limits(self.till.database)
        if not outcome.failed:
            self.pane.limits = limits

    def action_price_override(self) -> None:
        self._ask_line(
            "Price override",
            lambda e: (
                f"{e.product.name}: new price each in S$ "
                f"(now {format_cents(e.unit_price_cents)}; a manager approves it)"
            ),
            self.pane.propose_price,
        )

    @on(CartPane.ItemsTakenOff)
    def _items_taken_off(self, message: CartPane.ItemsTakenOff) -> None:
        """Every void and lower quantity goes to the shift's report and HQ; until it is
        recorded, pay and park wait (the cart must not be paid with the line back in)."""
        self._busy = "void"
        self._record_taken_off(message.edit, message.now)

    @work(group="void", exit_on_error=False)
    async def _record_taken_off(self, edit: LineEdit, now: CartEntry | None) -> None:
        from terminal.services.till_ops import change_line

        till = self.till
        try:
            with self.boundary("recording the void", title="Void") as outcome:
                await change_line(
                    till.database,
                    cashier_id=till.signed_in.id,
                    sku=edit.entry.product.sku,
                    unit_price_cents=edit.entry.unit_price_cents,
                    old_qty=edit.entry.qty,
                    new_qty=0 if now is None else now.qty,
                    shift_id=till.shift.id if till.shift is not None else None,
                    approvals=[g.as_approval() for g in edit.granted],
                    now=till.clock(),
                )
        finally:
            self._busy = None
        if outcome.failed:
            self.pane.undo(edit, now)
        else:
            till.local_change()

    def _add_product(self, product: ProductView, qty: int = 1) -> None:
        """Add an item; an age-restricted one once the cashier confirms the customer's age
        (Esc leaves the cart as it was). Asked once per sale."""
        from terminal.ui.screens.age_check import AgeCheckModal

        if not self.pane.needs_age_check(product):
            self.pane.add(product, qty)
            return

        def answered(of_age: bool | None) -> None:
            if not of_age:
                self.notify(f"Not added: {product.name} (age not confirmed)", title="Age check")
                return
            with self.boundary("adding the item", title="Not added"):
                self.pane.add(product, qty, age_checked=True)

        self.app.push_screen(AgeCheckModal(product), answered)
