"""Search by whole words without keeping the words: each word of a ticket becomes a keyed token.

The ticket list's full-text index holds, instead of the words of titles, descriptions and
comments, a keyed hash of each word (`tenant NUL word`, HMAC-SHA256 under a key derived from the
desk's personal-data secret, first 8 bytes written as 16 letters `a`-`p`, so PostgreSQL's and
SQLite's tokenizers keep each token whole). A query's words are hashed the same way, so a
whole word (or a "quoted phrase" of them) is still found, ranked as before; a byte search of
the database finds no word, and a word cannot be read back without the secret.
"""

from __future__ import annotations

import re

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.intake.personal_data import ERASED

_WORD = re.compile(r"\w+")
_TERM = re.compile(r'"([^"]*)"|([^"\s]+)')
_LETTERS = "abcdefghijklmnop"


class SearchTokens:
    def __init__(self, secret: bytes) -> None:
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"servicedesk/search-tokens").derive(
            secret
        )

    def token(self, tenant: str, word: str) -> str:
        mac = hmac.HMAC(self._key, hashes.SHA256())
        mac.update(f"{tenant}\x00{word.lower()}".encode())
        return "".join(_LETTERS[b >> 4] + _LETTERS[b & 15] for b in mac.finalize()[:8])

    def document(self, tenant: str, text: str) -> str:
        """The tokens of `text`'s words in order, space-separated (nothing for an erased text)."""
        if text == ERASED:
            return ""
        return " ".join(self.token(tenant, word) for word in _WORD.findall(text))

    def query(self, tenant: str, text: str) -> list[list[str]]:
        """A user's query as phrases of tokens: each bare word a phrase of one, each "quoted phrase" one."""
        phrases = []
        for match in _TERM.finditer(text):
            found = _WORD.findall(match.group(1) if match.group(1) is not None else match.group(2))
            if found:
                phrases.append([self.token(tenant, word) for word in found])
        return phrases
