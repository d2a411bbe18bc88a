"""Stems of Russian and English words: any form of a word finds the others."""

from __future__ import annotations

from services.chassis.text.stems import prefixes, stem, stems


def test_the_forms_of_a_russian_noun_share_one_stem() -> None:
    assert {stem(w) for w in ["принтер", "принтеры", "принтера", "принтером"]} == {"принтер"}


def test_the_forms_of_an_english_word_share_one_stem() -> None:
    assert {stem(w) for w in ["printing", "printed", "prints", "print"]} == {"print"}


def test_the_noun_finds_the_verb_through_the_beginnings_of_its_stem() -> None:
    assert stem("печать") in prefixes(stem("печатает"))


def test_mixed_text_is_stemmed_word_by_word_and_other_scripts_are_kept() -> None:
    assert stems(["ошибки", "clients", "ошибка", "東京"]) == ["ошибк", "client", "東京"]


def test_yo_and_ye_are_one_letter() -> None:
    assert stem("ёлки") == stem("елки")
