"""The trigger benchmark's tenant is one the API accepts, and its events are ones the rules service reads."""

from __future__ import annotations

from bench.trigger_evaluation import TRIGGERS, conditions_alone, envelopes, reactions, trigger_specs
from services.rules.application import Rules


def test_the_benchmarks_triggers_and_events_fire_a_few_triggers_per_event() -> None:
    specs = trigger_specs(TRIGGERS)
    assert len(specs) == TRIGGERS
    assert sum("time" in s["when"] for s in specs) == TRIGGERS // 10
    assert len(envelopes(2)) == 14
    figures = conditions_alone(specs, 50)
    assert 0 < figures["fired_per_event"] < 10
    assert reactions(Rules(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}), specs[:20], 2)["firings"] > 0
