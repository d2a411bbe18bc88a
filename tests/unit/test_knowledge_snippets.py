"""The knowledge base's snippets and query terms, without a store (the stores' scenarios are in
tests/integration/test_knowledge_search.py)."""

from __future__ import annotations

from services.chassis.text.stems import stem
from services.knowledge.search.queries import _broadest, _narrowest
from services.knowledge.search.snippets import LENGTH, snippet
from services.knowledge.search.terms import distinct_stems, fts5_query, matches, tsquery


def query(text: str) -> list[str]:
    return distinct_stems([text])


def test_stop_words_are_no_terms_and_every_form_of_a_word_is_one() -> None:
    assert query("Принтер не печатает, и принтеры тоже") == [stem("принтер"), stem("печатает")]
    assert query("The printers are not printing") == ["printer", "print"]
    assert query("ёлка") == query("елка")


def test_a_stem_finds_the_words_it_begins_and_a_short_one_only_itself() -> None:
    assert matches(stem("печатает"), stem("печать"))
    assert not matches(stem("печать"), stem("печатает"))
    assert matches("vpn", "vpn")
    assert not matches("vpnclient", "vpn")


def test_both_stores_are_asked_for_the_same_beginnings() -> None:
    assert tsquery(["печа", "vpn"], "&") == "печа:* & vpn"
    assert fts5_query(["печа", "vpn"], "OR") == '"печа"* OR "vpn"'


def test_redundant_stems_are_left_out_of_a_query() -> None:
    assert _narrowest(["печа", "печата", "vpn"]) == ["печата", "vpn"]  # all must be found
    assert _broadest(["печа", "печата", "vpn"]) == ["печа", "vpn"]  # any may be found


def test_a_snippet_marks_every_form_of_the_words_and_escapes_the_rest() -> None:
    text = "Если <принтер> не печатает & мигает, а ПРИНТЕРЫ соседей печатают, звоните."
    assert snippet(text, query("печать принтера")) == (
        "Если &lt;<mark>принтер</mark>&gt; не <mark>печатает</mark> &amp; мигает, а <mark>ПРИНТЕРЫ</mark>"
        " соседей <mark>печатают</mark>, звоните."
    )


def test_a_snippet_quotes_the_stretch_with_the_most_of_the_query() -> None:
    text = "Battery. " + "Filler words here. " * 40 + "Replace the battery when charging stops. " + "More. " * 60
    quoted = snippet(text, query("batteries charging"))
    assert "<mark>battery</mark> when <mark>charging</mark>" in quoted
    assert quoted.startswith("…")
    assert quoted.endswith("…")
    assert len(quoted.replace("<mark>", "").replace("</mark>", "")) <= LENGTH + 2


def test_a_snippet_without_a_match_is_the_texts_beginning_whole_words() -> None:
    quoted = snippet("word " * 100, query("printer"))
    assert quoted.endswith("word…")
    assert "<mark>" not in quoted


def test_a_yo_in_the_text_is_found_by_a_ye_in_the_query() -> None:
    assert snippet("Учётная запись заблокирована.", query("учетной")) == "<mark>Учётная</mark> запись заблокирована."
