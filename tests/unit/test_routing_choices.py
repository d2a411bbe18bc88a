"""Routing's choices, without I/O: the right group by the rules, the right agent by the strategy."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.routing.choosing import (
    AgentState,
    Presence,
    Rule,
    Strategy,
    TicketFacts,
    choose_agent,
    choose_group,
)

RULES = [
    Rule("p1-outages", "second-line", priorities=frozenset({"P1"}), types=frozenset({"incident"})),
    Rule("billing", "billing", categories=frozenset({"billing"}), skills=frozenset({"billing"})),
    Rule("russian", "first-line", tags=frozenset({"ru"}), skills=frozenset({"ru"})),
]


def ticket(**facts: object) -> TicketFacts:
    base: dict[str, object] = {"category": "general", "type": "request", "priority": "P3", "channel": "email"}
    return TicketFacts(**(base | facts))  # type: ignore[arg-type]


def agent(agent_id: str, *skills: str, load: int = 0, capacity: int = 5, presence: Presence = Presence.ONLINE,
          last: int = 0) -> AgentState:  # fmt: skip
    return AgentState(agent_id, frozenset(skills), capacity, presence, load, last)


def test_a_p1_outage_skips_to_the_second_line() -> None:
    choice = choose_group(RULES, "first-line", ticket(priority="P1", type="incident"))
    assert (choice.group_id, choice.rule_id) == ("second-line", "p1-outages")


def test_a_billing_question_goes_to_billing_and_says_why_other_rules_did_not_match() -> None:
    choice = choose_group(RULES, "first-line", ticket(category="billing", tags=frozenset({"ru"})))
    assert (choice.group_id, choice.skills) == ("billing", frozenset({"billing"}))
    assert choice.passed_over == {"p1-outages": "type is not one of ['incident']"}


def test_a_ticket_no_rule_matches_goes_to_the_default_group() -> None:
    choice = choose_group(RULES, "first-line", ticket())
    assert (choice.group_id, choice.rule_id) == ("first-line", None)
    assert set(choice.passed_over) == {"p1-outages", "billing", "russian"}


def test_a_russian_billing_question_goes_to_the_agent_who_has_both_skills() -> None:
    agents = [agent("ann", "billing"), agent("boris", "billing", "ru", load=3), agent("cleo", "ru")]
    choice = choose_agent(Strategy.SKILLS_MATCH, agents, frozenset({"billing", "ru"}))
    assert choice.agent_id == "boris"
    assert choice.passed_over["ann"] == "lacks ['ru']"


def test_away_offline_and_full_agents_get_nothing_new() -> None:
    agents = [
        agent("ann", presence=Presence.AWAY), agent("bob", presence=Presence.OFFLINE), agent("cid", load=5),
    ]  # fmt: skip
    choice = choose_agent(Strategy.LEAST_LOADED, agents, frozenset())
    assert choice.agent_id is None
    assert choice.passed_over == {"ann": "is away", "bob": "is offline", "cid": "at capacity (5/5)"}


def test_round_robin_takes_the_agent_longest_without_a_ticket() -> None:
    agents = [agent("ann", last=7), agent("bob", last=3), agent("cid", last=9)]
    assert choose_agent(Strategy.ROUND_ROBIN, agents, frozenset()).agent_id == "bob"


@given(st.lists(st.integers(0, 4), min_size=1, max_size=8))
def test_least_loaded_never_overfills_and_picks_the_lightest(loads: list[int]) -> None:
    agents = [agent(f"a{i}", load=load, capacity=4) for i, load in enumerate(loads)]
    choice = choose_agent(Strategy.LEAST_LOADED, agents, frozenset())
    open_loads = [load for load in loads if load < 4]
    if not open_loads:
        assert choice.agent_id is None
    else:
        chosen = next(a for a in agents if a.agent_id == choice.agent_id)
        assert chosen.load == min(open_loads)
