"""The sale screen: scan, adjust, attach a member, park/recall, pay.

The scan input always has focus. Every code it takes is numbered and queued for a single
consumer worker, strictly in order: a barcode scanner's burst is never dropped or
reordered (``exclusive=True`` per scan would *cancel* earlier lookups).

F9 and F4 take the cart as it stands *with every code scanned before the key*: they hold
the queue at that point, wait for the codes before it to be looked up, then pay or park
that cart. Codes scanned after the key wait, and go into the next cart (or back into
this one if payment is cancelled). Payment works on a copy of the cart.
Park and recall are not ``exclusive`` workers: a second F4 would cancel the first,
possibly after its COMMIT, and park the cart twice. ``_busy`` refuses a second one until
the first is over. Domain and service errors become notifications here, and the cart
always stays.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast
from uuid import UUID

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label

from terminal.domain.cart import CartError
from terminal.domain.money import format_cents
from terminal.services import catalog, parked
from terminal.services.errors import TillError
from terminal.services.schemas import CustomerView, ProductView, Receipt
from terminal.ui.cart import Cart, parse_qty
from terminal.ui.failures import unexpected
from terminal.ui.messages import SaleCommitted, Scanned
from terminal.ui.screens.sale_lines import LineEdits
from terminal.ui.widgets.cart.cart_table import CartTable
from terminal.ui.widgets.cart.customer_badge import CustomerBadge
from terminal.ui.widgets.cart.totals_panel import TotalsPanel
from terminal.ui.widgets.header.till_header import TillHeader
from terminal.ui.widgets.scan.scan_input import ScanInput
from terminal.ui.widgets.scan.scan_queue import ScanQueue

if TYPE_CHECKING:
    from terminal.db.engine import Database
    from terminal.ui.app import KedaiTill

log = logging.getLogger(__name__)


class SaleScreen(LineEdits, Screen[None]):
    # The footer must fit 80 columns (75 used): short labels; the rarer keys are listed
    # in the side pane instead (#more-keys).
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
        Binding("f12", "reprint", "Reprint", show=False),
        Binding("ctrl+l", "logout", "Log out", show=False),
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
    ]
    AUTO_FOCUS = "#scan"

    def __init__(self) -> None:
        super().__init__()
        self.cart = Cart()
        self._scans = ScanQueue()
        self._busy: str | None = None
        """Set while a park or recall is saving: the cart is not to be touched twice."""

    @property
    def till(self) -> KedaiTill:
        return cast("KedaiTill", self.app)

    @property
    def db(self) -> Database:
        assert self.till.db is not None
        return self.till.db

    def compose(self) -> ComposeResult:
        t = self.till
        assert t.profile is not None and t.cashier is not None
        st = t.profile.store
        yield TillHeader(
            store=st.store_name,
            till=f"{st.outlet_code}-{st.terminal_code}",
            cashier=t.cashier.name,
            clock=t.clock,
            sync_state=t.sync_state,
        )
        with Horizontal(id="sale-body"):
            with Vertical(id="cart-pane"):
                yield CartTable()
                with Horizontal(id="scan-row"):
                    yield Label("Scan/SKU", id="scan-label")
                    yield ScanInput(placeholder="barcode, SKU, or 3*barcode", id="scan")
            with Vertical(id="side-pane"):
                yield CustomerBadge(id="badge")
                yield TotalsPanel(id="totals")
                yield Label("", id="last-scan")
                yield Label("F12 Reprint  F10 Sync\nCtrl+L Close shift", id="more-keys")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._refresh_cart()

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
        await self._scans.drain(self._add_code_safely)

    async def _add_code_safely(self, code: str) -> None:
        try:
            await self._add_code(code)
        except Exception as exc:  # one bad lookup must not strand the codes after it
            self._error(unexpected(exc, f"adding {code!r}"), "Not added")

    async def _add_code(self, code: str) -> None:
        qty = 1
        if "*" in code:
            head, _, code = code.partition("*")
            try:
                qty = parse_qty(head)
            except CartError as exc:
                self._error(str(exc), "Quantity")
                return
        try:
            product = await catalog.lookup_code(self.db, code)
            index = self.cart.add(product, qty)
        except TillError as exc:
            self._error(exc.message, "Not added")
            return
        except CartError as exc:
            self._error(str(exc), "Quantity")
            return
        self._refresh_cart(select=index)
        self.query_one("#last-scan", Label).update(
            f"{product.name}\nS${format_cents(product.price_cents)}"
        )

    async def scans_settled(self) -> None:
        """Wait until every scan not held for the next cart is looked up (tests, bench)."""
        await self._scans.settled()

    # ------------------------------------------------------------------ cart view

    def _refresh_cart(self, *, select: int | None = None) -> None:
        assert self.till.profile is not None
        try:
            totals = self.cart.totals(self.till.profile.gst_rate_bp)
        except CartError as exc:
            self._error(str(exc), "Cart")
            return
        self.query_one(CartTable).show(self.cart, totals, select=select)
        self.query_one(TotalsPanel).show(totals, item_count=sum(e.qty for e in self.cart.entries))
        self.query_one(CustomerBadge).show(self.cart.customer)

    def _error(self, text: str, title: str = "") -> None:
        log.info("shown to cashier: %s", text)
        self.app.bell()
        self.notify(text, title=title, severity="error", timeout=6)

    def action_cursor(self, step: int) -> None:
        table = self.query_one(CartTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    def action_back(self) -> None:
        self.query_one(ScanInput).value = ""

    # ------------------------------------------------------------------ F-keys

    def action_search(self) -> None:
        from terminal.ui.screens.search import SearchModal

        def done(product: ProductView | None) -> None:
            if product is not None:
                self._refresh_cart(select=self.cart.add(product))

        self.app.push_screen(SearchModal(), done)

    def action_customer(self) -> None:
        from terminal.ui.screens.customer import CustomerModal

        def done(customer: CustomerView | None) -> None:
            if customer is not None:
                self.cart.customer = customer
                self._refresh_cart()
                self.notify(f"Member attached: {customer.name}", title="Customer")

        self.app.push_screen(CustomerModal(), done)

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
            self._error("The cart is empty: there is nothing to park.", "Park")
            return
        self._busy = "park"
        self._park(through)

    @work(group="park", exit_on_error=False)
    async def _park(self, through: int) -> None:
        """Park the cart with the codes scanned before F4; later ones start the next cart."""
        try:
            await self._scans.through(through)
            if not self.cart.entries:
                self._error("The cart is empty: there is nothing to park.", "Park")
                return
            assert self.till.cashier is not None
            view = await parked.park_sale(
                self.db,
                cashier_id=self.till.cashier.id,
                items=self.cart.parked_items(),
                customer=self.cart.customer,
                now=self.till.clock(),
            )
            self.cart.clear()  # held scans cannot have changed it meanwhile
            self._refresh_cart()
            self.notify(f"Parked: {view.label} (F5 to recall)", title="Park")
        except TillError as exc:
            self._error(exc.message, "Park")
        except Exception as exc:
            self._error(unexpected(exc, "parking the sale"), "Park")
        finally:
            self._busy = None
            self._release()

    def action_recall(self) -> None:
        from terminal.ui.screens.recall import RecallModal

        if self._refuse_if_busy():
            return
        if self.cart.entries:
            self._error("Finish or park (F4) the current sale before recalling.", "Recall")
            return

        def done(parked_id: UUID | None) -> None:
            if parked_id is not None and not self._refuse_if_busy():
                self._busy = "recall"
                self._recall(parked_id)

        self.app.push_screen(RecallModal(), done)

    @work(group="park", exit_on_error=False)
    async def _recall(self, parked_id: UUID) -> None:
        try:
            cart = await parked.recall_sale(self.db, parked_id)
        except TillError as exc:
            self._error(exc.message, "Recall")
            return
        except Exception as exc:
            self._error(unexpected(exc, "recalling the sale"), "Recall")
            return
        finally:
            self._busy = None
        scanned_meanwhile = list(self.cart.entries)
        self.cart.load(cart.items, cart.customer or self.cart.customer)
        self.cart.entries.extend(scanned_meanwhile)
        self._refresh_cart(select=0)
        if cart.missing:
            self._error(f"No longer sold, left out: {', '.join(cart.missing)}", "Recall")
        else:
            self.notify(f"Recalled: {cart.label}", title="Recall")

    def action_pay(self) -> None:

        if self._refuse_if_busy():
            return
        through = self._hold("f9")
        if not self.cart.entries and self._scans.looked_up >= through:
            self._release()
            self._error("The cart is empty: scan an item first.", "Pay")
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

        try:
            await self._scans.through(through)
            assert self.till.profile is not None
            totals = self.cart.totals(self.till.profile.gst_rate_bp)
            if totals is None:
                self._error("The cart is empty: scan an item first.", "Pay")
            else:
                self.app.push_screen(PaymentScreen(self.cart.copy(), totals), self._paid)
                return  # _paid ends the payment
        except (CartError, TillError) as exc:
            self._error(exc.message if isinstance(exc, TillError) else str(exc), "Pay")
        except Exception as exc:
            self._error(unexpected(exc, "starting the payment"), "Pay")
        self._busy = None
        self._release()

    def _paid(self, receipt: Receipt | None) -> None:
        from terminal.ui.screens.receipt import ReceiptModal

        self._busy = None
        if receipt is None:
            self._release()
            return
        self.cart.clear()
        self._release()
        self._refresh_cart()
        self.query_one("#last-scan", Label).update("")
        self.app.post_message(SaleCommitted(receipt))
        self.app.push_screen(ReceiptModal(receipt))

    def action_reprint(self) -> None:
        from terminal.ui.screens.receipt import ReceiptModal

        if self.till.last_receipt is None:
            self._error("No sale yet on this till since it started.", "Reprint")
            return
        self.app.push_screen(ReceiptModal(self.till.last_receipt, reprint=True))

    def action_sync(self) -> None:
        from terminal.ui.screens.sync import SyncScreen

        self.app.push_screen(SyncScreen())

    def action_logout(self) -> None:
        if self._refuse_if_busy():
            return
        if self.cart.entries:
            self._error("Finish or park (F4) the sale before logging out.", "Logout")
            return
        self.till.ask_to_close_shift()
