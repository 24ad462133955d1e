"""Server-rendered SVG charts (pygal), legible with no JavaScript and no network.

pygal would link its tooltip script from a CDN; ``js=[]`` leaves it out, so the SVG is
self-contained. It still writes its whole configuration into an inline ``<script>`` for
that script to read, which the back office's Content-Security-Policy refuses to run (and
the browser reports as a violation): :func:`_svg` takes it out. Each chart comes with its
values as a table (see the templates), since a picture alone says nothing to a screen
reader.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

import pygal
from markupsafe import Markup
from pygal.style import Style

from hq.reports.common import money
from hq.reports.dashboard import Point

# pygal appends a legacy ``sys.meta_path`` finder (for map plugins, unused here) that only
# has ``find_module``; on Python 3.11 every failed optional import anywhere in the process
# then raises an ImportWarning. Take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#cbd2d9",
    colors=("#0b7285", "#e8590c"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=12,
    title_font_size=15,
)


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/>", re.DOTALL)


def _svg(chart: pygal.graph.graph.Graph) -> Markup:
    """The chart as inline SVG without scripts (pygal escapes ``<`` in the text it
    writes into one, so no ``</script>`` can end one early)."""
    return Markup(_SCRIPT.sub("", chart.render(is_unicode=True)))


def _dollars(cents: float | None) -> str:
    return "" if cents is None else f"S${money(int(cents))}"


def _common(title: str) -> dict[str, object]:
    return {
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "show_legend": False,
        "title": title,
        "height": 320,
        "width": 800,
        "margin": 8,
        "value_formatter": _dollars,
        "print_values": False,
        "truncate_label": -1,
    }


def y_ticks(values: Sequence[int], count: int = 4) -> list[int]:
    """Round-dollar gridlines (1, 2, 2.5 or 5 x 10^k cents apart) from 0 past the top."""
    top = max([*values, 0])
    raw = max(top / count, 100)
    magnitude = 10 ** (len(str(int(raw))) - 1)
    step = next(f * magnitude for f in (1, 2, 2.5, 5, 10) if f * magnitude >= raw)
    ticks, tick = [0], 0.0
    while tick < top:
        tick += step
        ticks.append(int(tick))
    return ticks if len(ticks) > 1 else [0, int(step)]


def hourly_chart(points: Sequence[Point]) -> Markup:
    chart = pygal.Bar(**_common("Net sales by hour, today"), x_label_rotation=0)
    chart.x_labels = [p.label for p in points]
    chart.x_labels_major = [p.label for p in points if int(p.label) % 3 == 0]
    chart.show_minor_x_labels = False
    chart.y_labels = y_ticks([p.net_sales_cents for p in points])
    chart.add("Net sales", [p.net_sales_cents for p in points])
    return _svg(chart)


def trend_chart(points: Sequence[Point]) -> Markup:
    chart = pygal.Line(
        **_common("Net sales, last 30 days"), x_label_rotation=0, fill=True, dots_size=2
    )
    chart.x_labels = [p.label[5:] for p in points]
    chart.x_labels_major = [p.label[5:] for i, p in enumerate(points) if i % 7 == 1]
    chart.show_minor_x_labels = False
    chart.y_labels = y_ticks([p.net_sales_cents for p in points])
    chart.add("Net sales", [p.net_sales_cents for p in points])
    return _svg(chart)
