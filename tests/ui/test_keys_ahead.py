"""Keys typed with the key that opens a dialog go to the dialog, in the order typed.

A hurried cashier (or a scanner right after F3) types F6 4 Enter in one burst. F6 opens
the quantity dialog, whose input is mounted and focused some turns of the event loop
later; the keys behind it must neither reach the scan field nor be lost meanwhile.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Input

from terminal.ui.screens.customer import CustomerModal
from terminal.ui.screens.prompt import PromptModal
from tests.ui.conftest import DEMO_BARCODE
from tests.ui.helpers import burst, login, scan, settle


async def test_f6_4_enter_at_once_sets_the_quantity(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        await scan(pilot, DEMO_BARCODE)
        burst(app, "f6", "4", "enter")  # the dialog's "1" is selected: the 4 replaces it
        await settle(pilot)
        await settle(pilot)
        assert not isinstance(app.screen, PromptModal)
        assert [e.qty for e in sale.cart.entries] == [4]
        burst(app, "f3", *"9123", "enter")
        for _ in range(50):
            await settle(pilot)
            if not isinstance(app.screen, CustomerModal):
                break
        assert sale.cart.customer is not None and sale.cart.customer.name == "Tan Mei Ling"
        assert sale.query_one("#scan", Input).value == ""  # nothing meant for a dialog


class _FocusLater(ModalScreen[str]):
    """A dialog that focuses its input in ``on_mount``, as dialogs do: the focus is set
    by a callback queued on the app behind any keys it has not read yet."""

    AUTO_FOCUS = ""  # nothing until on_mount says (None would mean the app's "*")

    def compose(self) -> ComposeResult:
        yield Input(id="later")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


async def test_keys_read_before_a_dialog_has_focus_wait_for_it(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        sale = await login(pilot)
        answers: list[str | None] = []
        app.push_screen(_FocusLater(), answers.append)
        burst(app, *"42", "enter")  # queued before the dialog can queue its focus
        for _ in range(50):
            await settle(pilot)
            if answers:
                break
        assert answers == ["42"]
        assert sale.query_one("#scan", Input).value == ""  # not typed into the sale beneath
