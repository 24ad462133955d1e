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

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, cast
from uuid import UUID

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label

from terminal.domain.cart import CartError
from terminal.domain.money import MoneyError, format_cents, parse_cents
from terminal.services import catalog, parked
from terminal.services.errors import TillError
from terminal.services.schemas import CustomerView, ProductView, Receipt
from terminal.ui.cart import Cart, parse_qty
from terminal.ui.failures import unexpected
from terminal.ui.messages import SaleCommitted, Scanned
from terminal.ui.widgets.cart.cart_table import CartTable
from terminal.ui.widgets.cart.customer_badge import CustomerBadge
from terminal.ui.widgets.cart.totals_panel import TotalsPanel
from terminal.ui.widgets.header.till_header import TillHeader
from terminal.ui.widgets.scan.scan_input import ScanInput

if TYPE_CHECKING:
    from terminal.db.engine import Database
    from terminal.ui.app import KedaiTill

log = logging.getLogger(__name__)

DISCOUNT_LIMIT_PCT = 20
"""Line discounts above this share of the line need a manager's PIN."""


class SaleScreen(Screen[None]):
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
        self._pending: deque[tuple[int, str]] = deque()
        self._taken = 0
        """Codes taken so far; each queued code carries its number."""
        self._looked_up = 0
        """The number of the last code looked up (added or refused)."""
        self._hold_after: int | None = None
        """While set (F9, F4), codes numbered above it wait in the queue."""
        self._progress = asyncio.Condition()
        self._consuming = False
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
        self._taken += 1
        self._pending.append((self._taken, message.code))
        self._pump()

    def _may_take(self, number: int) -> bool:
        return self._hold_after is None or number <= self._hold_after

    def _pump(self) -> None:
        if not self._consuming and self._pending and self._may_take(self._pending[0][0]):
            self._consuming = True
            self._consume_scans()

    def _hold(self, key: str) -> int:
        """Keep codes scanned after ``key`` for later; return the last code to wait for.

        Counted by the scan input, in key order: by the time a binding runs, the input
        may have taken later codes, and its last ``Scanned`` may not have reached us.
        """
        self._hold_after = self.query_one(ScanInput).taken_before(key)
        return self._hold_after

    def _release(self) -> None:
        self._hold_after = None
        self._pump()

    async def _scans_through(self, number: int) -> None:
        async with self._progress:
            await self._progress.wait_for(lambda: self._looked_up >= number)

    @work(group="scan-queue", exit_on_error=False)
    async def _consume_scans(self) -> None:
        """The one consumer of the scan queue: lookups happen in scan order.

        Started when the first code arrives and ends when the queue is empty, so the
        app's workers all finish between scans. ``_consuming`` guarantees one consumer;
        ``exclusive=True`` is deliberately not used: it would cancel a running lookup.
        """
        try:
            while self._pending and self._may_take(self._pending[0][0]):
                number, code = self._pending.popleft()
                try:
                    await self._add_code(code)
                except Exception as exc:  # one bad lookup must not strand the codes after it
                    self._error(unexpected(exc, f"adding {code!r}"), "Not added")
                finally:
                    self._looked_up = number
                    async with self._progress:
                        self._progress.notify_all()
        finally:
            self._consuming = False

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
        held = self._hold_after
        await self._scans_through(self._taken if held is None else min(held, self._taken))

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

    def _selected(self) -> int | None:
        if not self.cart.entries:
            self._error("The cart is empty.")
            return None
        sel = self.query_one(CartTable).selected
        return len(self.cart.entries) - 1 if sel is None else sel

    def action_cursor(self, step: int) -> None:
        table = self.query_one(CartTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    def action_back(self) -> None:
        self.query_one(ScanInput).value = ""

    # ------------------------------------------------------------------ line edits

    def action_quantity(self) -> None:
        from terminal.ui.screens.prompt import PromptModal

        index = self._selected()
        if index is None:
            return
        entry = self.cart.entries[index]

        def done(text: str | None) -> None:
            if text is None:
                return
            try:
                self.cart.set_qty(index, parse_qty(text))
            except CartError as exc:
                self._error(str(exc), "Quantity")
                return
            self._refresh_cart(select=index)

        self.app.push_screen(
            PromptModal("Quantity", entry.product.name, default=str(entry.qty)), done
        )

    def action_discount(self) -> None:
        from terminal.ui.screens.prompt import PromptModal

        index = self._selected()
        if index is None:
            return
        entry = self.cart.entries[index]

        def done(text: str | None) -> None:
            if text is None:
                return
            gross = entry.qty * entry.product.price_cents
            try:
                cents = _discount_cents(text, gross)
                if cents > gross:
                    raise CartError("A discount cannot be more than the line amount.")
            except (MoneyError, CartError) as exc:
                self._error(str(exc), "Discount")
                return
            if cents * 100 > gross * DISCOUNT_LIMIT_PCT:
                self._with_approval(
                    "discount",
                    f"{entry.product.sku} -{cents}c",
                    lambda: self._discount(index, cents),
                )
            else:
                self._discount(index, cents)

        self.app.push_screen(
            PromptModal(
                "Line discount",
                f"{entry.product.name}: amount (S$) or percent (e.g. 10%)",
                default="",
            ),
            done,
        )

    def _discount(self, index: int, cents: int) -> None:
        try:
            self.cart.set_discount(index, cents)
        except CartError as exc:
            self._error(str(exc), "Discount")
            return
        self._refresh_cart(select=index)

    def action_void(self) -> None:
        index = self._selected()
        if index is None:
            return
        entry = self.cart.entries[index]

        def void() -> None:
            self.cart.void(index)
            self._refresh_cart(select=max(0, index - 1))
            self.notify(f"Voided: {entry.product.name}", title="Line void")

        self._with_approval("void", f"{entry.product.sku} x{entry.qty}", void)

    def _with_approval(self, action: str, note: str, then: Callable[[], None]) -> None:
        """A cashier needs a manager's PIN; a manager approves their own. Both audited."""
        from terminal.ui.screens.approve import ApproveModal

        assert self.till.cashier is not None
        if self.till.cashier.role == "manager":
            self._own_approval(action, note, then)
            return

        def done(ok: bool | None) -> None:
            if ok:
                then()

        self.app.push_screen(ApproveModal(action, note), done)

    @work(group="approval", exit_on_error=False)
    async def _own_approval(self, action: str, note: str, then: Callable[[], None]) -> None:
        """Record the manager's ``approval.granted`` first: no audit, no action."""
        from terminal.services.cashiers import ApprovalAction, record_own_approval

        assert self.till.cashier is not None
        try:
            await record_own_approval(
                self.db,
                action=cast("ApprovalAction", action),
                manager_id=self.till.cashier.id,
                note=note,
                now=self.till.clock(),
            )
        except TillError as exc:
            self._error(exc.message, "Approval")
            return
        except Exception as exc:
            self._error(unexpected(exc, "recording the approval"), "Approval")
            return
        then()

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
        if not self.cart.entries and self._looked_up >= through:
            self._release()
            self._error("The cart is empty: there is nothing to park.", "Park")
            return
        self._busy = "park"
        self._park(through)

    @work(group="park", exit_on_error=False)
    async def _park(self, through: int) -> None:
        """Park the cart with the codes scanned before F4; later ones start the next cart."""
        try:
            await self._scans_through(through)
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
        if not self.cart.entries and self._looked_up >= through:
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
            await self._scans_through(through)
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


def _discount_cents(text: str, gross_cents: int) -> int:
    cleaned = text.strip()
    if cleaned.endswith("%"):
        pct = parse_cents(cleaned[:-1])  # hundredths of a percent
        if pct > 100_00:
            raise CartError("A discount cannot be more than 100%.")
        return (gross_cents * pct + 5_000) // 10_000
    return parse_cents(cleaned)
