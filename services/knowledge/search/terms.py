"""The words of a text as the index keeps them: letters only, lower-case, stop words left out, stemmed
(services/chassis/text/stems.py). A query's stem finds every indexed word whose stem begins with it
(`печать` → `печа` finds `печатает` → `печата`; `принтеры` → `принтер` finds `принтер`), the same
rule on both stores: PostgreSQL's `печа:*`, FTS5's `"печа"*`. Stems shorter than MIN_PREFIX letters
match themselves only (`vpn`, `ip`): as beginnings they would match too much."""

from __future__ import annotations

import re
from collections.abc import Iterable

from schemas.keywords import WORD_PATTERN
from services.chassis.text.stems import MIN_PREFIX, stem
from services.knowledge.search.stop_words import STOP_WORDS

WORD = re.compile(WORD_PATTERN)
MAX_QUERY_STEMS = 32  # of a search's words; a suggestion picks fewer (queries.py)


def normal(text: str) -> str:
    """Lower case, yo written as ye (as the stemmer and the stop lists have it)."""
    return text.lower().replace("\u0451", "\u0435")


def words(text: str) -> list[str]:
    """Every word of `text` that is not a stop word, in order, repeats kept."""
    return [word for word in WORD.findall(normal(text)) if word not in STOP_WORDS]


def stemmed(text: str) -> str:
    """The stems of the words of `text`, space-separated: what FTS5 indexes."""
    return " ".join(stem(word) for word in words(text))


def distinct_stems(texts: Iterable[str]) -> list[str]:
    """The distinct stems of the words of `texts`, in first-seen order."""
    return list(dict.fromkeys(stem(word) for text in texts for word in words(text)))


def is_prefix(query_stem: str) -> bool:
    return len(query_stem) >= MIN_PREFIX


def matches(word_stem: str, query_stem: str) -> bool:
    """Whether a word whose stem is `word_stem` answers `query_stem`."""
    return word_stem.startswith(query_stem) if is_prefix(query_stem) else word_stem == query_stem


def tsquery(query_stems: list[str], operator: str) -> str:
    """For `to_tsquery('simple', ...)`: stems are letters only, no syntax in them."""
    return f" {operator} ".join(s + ":*" if is_prefix(s) else s for s in query_stems)


def fts5_query(query_stems: list[str], operator: str) -> str:
    return f" {operator} ".join(f'"{s}"' + ("*" if is_prefix(s) else "") for s in query_stems)
