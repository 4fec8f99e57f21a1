"""The dashboard's charts: SVG drawn on the server by pygal, shown as images.

Each chart has one series, so colour carries no meaning: every bar has its label on the
axis and its value printed on it, and the page puts the same numbers in a table. The
charts hold no script (pygal writes its tooltip configuration as one; it is removed),
and are embedded as ``data:`` images so that the dashboard is one request."""

from __future__ import annotations

import base64
import sys
from typing import Any
from xml.etree import ElementTree

import pygal
from pygal.style import Style

# pygal puts an import hook for its map plugins (unused here) on sys.meta_path; it lacks
# find_spec, so every later import through it warns. Without it, imports are as before.
sys.meta_path[:] = [
    finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"
]

# The console's own type and ink; the bars a light tint of the accent, so that the
# values printed on them in ink keep a contrast above 7:1.
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d1d1f",
    foreground_strong="#1d1d1f",
    foreground_subtle="#6b6b6b",
    colors=("#f3b48c",),
    value_colors=("#1d1d1f",),
    font_family='system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=14,
    title_font_size=16,
    opacity="1",
    opacity_hover="1",
)


def bar_chart(title: str, labels: list[str], values: list[int], *, horizontal: bool = False) -> str:
    """A bar chart as a ``data:`` address for an ``<img>``."""
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    many = len(labels) > 14
    chart = kind(
        style=STYLE,
        js=[],
        title=title,
        show_legend=False,
        print_values=not many,
        print_zeroes=True,
        width=800,
        height=max(240, 44 * len(labels) + 80) if horizontal else 320,
        truncate_label=40,
        x_label_rotation=0 if horizontal or not many else 45,
        show_minor_x_labels=not many,
        x_labels_major_every=max(1, len(labels) // 10) if many else None,
        min_scale=1,
        max_scale=5,
        margin=12,
    )
    if horizontal:
        # pygal stacks horizontal bars from the bottom up; a list reads from the top.
        labels, values = labels[::-1], values[::-1]
    chart.x_labels = labels
    chart.add(title, values)
    # pygal draws with the standard library's ElementTree when lxml is absent.
    tree: Any = chart.render_tree()
    for parent in tree.iter():
        for child in list(parent):
            if child.tag in ("script", "{http://www.w3.org/2000/svg}script"):
                parent.remove(child)
    svg = ElementTree.tostring(tree, encoding="utf-8")
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
