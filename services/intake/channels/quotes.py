"""Quoted history trimmed from a reply, so a ticket's comment holds what the customer wrote now.

A reply quotes the thread below an attribution line ("On Mon, 1 Dec 2026, Desk wrote:", the
Russian "1 дек. 2026 г., Служба поддержки пишет:", Outlook's "-----Original Message-----" or its
"From: / Sent:" block); everything from there on is history the ticket already has. Stray `>`
lines are dropped too. When nothing but quotes is left, the text is kept whole: better a long
comment than a lost one.
"""

from __future__ import annotations

import re

_CUT = [
    re.compile(r"^\s*-{2,}\s*(original message|исходное сообщение|пересылаемое сообщение)\s*-{2,}", re.I),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above its header block
    re.compile(r"^.*\bwrote:\s*$", re.I),
    re.compile(r"^.*\b(пишет|написал|написала|написал\(а\)):\s*$", re.I),
]
_ATTRIBUTION_START = re.compile(r"^\s*(on\s|\d{1,2}[./ ]|\w{2,3}\.?,?\s+\d{1,2}\s)", re.I)
_HEADER_BLOCK = re.compile(r"^\s*(from|от|de|von):\s", re.I)
_HEADER_NEXT = re.compile(r"^\s*(sent|date|to|subject|отправлено|дата|кому|тема):\s", re.I)


def _cut_at(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if any(pattern.match(line) for pattern in _CUT):
            return i
        # an attribution wrapped over two lines: "On Mon, 1 Dec 2026 at 10:00, Desk <d@x>" / "wrote:"
        if (
            i + 1 < len(lines)
            and _ATTRIBUTION_START.match(line)
            and re.match(r"^\s*(wrote|пишет|написал\(?а?\)?):\s*$", lines[i + 1], re.I)
        ):
            return i
        if _HEADER_BLOCK.match(line) and any(_HEADER_NEXT.match(next_line) for next_line in lines[i + 1 : i + 4]):
            return i
    return None


def trim(text: str) -> str:
    """`text` without the quoted history of earlier messages."""
    lines = text.replace("\r\n", "\n").split("\n")
    cut = _cut_at(lines)
    kept = lines[:cut] if cut is not None else lines
    kept = [line for line in kept if not line.lstrip().startswith(">")]
    trimmed = "\n".join(kept).strip()
    return trimmed or text.strip()
