"""HTML mail reduced to plain text: no markup, no scripts, no styles survive; links keep their address.

What an agent reads is text, so nothing a sender puts in HTML can run or load in the desk's UI.
Quoted history (`<blockquote>`) becomes `> ` lines, which `quotes.trim` then drops like any other.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = frozenset({
    "p", "div", "br", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "pre", "section",
    "article", "header", "footer", "blockquote", "dl", "dt", "dd",
})  # fmt: skip
_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript", "object", "iframe", "svg"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.hidden = 0
        self.quoted = 0
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag == "blockquote":
            self.quoted += 1
        if tag in _BLOCKS:
            self._break()
        if tag == "li":
            if self.lines[-1]:
                self._break()
            self.lines[-1] = "- "
        if tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag == "blockquote":
            self.quoted = max(0, self.quoted - 1)
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href and href.startswith(("http://", "https://", "mailto:")) and href not in self.lines[-1]:
                self._text(f" <{href.removeprefix('mailto:')}>")
        if tag in _BLOCKS or tag == "li":
            self._break()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._break()

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self._text(_SPACES.sub(" ", data.replace("\n", " ")))

    def _text(self, text: str) -> None:
        if not self.lines[-1] and self.quoted:
            self.lines[-1] = "> " * self.quoted
        self.lines[-1] += text

    def _break(self) -> None:
        self.lines.append("")


def html_to_text(html: str) -> str:
    """The readable text of an HTML body, one paragraph a line, at most one blank line in a row."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in parser.lines]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
