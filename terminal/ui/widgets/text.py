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

from textual.content import Content
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.css.styles import RulesMap
    from textual.visual import Visual


def show_text(widget: Static, text: str) -> None:
    if widget.content == text:
        return
    width = widget.content_size.width
    rule = widget.styles.width
    if width <= 0 or rule is None:
        widget.update(text)
        return
    if rule.is_auto:
        shown = widget.visual
        widget.update(text, layout=False)
        if not _one_line_as_wide(shown, widget.visual):  # "12 pending" -> "11 pending"
            widget.refresh(layout=True)
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


def _one_line_as_wide(before: Visual, after: Visual) -> bool:
    """Both one line of text as wide on screen (compared as shown: after markup)."""
    return (
        isinstance(before, Content)
        and isinstance(after, Content)
        and "\n" not in before.plain
        and "\n" not in after.plain
        and before.cell_length == after.cell_length
    )
