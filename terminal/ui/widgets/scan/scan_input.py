"""The always-focused scan input: one code per Enter, never dropped or reordered.

A barcode scanner types a dozen digits and Enter within a few milliseconds. Two traps
in a plain ``Input`` would mix up scans in such a burst:

* Enter is a *binding*: the key event bubbles to the screen and the app before the
  binding runs, while the next scan's digits are already being typed into the box (the
  input's own queue runs ahead). Found by the 200-scan burst test.
* ``Submitted`` leaves clearing the box to a handler on the screen's queue, which runs
  behind the input's.

So this input takes Enter in its own key handler, in strict key order: it reads the
code, clears itself, and posts :class:`Scanned` in the same step. It also counts the
codes it took (:attr:`taken`) and, for each other key it sees, how many codes had been
taken when that key came (:attr:`marks`): a binding such as F9 runs only after the key
has bubbled up to the screen, by when the input may have taken *later* scans from the
same burst. F9/F4 use the mark to pay or park exactly what was scanned before them.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input

from terminal.ui.messages import Scanned


class ScanInput(Input):
    DEFAULT_CSS = """
    ScanInput {
        width: 1fr;
    }
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    """``Input`` sets its virtual size on every keystroke, and ``Widget``'s reactive asks
    for a layout of the whole screen each time it changes: 14 layouts per scan. This box
    has a fixed size (``1fr`` x 3) and scrolls its text itself, so a repaint is enough."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.taken = 0
        """Codes taken so far (posted as ``Scanned``, maybe not yet handled)."""
        self.marks: dict[str, int] = {}
        """For a non-text key: :attr:`taken` when it arrived here, in key order."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self._take()
            return
        if not event.is_printable:
            self.marks[event.key] = self.taken
        # Nothing listens for this box's ``Changed``; posted for every digit, each one
        # bubbled through every queue up to the app (some 70 dispatches per scan).
        with self.prevent(Input.Changed):
            await super()._on_key(event)

    def taken_before(self, key: str) -> int:
        """Codes taken before ``key`` was pressed (all so far if it did not come here)."""
        return self.marks.pop(key, self.taken)

    async def action_submit(self) -> None:
        self._take()

    def _take(self) -> None:
        code = self.value.strip()
        with self.prevent(Input.Changed):
            self.value = ""
        if code:
            self.taken += 1
            # Straight to the screen, which consumes scans: bubbling would pass it through
            # the three containers between, each its own queue and a chance to wait
            # behind a frame being drawn.
            self.screen.post_message(Scanned(code))
