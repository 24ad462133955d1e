"""The always-focused scan input: one code per Enter, never dropped or reordered.

A barcode scanner types a dozen digits and Enter within a few milliseconds. Two traps
in a plain ``Input`` would mix up scans in such a burst:

* Enter is a *binding*: the key event bubbles to the screen and the app before the
  binding runs, while the next scan's digits are already being typed into the box (the
  input's own queue runs ahead). Found by the 200-scan burst test.
* ``Submitted`` leaves clearing the box to a handler on the screen's queue, which runs
  behind the input's.

So this input takes Enter in its own key handler, in strict key order: it reads the
code, clears itself, and posts :class:`Scanned` in the same step.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from terminal.ui.messages import Scanned


class ScanInput(Input):
    DEFAULT_CSS = """
    ScanInput {
        width: 1fr;
    }
    """

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self._take()
            return
        await super()._on_key(event)

    async def action_submit(self) -> None:
        self._take()

    def _take(self) -> None:
        code = self.value.strip()
        self.value = ""
        if code:
            self.post_message(Scanned(code))
