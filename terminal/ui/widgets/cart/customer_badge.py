"""The attached loyalty customer and their points (HQ balance + unsynced deltas)."""

from __future__ import annotations

from textual.widgets import Static

from terminal.services.schemas import CustomerView
from terminal.ui.widgets.text import show_text


class CustomerBadge(Static):
    DEFAULT_CSS = """
    CustomerBadge { width: 100%; height: auto; padding: 0 1; }
    """

    def show(self, customer: CustomerView | None) -> None:
        if customer is None:
            show_text(self, "[dim]No member (F3)[/dim]")
            self.remove_class("attached")
            return
        phone = f" {customer.phone}" if customer.phone else ""
        show_text(self, f"[b]{customer.name}[/b]{phone}\n{customer.balance:,} pts")
        self.add_class("attached")
