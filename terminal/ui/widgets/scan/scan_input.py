"""The always-focused scan input: one code per Enter, never dropped or reordered.

A barcode scanner types a dozen digits and Enter within a few milliseconds. A plain
``Input`` posts ``Submitted`` and leaves clearing to a handler on the *screen*, whose
message queue runs behind the input's own: the next scan's digits would already be in
the box when the handler cleared it. This input clears itself in the same step that
takes the code (on its own queue, strictly in key order) and posts :class:`Scanned`.
"""

from __future__ import annotations

from textual.widgets import Input

from terminal.ui.messages import Scanned


class ScanInput(Input):
    DEFAULT_CSS = """
    ScanInput {
        width: 1fr;
    }
    """

    async def action_submit(self) -> None:
        code = self.value.strip()
        self.value = ""
        if code:
            self.post_message(Scanned(code))
