"""Which policy a ticket's clock counts by, in which calendar, and why.

The ticket's organisation may name an SLA policy and a calendar of its own (`ticket.opened` v6, from intake's
`/v1/organisations`). Its policy is preferred to the ordered rules (`SlaSetup.matching`); its calendar counts
whichever policy is chosen, instead of that policy's own. An id this tenant's setup does not know (intake
cannot check them: the organisation may name a policy before it is defined here, or one since retired) is
passed over, not refused: the rules choose, the policy's own calendar counts, and `Choice.unknown` says what
was passed over for the caller to log and count.

The policy a clock records (its `Started` and `Retargeted` events) says why it was chosen: `chosen_by`
(`organisation` or `rules`) and `reason`, in words, as routing's decisions do. A clock keeps the policy it
was chosen with: an organisation whose SLA changes later changes the clocks of the tickets opened after, never
a running one (its facts hold the organisation's SLA as the ticket opened with it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.sla.policies import ALWAYS, SlaSetup

ORGANISATION, RULES = "organisation", "rules"  # `chosen_by`
WHY = ("chosen_by", "reason")  # what a chosen policy says of its choice, besides the policy


@dataclass(frozen=True)
class Choice:
    policy: dict[str, Any] | None  # with its calendar's id and spec and why; None: no clock
    unknown: tuple[str, ...] = ()  # what the organisation named that the setup does not know: `policy`, `calendar`


def choose(setup: SlaSetup, facts: Mapping[str, str | None]) -> Choice:
    """The policy for a ticket of these `facts` (priority, category, organisation, and the organisation's own
    `sla_policy_id` and `sla_calendar_id` when it names them)."""
    own_policy, own_calendar = facts.get("sla_policy_id"), facts.get("sla_calendar_id")
    unknown: list[str] = []
    policy = setup.policy(own_policy) if own_policy else None
    if policy is not None:
        chosen_by, reason = ORGANISATION, f"the organisation's own policy {own_policy!r}"
    else:
        if own_policy:
            unknown.append("policy")
        policy = setup.matching(facts.get("priority") or "", facts.get("category") or "", facts.get("organisation"))
        if policy is None:
            return Choice(None, tuple(unknown))
        chosen_by, reason = RULES, f"the first policy whose conditions hold, {policy['policy_id']!r}"
        if own_policy:
            reason += f" (the organisation's policy {own_policy!r} is not defined)"
    calendar = policy["calendar"]
    if own_calendar and (own_calendar == ALWAYS or own_calendar in setup.calendars):
        calendar = own_calendar
        reason += f", in the organisation's calendar {own_calendar!r}"
    elif own_calendar:
        unknown.append("calendar")
        reason += f", in its own calendar (the organisation's calendar {own_calendar!r} is not defined)"
    counted = {"calendar": calendar, "calendar_spec": setup.calendars.get(calendar)}
    return Choice(policy | counted | {"chosen_by": chosen_by, "reason": reason}, tuple(unknown))


def without_why(policy: Mapping[str, Any]) -> dict[str, Any]:
    """The policy as it counts, whatever the words of its choice (a clock started before they were recorded)."""
    return {key: value for key, value in policy.items() if key not in WHY}
