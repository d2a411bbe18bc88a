"""A word's search token stays what it was when the ticket list stored it: a change of how it is computed must
give the same letters, or every stored ticket's words stop being found until the list is rebuilt."""

from __future__ import annotations

from services.intake.privacy.search_tokens import SearchTokens

TOKENS = SearchTokens(b"a desk secret of thirty-two bytes")


def test_a_word_keeps_the_token_the_ticket_list_stored() -> None:
    assert TOKENS.token("acme", "printer") == "mgoiglpgfieoohnd"
    assert TOKENS.token("acme", "ПРИНТЕР") == "fcnipidgjidhohnm"


def test_the_same_word_of_another_tenant_has_another_token() -> None:
    assert TOKENS.token("globex", "printer") == "ohlljemjnalopghk"


def test_a_token_is_sixteen_letters_a_to_p_whatever_the_case_of_the_word() -> None:
    token = TOKENS.token("acme", "Printer")
    assert token == TOKENS.token("acme", "printer")
    assert len(token) == 16
    assert set(token) <= set("abcdefghijklmnop")
