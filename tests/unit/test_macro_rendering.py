"""Rendering a macro's body: the names it may use, the sandbox it runs in, and bodies refused when saved."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.intake.macros.texts import MacroTextError, check_bodies, pick_language, render_body
from services.intake.rendering.context import SAMPLE, ticket_context
from services.intake.rendering.sandbox import RenderError, render_text

FACTS = replace(SAMPLE, number="SD-2026-000042", requester_name="Anna", agent_name="Boris")


def test_a_body_names_the_ticket_the_requester_and_the_agent() -> None:
    body = "{{ requester.name }}, {{ ticket.number }} ({{ ticket.priority }}, {{ ticket.status }}): {{ agent.name }}"

    assert render_text(body, ticket_context(FACTS)) == "Anna, SD-2026-000042 (P3, open): Boris"


def test_an_unknown_sla_due_time_and_requester_name_leave_blanks_not_none() -> None:
    context = ticket_context(replace(FACTS, requester_name=None, sla_due=None))

    assert render_text("[{{ requester.name }}][{{ sla.due }}]", context) == "[][]"
    assert render_text("{% if sla.due %}due{% else %}no target{% endif %}", context) == "no target"


def test_the_sla_due_time_is_the_instant_in_utc() -> None:
    context = ticket_context(replace(FACTS, sla_due=datetime(2026, 12, 5, 14, 30, tzinfo=UTC)))

    assert render_text("{{ sla.due }}", context) == "2026-12-05 14:30 UTC"


def test_a_knowledge_base_link_points_at_the_article_on_the_portal() -> None:
    context = ticket_context(replace(FACTS, kb_base="https://desk.example/t/acme/"))

    assert render_text("{{ kb.link('a b') }} {{ kb_url }}", context) == (
        "https://desk.example/t/acme/articles/a%20b https://desk.example/t/acme/"
    )


def test_the_sandbox_refuses_python_internals() -> None:
    with pytest.raises(RenderError):
        render_text("{{ kb.__class__.__mro__ }}", ticket_context(FACTS))
    with pytest.raises(RenderError):
        render_text("{{ ''.__class__.__subclasses__() }}", ticket_context(FACTS))


def test_a_body_naming_what_a_ticket_lacks_is_refused_naming_its_language() -> None:
    with pytest.raises(MacroTextError) as refused:
        check_bodies({"en": "Hello {{ requester.name }}", "ru": "Здравствуйте, {{ requester.nickname }}"})

    assert refused.value.language == "ru"


def test_a_body_with_broken_syntax_or_a_failing_expression_is_refused() -> None:
    for body in ("{% if %}", "{{ 1 / 0 }}", "{{ ticket.number | nosuchfilter }}"):
        with pytest.raises(MacroTextError):
            check_bodies({"en": body})


def test_the_body_is_the_requesters_language_else_english_else_the_first() -> None:
    bodies = {"de": "Hallo", "en": "Hello", "ru": "Привет"}

    assert pick_language(bodies, ["ru"]) == "ru"
    assert pick_language(bodies, [None, "fr"]) == "en"
    assert pick_language({"de": "Hallo", "ru": "Привет"}, ["fr"]) == "de"
    assert render_body(bodies, "ru", ticket_context(FACTS)) == "Привет"
