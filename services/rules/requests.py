"""The bodies the triggers API accepts (`/v1/triggers`), checked at the edge; a refused condition names its
place (`if[2].field`), a refused action its own (`then.status`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from services.rules import conditions
from services.rules.conditions import ConditionError, Match
from services.rules.facts import WHEN_EVENTS
from services.rules.timing import TIME_FIELD, TIME_WHEN

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.:-]{0,62}$")]
Tag = Annotated[str, Field(min_length=1, max_length=64)]
Address = Annotated[str, Field(pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$", max_length=254)]
WhenEvent = Literal[
    "ticket.opened", "ticket.commented", "ticket.status_changed", "ticket.priority_changed", "ticket.assigned",
    "ticket.custom_fields_changed", "ticket.rated", "sla.warning", "sla.breached", "sla.customer_reminded", "time",
]  # fmt: skip
assert set(WhenEvent.__args__) == set(WHEN_EVENTS)  # type: ignore[attr-defined]


class ConditionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(
        description=f"One of {', '.join(sorted(conditions.FIELDS))}, or `custom_fields.<key>`: a choice, number or"
        " boolean custom field of the tenant (`language`: the ticket's, two letters: `ru`)."
    )
    op: str = Field(
        description="is, is_not, in, contains, changed_to, greater, less (the last two: priority, by urgency, or a"
        " number custom field)."
    )
    value: Any = Field(
        None,
        description="Text; a list for `in`; null for is/is_not 'no value'; hours (a number) for hours_since; for a"
        " custom field one of its choices, a number, or true/false.",
    )
    of: str | None = Field(
        None,
        description="hours_since only: the moment measured from (opened, status_changed, customer_replied,"
        " agent_replied, assigned).",
    )
    business_hours: bool | None = Field(
        None, description="hours_since only: count only the business hours of `calendar`."
    )
    calendar: str | None = Field(
        None,
        description="hours_since with business_hours: one of the SLA service's calendars (`GET /v1/sla/calendars`),"
        " read when the trigger is saved and kept with its version (a calendar changed later applies when the"
        " trigger is next saved).",
    )


class NotifyGroupSpec(BaseModel):
    """Tell a routing group by e-mail. The desk knows no agent's e-mail address (agents are people of the
    identity provider, groups are routing's), so the trigger names the group and the addresses to mail for it
    (its members', or the group's mailbox): one message per address per firing."""

    model_config = ConfigDict(extra="forbid")

    group_id: Name
    addresses: list[Address] = Field(min_length=1, max_length=50)


class ThenSpec(BaseModel):
    """What the trigger does: intake's macro actions, an agent to assign, an internal note, a group to notify by
    e-mail and webhooks to call."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "pending", "resolved", "closed"] | None = None
    status_reason: str | None = Field(None, max_length=500)
    pending_hours: int | None = Field(None, ge=1, le=24 * 90)
    priority: Literal["P1", "P2", "P3", "P4"] | None = None
    tags_add: list[Tag] = Field(default_factory=list, max_length=20)
    tags_remove: list[Tag] = Field(default_factory=list, max_length=20)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    group_id: Name | None = None
    agent_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    note: str | None = Field(
        None, min_length=1, max_length=10_000, description="An internal note, rendered like a macro's body."
    )
    macro_id: UUID | None = Field(
        None,
        description="Reply with this shared macro (its body in the requester's language, and its actions). One"
        " that is gone, retired or personal is refused when the trigger fires, and the trigger is disabled.",
    )
    notify_group: NotifyGroupSpec | None = Field(None, description="E-mail a routing group about the ticket.")
    webhook_ids: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list,
        max_length=10,
        description="Call these webhook subscriptions of the tenant (`/v1/webhooks`) with the firing's"
        " `ticket.trigger_applied`, whatever their event filter. One the tenant does not have is refused when the"
        " trigger fires, and the trigger is disabled.",
    )

    def stored(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump(mode="json").items() if v not in (None, [], {})}


class TriggerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=200)
    when: list[WhenEvent] = Field(
        min_length=1,
        description="The events it answers (ticket.commented: the customer's); `time`: the passage of time, when"
        " its hours_since conditions fall due (on their instant).",
    )
    match: Match = Field(Match.ALL, description="all: every condition holds; any: one does.")
    if_: list[ConditionSpec] = Field(default_factory=list, alias="if", max_length=50)
    then: ThenSpec

    def calendars(self) -> set[str]:
        """The SLA calendars its business-hours conditions name."""
        return conditions.calendars_named([c.model_dump() for c in self.if_])

    def custom_fields(self) -> set[str]:
        """The custom fields its conditions name."""
        return conditions.custom_fields_named([c.model_dump() for c in self.if_])

    def stored(
        self, calendars: conditions.Calendars | None = None, fields: conditions.Fields | None = None
    ) -> dict[str, Any]:
        """The spec as the trigger keeps it; a wrong condition is refused naming it (`if[2].value`). `calendars`:
        the specs of the calendars it names, as the SLA service gave them; `fields`: the custom fields it names,
        as intake defines them."""
        raw = [c.model_dump() for c in self.if_]
        try:
            checked = conditions.check(raw, calendars=calendars, fields=fields)
        except ConditionError as error:
            loc = ("body", error.field)  # answered as `if[2].field`, the place in the list the admin wrote
            raise RequestValidationError(
                [{"loc": loc, "msg": f"Value error, {error.message}", "type": "value_error"}]
            ) from None
        if TIME_WHEN in self.when and not any(c.of is not None for c in checked):
            raise RequestValidationError(
                [
                    {
                        "loc": ("body", "if"),
                        "msg": f"Value error, a trigger on time has a {TIME_FIELD} condition (when it falls due)",
                        "type": "value_error",
                    }
                ]
            )
        then = self.then.stored()
        if not then:
            raise RequestValidationError(
                [{"loc": ("body", "then"), "msg": "Value error, a trigger does something", "type": "value_error"}]
            )
        return {
            "name": self.name,
            "when": sorted(set(self.when), key=WHEN_EVENTS.index),
            "match": self.match.value,
            "if": [c.stored() for c in checked],
            "then": then,
        }


class TriggerChange(BaseModel):
    """A revision: the parts given replace the trigger's."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str | None = Field(None, min_length=1, max_length=200)
    when: list[WhenEvent] | None = Field(None, min_length=1)
    match: Match | None = None
    if_: list[ConditionSpec] | None = Field(None, alias="if", max_length=50)
    then: ThenSpec | None = None

    def applied_to(self, spec: dict[str, Any]) -> TriggerSpec:
        given = self.model_dump(mode="json", exclude_unset=True, by_alias=True)
        return TriggerSpec.model_validate(as_written(spec) | given)


READ_AGAIN = ("calendar_spec", "kind", "choices")  # what a stored condition keeps of other services' answers


def as_written(spec: dict[str, Any]) -> dict[str, Any]:
    """A trigger's spec as an admin writes it: its conditions without what was read for them from the SLA service
    and intake when it was saved (read again when it is saved, or tried, anew)."""
    conditions = spec.get("if")
    if not isinstance(conditions, list):
        return spec
    kept = [{k: v for k, v in c.items() if k not in READ_AGAIN} if isinstance(c, dict) else c for c in conditions]
    return spec | {"if": kept}


class TriggerOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(description="Every live trigger's id once, first run first.")


class DisableRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("disabled by an admin", min_length=1, max_length=500)
