"""A tenant's SLA setup: business-hours calendars and the ordered policies that choose targets.

Policies are tried in order; the first whose conditions all hold (priority, category,
organisation; an empty condition matches anything) gives the ticket its targets, unless the
ticket's organisation names a policy of its own (choice.py). A ticket no policy matches has no clock.
Calendars and policies change by events, so the setup in force at any past instant is known, and each
names the admin who made it (`by`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.domain.admin_changes import AdminChange
from services.chassis.domain.calendar import BusinessCalendar
from services.chassis.domain.ordered_rules import OrderedRules
from services.chassis.runtime.errors import CommandRefusedError, UnknownThingError
from services.chassis.storage.ids import stable_uuid

ALWAYS = "24x7"  # the built-in calendar: every instant counts
METRICS = ("first_response", "next_response", "resolution")
POLICIES = OrderedRules("policy_id")


class SlaSetupError(CommandRefusedError):
    """A setup command refused; `field` names what is wrong."""


class UnknownError(SlaSetupError, UnknownThingError):
    """No such setup, calendar or policy for this tenant."""


def calendar_of(spec: dict[str, Any] | None) -> BusinessCalendar:
    return BusinessCalendar.always() if spec is None else BusinessCalendar.from_spec(spec)


class SlaSetup(Aggregate):
    class CalendarDefined(AdminChange):
        calendar_id: str
        spec: dict[str, Any]

        def names(self) -> str | None:
            return self.calendar_id

    class PolicyDefined(AdminChange):
        policy: dict[str, Any]

        def names(self) -> str | None:
            return str(self.policy["policy_id"])

    class PolicyRetired(AdminChange):
        policy_id: str

        def names(self) -> str | None:
            return self.policy_id

    class PoliciesReordered(AdminChange):
        policy_ids: list[str]

    @staticmethod
    def create_id(tenant: str) -> UUID:
        return stable_uuid("sla", "setup", tenant)

    @event("Started")
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.calendars: dict[str, dict[str, Any]] = {}
        self.policies: list[dict[str, Any]] = []

    # `by`: the admin who makes the change (their token's subject).

    def define_calendar(self, calendar_id: str, spec: dict[str, Any], by: str = "") -> None:
        if calendar_id == ALWAYS:
            raise SlaSetupError(f"{ALWAYS!r} is built in", "calendar_id")
        try:
            BusinessCalendar.from_spec(spec)
        except ValueError as error:
            field = str(error).split(":", 1)[0]
            raise SlaSetupError(str(error), field) from None
        if self.calendars.get(calendar_id) != spec:
            self._calendar_defined(calendar_id=calendar_id, spec=spec, by=by)

    @event(CalendarDefined)
    def _calendar_defined(self, calendar_id: str, spec: dict[str, Any], by: str) -> None:
        self.calendars = self.calendars | {calendar_id: spec}

    def define_policy(self, policy: dict[str, Any], by: str = "") -> None:
        """Add a policy at the end of the order, or change one in place."""
        if policy["calendar"] != ALWAYS and policy["calendar"] not in self.calendars:
            raise UnknownError(f"no calendar {policy['calendar']!r}", "calendar")
        if not any(policy["targets"].get(metric) for metric in METRICS):
            raise SlaSetupError("a policy sets at least one target", "targets")
        if self.policy(policy["policy_id"]) != policy:
            self._policy_defined(policy=policy, by=by)

    @event(PolicyDefined)
    def _policy_defined(self, policy: dict[str, Any], by: str) -> None:
        self.policies = POLICIES.defined(self.policies, policy)

    def retire_policy(self, policy_id: str, by: str = "") -> None:
        if self.policy(policy_id) is None:
            raise UnknownError(f"no policy {policy_id!r}", "policy_id")
        self._policy_retired(policy_id=policy_id, by=by)

    @event(PolicyRetired)
    def _policy_retired(self, policy_id: str, by: str) -> None:
        self.policies = POLICIES.retired(self.policies, policy_id)

    def reorder_policies(self, policy_ids: list[str], by: str = "") -> None:
        if not POLICIES.names_each_once(self.policies, policy_ids):
            raise SlaSetupError("a new order names every policy exactly once", "policy_ids")
        if POLICIES.moves(self.policies, policy_ids):
            self._policies_reordered(policy_ids=policy_ids, by=by)

    @event(PoliciesReordered)
    def _policies_reordered(self, policy_ids: list[str], by: str) -> None:
        self.policies = POLICIES.reordered(self.policies, policy_ids)

    def policy(self, policy_id: str) -> dict[str, Any] | None:
        return POLICIES.find(self.policies, policy_id)

    def choose(self, priority: str, category: str, organisation: str | None) -> dict[str, Any] | None:
        """The first policy whose conditions hold, with its calendar's spec; None when none does. (A clock's
        policy is chosen by `choice.choose`, which prefers the organisation's own.)"""
        policy = self.matching(priority, category, organisation)
        return None if policy is None else policy | {"calendar_spec": self.calendars.get(policy["calendar"])}

    def matching(self, priority: str, category: str, organisation: str | None) -> dict[str, Any] | None:
        """The first policy whose conditions hold; None when none does."""
        for policy in self.policies:
            match = policy.get("match", {})
            if match.get("priorities") and priority not in match["priorities"]:
                continue
            if match.get("categories") and category not in match["categories"]:
                continue
            if match.get("organisations") and organisation not in match["organisations"]:
                continue
            return policy
        return None
