"""Stems of Russian and English words (Snowball), so that any form of a word finds the others.

Each word is stemmed by its script: Cyrillic by the Russian stemmer, Latin by the English one,
anything else kept as it is. A language need not be told, and mixed text ("ошибка VPN client")
stems word by word.

Snowball cuts the noun and the verb of one root differently (`печать` → `печа`, `печатает` →
`печата`), so an index that must find either by the other keeps the stem's shorter beginnings too
(`prefixes`): a query's stem then meets an indexed word whose stem begins with it.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer  # PyStemmer: the Snowball stemmers in C

_CYRILLIC = re.compile(r"[\u0400-\u04ff]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
MIN_PREFIX = 4  # shorter beginnings match too much ("печ" of печень, печаль, печать)

_russian = Stemmer.Stemmer("russian")
_english = Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The stem of one lower-case word, by its script."""
    word = word.lower().replace("\u0451", "\u0435")  # yo is written as ye
    if _CYRILLIC.search(word):
        return str(_russian.stemWord(word))
    if _LATIN.search(word):
        return str(_english.stemWord(word))
    return word


def stems(words: list[str]) -> list[str]:
    """The distinct stems of `words`, in first-seen order."""
    return list(dict.fromkeys(stem(word) for word in words))


def prefixes(word_stem: str) -> list[str]:
    """The stem and its beginnings down to MIN_PREFIX letters, longest first."""
    if len(word_stem) <= MIN_PREFIX:
        return [word_stem]
    return [word_stem[:end] for end in range(len(word_stem), MIN_PREFIX - 1, -1)]
