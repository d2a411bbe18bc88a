"""A routing rule's words are read as the ticket's tokenizer reads a ticket's words
(schemas/keywords.py): a word it could never find in a ticket is refused, not stored to match nothing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.keywords import words
from services.routing.requests import RuleSpec

NO_TICKETS_WORDS = ["cafe\u0301", "नमस्ते", "a\u203fb", "vpn2", "a", "e-mail", "x" * 41]


@pytest.mark.parametrize("word", NO_TICKETS_WORDS, ids=ascii)
def test_a_rule_word_no_ticket_can_hold_is_refused(word: str) -> None:
    assert words(word) != [word.lower()], "the tokenizer would find it: not a case of this test"
    with pytest.raises(ValidationError) as refused:
        RuleSpec.model_validate({"group_id": "first-line", "words": ["VPN", word]})
    assert [(e["loc"], e["type"]) for e in refused.value.errors()] == [(("words", 1), "string_pattern_mismatch")]


@pytest.mark.parametrize("word", ["VPN", "café", "счёт", "Straße", "ネットワーク"], ids=ascii)
def test_a_rule_word_as_tickets_hold_it_is_kept_lower_cased(word: str) -> None:
    rule = RuleSpec.model_validate({"group_id": "first-line", "words": [word]})
    assert rule.as_rule("r-1")["words"] == words(f"A ticket about {word}.")[-1:] == [word.lower()]
