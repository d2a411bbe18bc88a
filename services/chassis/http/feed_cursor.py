"""The gateway feed's cursor: every source's position in one opaque string (`intake.120-routing.45-sla.7`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from services.chassis.http.problems import DomainProblem

_POSITION = re.compile(r"[0-9]{1,18}")  # ASCII digits only, and within the stores' 64-bit integers


class InvalidCursor(DomainProblem):
    status = 422
    title = "Invalid request"


class Cursor:
    """Every source's position; missing sources are at their beginning."""

    def __init__(self, names: Sequence[str], positions: dict[str, int] | None = None) -> None:
        self.names = list(names)
        self.positions = {name: (positions or {}).get(name, 0) for name in self.names}

    @classmethod
    def parse(cls, names: Sequence[str], text: str | None) -> Cursor:
        if not text:
            return cls(names)
        if _POSITION.fullmatch(text):  # a position of the feed before it was merged: the first source's
            return cls(names, {names[0]: int(text)})
        positions: dict[str, int] = {}
        for part in text.split("-"):
            name, _, position = part.rpartition(".")
            if name not in names or not _POSITION.fullmatch(position):
                raise InvalidCursor(f"not a cursor of this feed: {text!r}", field="after")
            positions[name] = int(position)
        return cls(names, positions)

    def merged(self, other: Cursor) -> Cursor:
        """Each source at the later of the two positions."""
        return Cursor(self.names, {n: max(self.positions[n], other.positions[n]) for n in self.names})

    def moved(self, name: str, position: int) -> Cursor:
        return Cursor(self.names, self.positions | {name: position})

    def __str__(self) -> str:
        return "-".join(f"{name}.{self.positions[name]}" for name in self.names)
