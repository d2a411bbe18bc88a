"""A page's form as a browser submits it: its action, its hidden fields, and its buttons by their
accessible name (the text a screen reader, and Playwright's get_by_role, find them by)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str = ""
    hidden: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (field, value)

    def pressing(self, button: str) -> dict[str, str]:
        """The fields posted when `button` submits the form."""
        name, value = self.buttons[button]
        return self.hidden | {name: value}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form = Form()
        self._button: tuple[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.form.action = attributes.get("action", "")
        elif tag == "input" and attributes.get("type") == "hidden":
            self.form.hidden[attributes["name"]] = attributes.get("value", "")
        elif tag == "button":
            self._button, self._text = (attributes.get("name", ""), attributes.get("value", "")), []

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None:
            self.form.buttons[" ".join("".join(self._text).split())] = self._button
            self._button = None


def form_of(page: str) -> Form:
    reader = _Reader()
    reader.feed(page)
    return reader.form
