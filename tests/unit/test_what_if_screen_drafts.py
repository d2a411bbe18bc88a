"""The what-if screen's drafts start from the rules in force: the tenant's routing rules and group strategies,
its SLA policies (the API's seconds as ISO durations) and calendars, each read back by its what-if unchanged."""

from __future__ import annotations

import json
from typing import Any

from services.routing.what_if import RoutingCandidate
from services.sla.what_if.candidate import Candidate
from services.web.admin.what_if import routing_draft, sla_draft

RULE = {"rule_id": "billing", "group_id": "first-line", "categories": ["billing"], "types": [], "priorities": [],
        "channels": [], "tags": [], "organisations": [], "words": [], "skills": []}  # fmt: skip
POLICY = {"policy_id": "standard", "match": {"priorities": ["P1"], "categories": [], "organisations": []},
          "calendar": "office", "targets": {"first_response": 14400, "resolution": 90000}, "warn_at": [75, 90],
          "reminders": {"every_seconds": 86400, "count": 2}}  # fmt: skip
OFFICE = {"time_zone": "Europe/Moscow", "weekly": {"mon": [["09:00", "18:00"]]}}


def test_the_routing_draft_is_the_rules_in_force_with_each_groups_strategy() -> None:
    groups: list[dict[str, Any]] = [
        {"group_id": "first-line", "strategy": "round_robin", "members": []},
        {"group_id": "billing"},
    ]
    draft = json.loads(routing_draft([RULE], groups))
    candidate = RoutingCandidate.model_validate(draft)
    assert candidate.rule_specs() == [RULE]
    assert candidate.strategies == {"first-line": "round_robin"}


def test_the_sla_draft_is_the_policies_in_force_as_the_sla_api_takes_them() -> None:
    draft = json.loads(sla_draft([POLICY], {"office": OFFICE}))
    assert draft["policies"][0]["targets"] == {"first_response": "PT4H", "resolution": "P1DT1H"}
    candidate = Candidate.model_validate(draft)
    assert candidate.policies[0].as_policy("standard") == POLICY
    assert candidate.calendars == {"office": OFFICE}
