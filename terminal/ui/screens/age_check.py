"""Confirm the customer's age before an age-restricted item (alcohol, tobacco) is added.

Enter: the customer is of age (the line is added, marked as checked); Esc: not added.
A scanner types its digits and an Enter into whatever is on top: the next item scanned
while this question is open must not answer it. So Enter after any typed character is
not an answer: the prompt says a scan came in (that item was not added) and asks again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events

from terminal.ui.screens.confirm import ConfirmModal

if TYPE_CHECKING:
    from terminal.services.schemas import ProductView


LEGAL_AGES = "21 for tobacco and vaping, 18 for alcohol"
"""Singapore's minimum ages; one question serves every age-restricted item, so it names
both rather than one age that is wrong for the other."""


class AgeCheckModal(ConfirmModal):
    def __init__(self, product: ProductView) -> None:
        super().__init__(
            "Age check",
            f"{product.name} is age-restricted. Is the customer of legal age for it "
            f"({LEGAL_AGES})?",
            yes="of age, add it",
            no="do not add",
        )
        self.typed = ""
        """Characters typed since the question opened (a scan that came in meanwhile)."""

    def on_key(self, event: events.Key) -> None:
        if event.character is not None and event.character.isprintable() and event.is_printable:
            self.typed += event.character
            event.stop()

    def action_answer(self, yes: bool) -> None:
        if yes and self.typed:
            scanned, self.typed = self.typed, ""
            self.app.bell()
            self.query_one("#confirm-question").update(  # type: ignore[attr-defined]
                f"A scan came in ({scanned[:20]}): it was not added; scan it again after "
                f"this. Is the customer of legal age for it ({LEGAL_AGES})?"
            )
            return
        self.dismiss(yes)
