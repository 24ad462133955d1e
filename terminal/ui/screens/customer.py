"""F3: find a loyalty member by phone or name and attach them; Ctrl+N creates one."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input

from terminal.services.customers import find_customers
from terminal.services.schemas import CustomerView
from terminal.ui.screens.lookup import LookupModal

if TYPE_CHECKING:
    from terminal.db.engine import Database


class CustomerModal(LookupModal[CustomerView]):
    BINDINGS: ClassVar[list[BindingType]] = [
        *LookupModal.BINDINGS,
        Binding("ctrl+n", "new", "New member"),
    ]
    NAME = "customer"
    TITLE = "Loyalty member (F3)"
    PLACEHOLDER = "phone number or name"
    HINT = "Enter: attach   Ctrl+N: new member   Esc: back"
    NOTHING = "No member matches: Ctrl+N to create one."

    async def find(self, db: Database, text: str) -> list[CustomerView]:
        return await find_customers(db, text)

    def line(self, item: CustomerView) -> str:
        return f"{item.name:<28.28} {item.phone or '':<12} {item.balance:>8,} pts"

    def action_new(self) -> None:
        from terminal.ui.screens.new_customer import NewCustomerModal

        text = self.query_one(Input).value.strip()

        def done(customer: CustomerView | None) -> None:
            if customer is not None:
                self.dismiss(customer)

        self.app.push_screen(NewCustomerModal(prefill=text), done)
