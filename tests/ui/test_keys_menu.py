"""F1 lists every key of the sale screen (the footer has room for the main ones only),
and Enter on a line does what the key does."""

from __future__ import annotations

from textual.widgets import OptionList

from terminal.ui.screens.keys import KeysModal
from terminal.ui.screens.refund import RefundScreen
from terminal.ui.screens.reports import XReportScreen
from terminal.ui.screens.sale import SaleScreen
from tests.ui.helpers import login, settle


def _lines(app) -> list[str]:  # type: ignore[no-untyped-def]
    options = app.screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_f1_lists_every_key_and_runs_the_chosen_one(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, KeysModal)
        lines = _lines(app)
        for key, label in [
            ("F9", "Pay"),
            ("^r", "Refund / return"),
            ("^f", "Past receipts"),
            ("^x", "X report"),
            ("^e", "Cash in/out"),
            ("^d", "No sale"),
            ("^k", "Cancel sale"),
            ("^p", "Price override"),
            ("^l", "Close shift, log out"),
        ]:
            assert any(
                line.split()[0].lower() == key.lower() and label in line for line in lines
            ), (
                key,
                label,
                lines,
            )
        # Every bound key of the sale screen but moving/going back is listed.
        listed = {line.split()[0].lower() for line in lines}
        bound = {b.key for b in SaleScreen.BINDINGS if b.key not in ("up", "down", "escape", "f1")}
        assert len(listed) == len(bound) == len(lines)

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SaleScreen)

        await pilot.press("f1")
        await settle(pilot)
        index = next(i for i, line in enumerate(_lines(app)) if "X report" in line)
        app.screen.query_one(OptionList).highlighted = index
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, XReportScreen)
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("f1")
        await settle(pilot)
        index = next(i for i, line in enumerate(_lines(app)) if "Refund" in line)
        app.screen.query_one(OptionList).highlighted = index
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RefundScreen)
