"""An organisation's own SLA policy and calendar, in memory: `ticket.opened` v6 names them, the clock prefers
them to the rules and says why; what the setup does not know is passed over to the rules and noted."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.sla.reactions import reactions
from tests.unit.test_sla_clocks import BERLIN_HOURS, MONDAY_9, TENANT, Desk, hours

GOLD = {"policy_id": "gold", "match": {"priorities": ["P1"]}, "calendar": "24x7",
        "targets": {"first_response": 3600, "resolution": 8 * 3600}, "warn_at": [75]}  # fmt: skip
STANDARD = {"policy_id": "standard", "match": {}, "calendar": "24x7",
            "targets": {"first_response": 4 * 3600, "resolution": 16 * 3600}, "warn_at": [75]}  # fmt: skip


class OrganisationDesk(Desk):
    def __init__(self) -> None:
        super().__init__()
        self.passed_over: list[tuple[str, str]] = []
        self.apply = reactions(self.sla, lambda _, what, named: self.passed_over.append((what, named)))

    def open_for(self, priority: str = "P3", **own_sla: Any) -> None:
        """A ticket of an organisation whose own SLA is `own_sla` (sla_policy_id, sla_calendar_id)."""
        self.event("ticket.opened", MONDAY_9, version=6, number="SD-1", requester_id="customer-1", channel="email",
                   category="network", type="incident", priority=priority, organisation="org-1", **own_sla)  # fmt: skip

    def clock(self) -> dict[str, Any]:
        policy: dict[str, Any] = self.sla.clock(TENANT, uuid.UUID(self.ticket)).policy
        return policy

    def started(self, metric: str) -> dict[str, Any]:
        return self.of("sla.started", metric)[-1]


@pytest.fixture
def desk() -> OrganisationDesk:
    desk = OrganisationDesk()
    desk.sla.define_calendar(TENANT, "berlin", BERLIN_HOURS)
    desk.sla.define_policy(TENANT, GOLD)
    desk.sla.define_policy(TENANT, STANDARD)
    return desk


def test_an_organisations_own_policy_wins_over_the_rules_and_the_clock_says_why(desk: OrganisationDesk) -> None:
    desk.open_for(priority="P3", sla_policy_id="gold")  # gold's rule matches P1 only
    started = desk.started("first_response")
    assert (started["policy_id"], started["target_seconds"]) == ("gold", 3600)
    policy = desk.clock()
    assert (policy["chosen_by"], policy["reason"]) == ("organisation", "the organisation's own policy 'gold'")
    assert desk.passed_over == []


def test_the_organisations_calendar_counts_instead_of_the_policys_own(desk: OrganisationDesk) -> None:
    desk.open_for(sla_policy_id="gold", sla_calendar_id="berlin")
    # Monday 10:00 in Berlin: 7 business hours on Monday, the 8th on Tuesday from 09:00 Berlin (08:00 UTC)
    assert desk.started("resolution")["due_at"] == "2026-11-24T09:00:00+00:00"  # not Monday 17:00 UTC
    assert desk.clock()["calendar"] == "berlin"


def test_a_ticket_of_an_organisation_without_a_policy_follows_the_rules(desk: OrganisationDesk) -> None:
    desk.open_for(sla_calendar_id="berlin")
    assert desk.started("first_response")["policy_id"] == "standard"
    assert desk.started("first_response")["due_at"] == "2026-11-23T13:00:00+00:00"  # 10:00 + 4h in Berlin
    assert (desk.clock()["chosen_by"], desk.clock()["calendar"]) == ("rules", "berlin")


def test_a_policy_or_calendar_the_setup_does_not_know_is_passed_over_for_the_rules_and_noted(
    desk: OrganisationDesk,
) -> None:
    desk.open_for(sla_policy_id="platinum", sla_calendar_id="tokyo-hours")
    assert desk.started("first_response")["policy_id"] == "standard"
    policy = desk.clock()
    assert (policy["chosen_by"], policy["calendar"]) == ("rules", "24x7")
    assert "'platinum' is not defined" in policy["reason"]
    assert "'tokyo-hours' is not defined" in policy["reason"]
    assert desk.passed_over == [("policy", "platinum"), ("calendar", "tokyo-hours")]


def test_a_priority_change_keeps_the_organisations_policy(desk: OrganisationDesk) -> None:
    desk.open_for(priority="P4", sla_policy_id="gold")
    desk.event("ticket.priority_changed", MONDAY_9 + hours(1), priority="P2", previous="P4")
    assert (desk.clock()["policy_id"], desk.clock()["chosen_by"]) == ("gold", "organisation")
    restarted = desk.started("first_response")
    assert (restarted["policy_id"], restarted["target_seconds"]) == ("gold", 3600)


def test_a_ticket_whose_organisation_names_no_sla_reads_as_before(desk: OrganisationDesk) -> None:
    desk.open()  # published as v2, read as v6 naming nothing
    assert desk.started("first_response")["policy_id"] == "standard"
    assert desk.clock()["chosen_by"] == "rules"
