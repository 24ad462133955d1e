"""Updating a label's text without re-laying out the whole screen when it cannot move.

``Static.update`` asks for a layout of the screen by default, since new text may change
the widget's size. On the sale screen several labels change with every scan (totals,
member, last scan, the message line), so each scan paid for a full layout on top of the
repaint. :func:`show_text` skips an update whose text is the same, and asks for a layout
only when the size can change: always for a widget whose width follows its text
(``auto``) unless the new text is one line as wide as the old, never for one of fixed
height, otherwise only when the new text's height at the widget's width differs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.cells import cell_len
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.css.styles import RulesMap


def show_text(widget: Static, text: str) -> None:
    if widget.content == text:
        return
    width = widget.content_size.width
    rule = widget.styles.width
    if width <= 0 or rule is None or rule.is_auto:
        shown = widget.content
        if width > 0 and isinstance(shown, str) and _one_line_as_wide(shown, text):
            widget.update(text, layout=False)  # "12 pending" -> "11 pending": in place
        else:
            widget.update(text)
        return
    height = widget.styles.height
    if height is not None and not height.is_auto:
        widget.update(text, layout=False)  # its height does not follow its text
        return
    rules = cast("RulesMap", widget.styles)  # what Textual itself passes here
    before = widget.visual.get_height(rules, width)
    widget.update(text, layout=False)
    if widget.visual.get_height(rules, width) != before:
        widget.refresh(layout=True)


def _one_line_as_wide(before: str, text: str) -> bool:
    return "\n" not in before and "\n" not in text and cell_len(before) == cell_len(text)
