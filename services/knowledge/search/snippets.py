"""Snippets, made in Python from the article's text so both stores quote alike: the stretch of the
text (about LENGTH characters, whole words) where the most of the query's stems are found, escaped
for HTML, each matched word in <mark>…</mark>; the text's beginning when only the title or a tag
matched."""

from __future__ import annotations

import re
from collections import Counter
from html import escape

from services.chassis.text.stems import stem
from services.knowledge.search.terms import matches, normal

LENGTH = 200
BEFORE = 40  # characters of context before the first match
_SPACE = re.compile(r"\s+")
_LETTERS = "[^\\W\\d_]"


def _candidates(query_stems: list[str]) -> re.Pattern[str]:
    """Words that may have one of the stems: those beginning with all of the stem but its last letter
    (Snowball turns an English `y` into `i`: `happy` → `happi`), ye standing for yo too."""
    beginnings = sorted({s[:-1] if len(s) > 3 else s for s in query_stems}, key=len, reverse=True)
    alternatives = "|".join(re.escape(b).replace("\u0435", "[\u0435\u0451]") for b in beginnings)
    return re.compile(f"(?<!{_LETTERS})(?:{alternatives}){_LETTERS}*", re.IGNORECASE)


def _matched(text: str, query_stems: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, query stem) of every word of `text` that answers the query."""
    if not query_stems:
        return []
    found, answers = [], dict[str, str | None]()  # a word's query stem, once per word
    for candidate in _candidates(query_stems).finditer(text):
        word = candidate.group()
        if word not in answers:
            word_stem = stem(normal(word))
            answers[word] = next((s for s in query_stems if matches(word_stem, s)), None)
        if answered := answers[word]:
            found.append((candidate.start(), candidate.end(), answered))
    return found


def _window(found: list[tuple[int, int, str]]) -> int:
    """Where the stretch with the most distinct stems (then the most matches) begins: a window slid
    over the matches, in one pass however many there are."""
    best, best_score = 0, (-1, -1)
    inside: Counter[str] = Counter()
    last = 0  # the matches found[first:last] fit in the window beginning at found[first]
    for first, (start, _, _) in enumerate(found):
        while last < len(found) and found[last][1] <= start + LENGTH - BEFORE:
            inside[found[last][2]] += 1
            last += 1
        score = (len(inside), last - first)
        if score > best_score:
            best, best_score = start, score
        inside[found[first][2]] -= 1
        if not inside[found[first][2]]:
            del inside[found[first][2]]
    return best


def snippet(text: str, query_stems: list[str]) -> str:
    text = _SPACE.sub(" ", text).strip()
    found = _matched(text, query_stems)
    first = _window(found) if found else 0
    begin = max(0, first - BEFORE)
    if begin:  # at a word's beginning
        space = text.find(" ", begin, first)
        begin = space + 1 if space >= 0 else first
    end = min(len(text), begin + LENGTH)
    if end < len(text):  # at the last word's end
        space = text.rfind(" ", begin, end + 1)
        end = space if space > begin else end
    parts, at = [], begin
    for start, stop, _ in found:
        if start < begin or stop > end:
            continue
        parts += [escape(text[at:start]), "<mark>", escape(text[start:stop]), "</mark>"]
        at = stop
    parts.append(escape(text[at:end]))
    return ("…" if begin else "") + "".join(parts) + ("…" if end < len(text) else "")
