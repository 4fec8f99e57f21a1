"""The simple formatting marketers write in descriptions, prizes and rules: a safe subset
of Markdown (paragraphs, emphasis, lists, links, headings) turned into HTML.

markdown-it-py parses with raw HTML switched off, so nothing a marketer types becomes a
tag of its own; nh3 then keeps only the tags and attributes of that subset, and links only
to http, https and mailto, opened without handing the page to the site they lead to.
"""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "h3", "h4", "blockquote", "hr"}


@cache
def _parser() -> MarkdownIt:
    # The "js-default" preset has no HTML and no typographer surprises; tables and
    # images stay off (images would load from anywhere, tables break at 360 px).
    parser = MarkdownIt("js-default", {"breaks": True, "linkify": False})
    parser.disable(["table", "image"])
    return parser


def _heading_down(markdown: str) -> str:
    """Headings a marketer writes sit under the page's own h1 and h2, all at one level
    (h3), so that no level is skipped whatever they typed."""
    lines = []
    for line in markdown.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("#"):
            hashes = len(stripped) - len(stripped.lstrip("#"))
            if 1 <= hashes <= 6 and stripped[hashes : hashes + 1] in (" ", ""):
                line = "###" + stripped[hashes:]
        lines.append(line)
    return "\n".join(lines)


def render(markdown: str) -> Markup:
    """The text as safe HTML; empty text gives empty markup."""
    if not markdown.strip():
        return Markup("")
    html = _parser().render(_heading_down(markdown))
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
