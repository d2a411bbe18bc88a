"""Search by any form of a word without keeping the words: each word of a ticket becomes keyed tokens.

The ticket list's full-text index holds, instead of the words of titles, descriptions and
comments, a keyed hash of each word's stem (`tenant NUL stem`, HMAC-SHA256 under a key derived
from the desk's personal-data secret, first 8 bytes written as 16 letters `a`-`p`, so
PostgreSQL's and SQLite's tokenizers keep each token whole). Stemming comes first
(services/chassis/text/stems.py), so "принтеры" finds "принтер" and "printing" finds "printed".

A document is the tokens of its words' stems in order (a "quoted phrase" of stems is still found
by position), then the tokens of the stems' shorter beginnings (`prefixes`), each once: Snowball
cuts a noun and its verb differently (`печать` → `печа`, `печатает` → `печата`), and a query's stem
then meets a word whose stem begins with it. A query's words are stemmed and hashed the same way;
a byte search of the database finds no word, and a word cannot be read back without the secret.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.chassis.text.stems import prefixes, stem
from services.intake.privacy.personal_data import ERASED

_WORD = re.compile(r"\w+")
_TERM = re.compile(r'(?P<neg>-?)(?:"(?P<phrase>[^"]*)"?|(?P<word>[^"\s]+))')
_HEX_AS_LETTERS = bytes.maketrans(b"0123456789abcdef", b"abcdefghijklmnop")  # each half-byte as a letter


@dataclass(frozen=True)
class Term:
    """A word or a "quoted phrase" of a query, as tokens; `negated` when it must not be there."""

    tokens: tuple[str, ...]
    negated: bool = False


Query = list[list[Term]]  # every group must match; a group is alternatives (`a or b`)


class SearchTokens:
    def __init__(self, secret: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"servicedesk/search-tokens").derive(secret)
        # Keyed once: each token copies it (the standard library's way to MAC many messages under one key), half
        # the time of a new HMAC a word, which the ticket list paid for every word and beginning of a ticket's text.
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def token(self, tenant: str, word: str) -> str:
        mac = self._keyed.copy()
        mac.update(f"{tenant}\x00{word.lower()}".encode())
        return binascii.hexlify(mac.digest()[:8]).translate(_HEX_AS_LETTERS).decode()

    def document(self, tenant: str, text: str) -> str:
        """The tokens of `text`'s stems in order, then those of their shorter beginnings (of words of
        letters only: a number's beginnings are no word's), space-separated (nothing for an erased text)."""
        if text == ERASED:
            return ""
        stemmed = [stem(word) for word in _WORD.findall(text)]
        shorter = {p for s in stemmed if s.isalpha() for p in prefixes(s)[1:]} - set(stemmed)
        beginnings = sorted(shorter, key=lambda p: (-len(p), p))  # stable: the same text, the same document
        return " ".join(self.token(tenant, word) for word in [*stemmed, *beginnings])

    def query(self, tenant: str, text: str) -> Query:
        """A user's query in web-search syntax, as tokens of stems: words (in any form) and "quoted phrases"
        must all be there, `a or b` either, `-word` not. Nothing else in the input is syntax."""
        groups: Query = []
        either = False
        for match in _TERM.finditer(text):
            word, negated = match.group("word"), match.group("neg") == "-"
            if word is not None and word.lower() == "or" and not negated and groups:
                either = True
                continue
            found = _WORD.findall(match.group("phrase") if word is None else word)
            if not found:
                continue
            term = Term(tuple(self.token(tenant, stem(w)) for w in found), negated)
            if either:
                groups[-1].append(term)
            else:
                groups.append([term])
            either = False
        return groups
