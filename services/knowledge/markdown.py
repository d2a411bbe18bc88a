"""An article's Markdown as safe HTML, and as plain text for the search index.

CommonMark with raw HTML off: whatever an author types is escaped, and links to `javascript:`
and the like are not made (markdown-it's link validation), so the HTML may be shown as is."""

from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")
_TAGS = re.compile(r"<[^>]+>")


def rendered(body: str) -> str:
    return str(_MARKDOWN.render(body))


def plain_text(body: str) -> str:
    """The words of the article as a reader sees them (no markup), one space between blocks."""
    return " ".join(html.unescape(_TAGS.sub(" ", rendered(body))).split())
