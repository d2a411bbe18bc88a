"""Keyed digests of the words of a ticket: what routing rules match, without the words.

`ticket.opened` v3 carries, instead of the words of the title and description, a digest of
each: HMAC-SHA256 keyed with the desk's keyword secret (`SERVICEDESK_KEYWORD_SECRET`, the same
in intake and routing) over `<tenant> NUL <word>`, its first 16 bytes in lower-case hex. A
rule's word matches a ticket when their digests are equal; a subscriber without the secret
learns nothing of the words, and the same word gives other digests in another tenant.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_NOT_WORDS = re.compile(r"\S+@\S+|\w+://\S+|www\.\S+")  # e-mail addresses and links
WORD_PATTERN = r"[^\W\d_]{2,40}"  # letters only: no numbers, ids or phone numbers
_WORD = re.compile(WORD_PATTERN)
MAX_KEYWORDS = 200


def is_word(text: str) -> bool:
    """Whether `text` is one whole word as `words` reads a ticket's text. Python's `re` decides, not
    a validator's pattern: other regex engines (pydantic's) read `\\w` more broadly, letting in
    combining marks (NFD `café`, `नमस्ते`) and connectors (`a‿b`) no ticket's words can hold."""
    return _WORD.fullmatch(text) is not None


def words(text: str) -> list[str]:
    """The distinct words of `text` that routing rules can match, lower-cased, in first-seen order."""
    found = dict.fromkeys(word.lower() for word in _WORD.findall(_NOT_WORDS.sub(" ", text)))
    return list(found)[:MAX_KEYWORDS]


class KeywordDigests:
    """Digests words of one desk (its secret) for one tenant at a time."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def digest(self, tenant: str, word: str) -> str:
        mac = hmac.new(self._secret, f"{tenant}\x00{word.lower()}".encode(), hashlib.sha256)
        return mac.hexdigest()[:32]

    def of_words(self, tenant: str, plain: list[str]) -> list[str]:
        return [self.digest(tenant, word) for word in plain]

    def of_text(self, tenant: str, text: str) -> list[str]:
        """The digests of the words of `text`, in first-seen order."""
        return self.of_words(tenant, words(text))
