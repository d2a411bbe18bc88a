"""A trigger's conditions and their evaluator: pure, so it is unit-tested without Kafka or a store.

A condition is `{field, op, value}` on the ticket's facts as the rules service projects them from the
desk's public events (facts.py). `changed_to` holds only on the event that made the change (the facts
before the event are given too), so a trigger on "status changed to pending" fires once, not on every
later event of a pending ticket. `greater`/`less` compare priorities by urgency (P1 is the greatest):
no other field the rules know has an order worth comparing.

`language` is the ticket's (ISO 639-1, `ru`), as `ticket.opened` v4 carries it. `custom_fields.<key>` reads a
custom field of the ticket: only choice, number and boolean fields are on the desk's public events (a text or
date field may hold personal data), so a condition on any other, or on a field the tenant lacks, is refused
naming `if.custom_fields.<key>`. The field's kind (and its choices) is read from intake when the trigger is
saved (field_kinds.py) and kept with the condition, as a calendar is: choice fields take is, is_not, in and
changed_to; number fields those and greater/less (compared as numbers); boolean fields is, is_not, changed_to.

`hours_since` measures time since a moment of the ticket (timing.py: timed triggers); it holds when the
evaluation instant `at` given to `evaluate` is at least `value` hours after the moment, or with
`business_hours: true` when at least `value` business hours of the calendar it names (`"calendar": "berlin"`,
one of the SLA service's) have passed since. The calendar's spec is read from the SLA service when the trigger
is saved (api.py) and kept in the trigger's version (`calendar_spec`): evaluation never asks another service.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.rules.timing import ANCHORS, MAX_HOURS, TIME_FIELD, anchor_key, business_calendar, business_seconds

Facts = Mapping[str, Any]

PRIORITIES = ("P4", "P3", "P2", "P1")  # least to most urgent
STATUSES = ("new", "open", "pending", "on_hold", "resolved", "closed")
TYPES = ("incident", "request", "question", "problem")
CHANNELS = ("api", "email", "chat", "messenger", "phone", "portal")


class Op(StrEnum):
    IS = "is"
    IS_NOT = "is_not"
    IN = "in"
    CONTAINS = "contains"
    CHANGED_TO = "changed_to"
    GREATER = "greater"
    LESS = "less"


WORDS = {
    Op.IS: "is",
    Op.IS_NOT: "is not",
    Op.IN: "is one of",
    Op.CONTAINS: "contains",
    Op.CHANGED_TO: "changed to",
    Op.GREATER: "is more urgent than",
    Op.LESS: "is less urgent than",
}


class Match(StrEnum):
    ALL = "all"
    ANY = "any"


# Each field the rules know: its allowed values (None: any text) and whether it holds several (tags).
FIELDS: dict[str, tuple[tuple[str, ...] | None, bool]] = {
    "status": (STATUSES, False),
    "priority": (PRIORITIES, False),
    "type": (TYPES, False),
    "channel": (CHANNELS, False),
    "category": (None, False),
    "group": (None, False),
    "assignee": (None, False),
    "organisation": (None, False),
    "tags": (None, True),
    "replied_last": (("customer", "agent"), False),  # who wrote the last public word (timing.py)
    "language": (None, False),  # the ticket's, two letters
}
CUSTOM = "custom_fields."  # a condition's field `custom_fields.<key>`
CUSTOM_KINDS: dict[str, tuple[Op, ...]] = {  # the kinds on public events, and the operators each takes
    "choice": (Op.IS, Op.IS_NOT, Op.IN, Op.CHANGED_TO),
    "number": (Op.IS, Op.IS_NOT, Op.IN, Op.CHANGED_TO, Op.GREATER, Op.LESS),
    "boolean": (Op.IS, Op.IS_NOT, Op.CHANGED_TO),
}
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")


class ConditionError(ValueError):
    """A condition refused: `field` names where, e.g. `if[2].op`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class Condition:
    field: str
    op: Op
    value: Any
    of: str | None = None  # hours_since: the moment measured from
    calendar: str | None = None  # hours_since in business hours: the SLA calendar's name
    calendar_spec: Mapping[str, Any] | None = None  # ... and its spec when the trigger was saved
    kind: str | None = None  # a custom field's kind when the trigger was saved (CUSTOM_KINDS)
    choices: tuple[str, ...] = ()  # ... and a choice field's choices

    @property
    def custom_key(self) -> str | None:
        return self.field.removeprefix(CUSTOM) if self.field.startswith(CUSTOM) else None

    def stored(self) -> dict[str, Any]:
        kept = {"field": self.field, "op": self.op.value, "value": self.value}
        if self.kind is not None:
            return kept | {"kind": self.kind} | ({"choices": list(self.choices)} if self.kind == "choice" else {})
        if self.of is None:
            return kept
        if self.calendar is None:
            return kept | {"of": self.of, "business_hours": False}
        business = {"business_hours": True, "calendar": self.calendar, "calendar_spec": dict(self.calendar_spec or {})}
        return kept | {"of": self.of} | business

    def describe(self) -> str:
        if self.of is not None:
            hours = f"{self.value:g} business hours ({self.calendar})" if self.calendar else f"{self.value:g} hours"
            return f"{self.of.replace('_', ' ')} more than {hours} ago"
        values = self.value if isinstance(self.value, list) else [self.value]
        shown = ", ".join(_shown(v) for v in values)
        if self.custom_key is not None:
            words = NUMBER_WORDS.get(self.op, WORDS[self.op])
            return f"custom field {self.custom_key} {words} {shown}"
        return f"{self.field} {WORDS[self.op]} {shown}"


NUMBER_WORDS = {Op.GREATER: "is more than", Op.LESS: "is less than"}


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g}" if isinstance(value, float) else str(value)


Calendars = Mapping[str, Mapping[str, Any]]
Fields = Mapping[str, Mapping[str, Any]]  # a tenant's custom fields, key -> {"kind", "choices", ...} (intake's)
ROUNDING = 1e-3  # seconds: the calendar counts in microseconds, so its due instant may read a hair short


def check(
    raw: Sequence[Mapping[str, Any]],
    where: str = "if",
    calendars: Calendars | None = None,
    fields: Fields | None = None,
) -> list[Condition]:
    """The conditions, checked: a ConditionError names the first wrong one's part. `calendars` (name -> spec, as
    the SLA service holds them) and `fields` (the tenant's custom fields, as intake holds them) are given when a
    trigger is saved; without, a business-hours condition keeps the `calendar_spec` stored with it and a custom
    field's condition its `kind` and `choices`."""
    return [_check_one(item, f"{where}[{i}]", calendars, fields) for i, item in enumerate(raw)]


def custom_fields_named(raw: Sequence[Mapping[str, Any]]) -> set[str]:
    """The custom fields the conditions of `raw` name (their kinds to be read from intake)."""
    return {str(c["field"]).removeprefix(CUSTOM) for c in raw if str(c.get("field", "")).startswith(CUSTOM)}


def calendars_named(raw: Sequence[Mapping[str, Any]]) -> set[str]:
    """The calendars the business-hours conditions of `raw` name (to be read from the SLA service)."""
    return {str(c["calendar"]) for c in raw if c.get("business_hours") and isinstance(c.get("calendar"), str)}


def _check_one(
    item: Mapping[str, Any], at: str, calendars: Calendars | None = None, fields: Fields | None = None
) -> Condition:
    field, op, value = item.get("field"), item.get("op"), item.get("value")
    if field == TIME_FIELD:
        return _check_time(item, at, calendars)
    if item.get("of") is not None or item.get("business_hours") is not None or item.get("calendar") is not None:
        raise ConditionError(f"{at}.of", f"of, business_hours and calendar belong to {TIME_FIELD} conditions only")
    if isinstance(field, str) and field.startswith(CUSTOM):
        return _check_custom(item, at, fields)
    if field not in FIELDS:
        known = ", ".join(sorted([*FIELDS, TIME_FIELD]))
        raise ConditionError(f"{at}.field", f"no field {field!r}: one of {known}")
    try:
        kind = Op(str(op))
    except ValueError:
        raise ConditionError(f"{at}.op", f"no operator {op!r}: one of {', '.join(o.value for o in Op)}") from None
    allowed, several = FIELDS[str(field)]
    if kind in (Op.GREATER, Op.LESS) and field != "priority":
        raise ConditionError(f"{at}.op", f"{field} has no order: {kind.value} compares priorities only")
    if kind is Op.CONTAINS and not several and allowed is not None:
        raise ConditionError(f"{at}.op", f"{field} is one value: use is, is_not or in")
    if kind is Op.IN and (not isinstance(value, list) or not value):
        raise ConditionError(f"{at}.value", "in takes a list of one value or more")
    values: list[Any] = list(value) if isinstance(value, list) and kind is Op.IN else [value]
    for one in values:
        if one is not None and not isinstance(one, str):
            raise ConditionError(f"{at}.value", f"{one!r} is not text")
        if one is None and (kind not in (Op.IS, Op.IS_NOT) or several):
            raise ConditionError(f"{at}.value", "only is and is_not take null (no value)")
        if one is not None and (not one or len(one) > 200):
            raise ConditionError(f"{at}.value", "a value is 1 to 200 characters")
        if allowed is not None and one is not None and one not in allowed:
            raise ConditionError(f"{at}.value", f"{one!r} is no {field}: one of {', '.join(allowed)}")
        if field == "language" and one is not None and not _LANGUAGE.match(one):
            raise ConditionError(f"{at}.value", f"{one!r} is no language: two lower-case letters (ISO 639-1, ru)")
    return Condition(str(field), kind, values if kind is Op.IN else value)


def _check_custom(item: Mapping[str, Any], at: str, fields: Fields | None) -> Condition:
    """A condition on a custom field: of a kind on the public events, its operator and values fit for the kind."""
    key = str(item["field"]).removeprefix(CUSTOM)
    named = f"if.custom_fields.{key}"
    if fields is not None:
        spec = fields.get(key) if _KEY.match(key) else None
        if spec is None:
            raise ConditionError(named, f"the tenant has no custom field {key!r}")
        kind, choices = str(spec.get("kind")), tuple(spec.get("choices") or ())
    elif isinstance(item.get("kind"), str):
        kind, choices = str(item["kind"]), tuple(item.get("choices") or ())
    else:
        raise ConditionError(named, "a custom field's kind is read from intake when a trigger is saved")
    if kind not in CUSTOM_KINDS:
        raise ConditionError(
            named, f"{key} is a {kind} field, which may hold personal data: only choice, number and boolean fields"
            " are on the desk's public events",
        )  # fmt: skip
    try:
        op = Op(str(item.get("op")))
    except ValueError:
        op = None
    if op not in CUSTOM_KINDS[kind]:
        takes = ", ".join(o.value for o in CUSTOM_KINDS[kind])
        raise ConditionError(f"{at}.op", f"a {kind} field takes {takes}")
    value = item.get("value")
    if op is Op.IN and (not isinstance(value, list) or not value):
        raise ConditionError(f"{at}.value", "in takes a list of one value or more")
    for one in value if isinstance(value, list) and op is Op.IN else [value]:
        if one is None and op in (Op.IS, Op.IS_NOT):
            continue
        if kind == "choice" and one not in choices:
            raise ConditionError(f"{at}.value", f"{one!r} is no choice of {key}: one of {', '.join(choices)}")
        if kind == "number" and (isinstance(one, bool) or not isinstance(one, int | float)):
            raise ConditionError(f"{at}.value", f"{one!r} is not a number")
        if kind == "boolean" and not isinstance(one, bool):
            raise ConditionError(f"{at}.value", f"{one!r} is not true or false")
    return Condition(f"{CUSTOM}{key}", op, value, kind=kind, choices=choices)


def _check_time(item: Mapping[str, Any], at: str, calendars: Calendars | None = None) -> Condition:
    of, op, value = item.get("of"), item.get("op"), item.get("value")
    if of not in ANCHORS:
        raise ConditionError(f"{at}.of", f"no moment {of!r}: one of {', '.join(ANCHORS)}")
    if op != Op.GREATER.value:
        raise ConditionError(f"{at}.op", f"{TIME_FIELD} takes greater (more than so many hours)")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_HOURS:
        raise ConditionError(f"{at}.value", f"hours: a number above 0 and at most {MAX_HOURS}")
    if not item.get("business_hours"):
        if item.get("calendar") is not None:
            raise ConditionError(f"{at}.calendar", "a calendar counts business hours: set business_hours true")
        return Condition(TIME_FIELD, Op.GREATER, float(value), str(of))
    name = item.get("calendar")
    if not isinstance(name, str) or not name:
        raise ConditionError(f"{at}.calendar", "business hours are counted in a calendar: name one of the SLA's")
    spec = item.get("calendar_spec") if calendars is None else calendars.get(name)
    if not isinstance(spec, Mapping) and calendars is None:
        message = "a calendar's hours are read from the SLA service when a trigger is saved"
        raise ConditionError(f"{at}.calendar", message)
    if not isinstance(spec, Mapping):
        known = ", ".join(sorted(calendars or ())) or "none yet"
        raise ConditionError(f"{at}.calendar", f"no calendar {name!r} in the SLA service: one of {known}")
    try:
        business_calendar(spec)
    except ValueError as error:
        raise ConditionError(f"{at}.calendar", f"calendar {name!r} cannot be read: {error}") from None
    return Condition(TIME_FIELD, Op.GREATER, float(value), str(of), name, dict(spec))


def holds(condition: Condition, now: Facts, before: Facts, at: float | None = None) -> bool:
    """Does `condition` hold of the ticket's facts `now` (after the event), `before` being the facts before it,
    at the instant `at` (epoch seconds: what hours_since measures to)?"""
    if condition.of is not None:
        moment = now.get(anchor_key(condition.of))
        if at is None or moment is None:
            return False
        if condition.calendar_spec is not None:
            return bool(business_seconds(condition.calendar_spec, moment, at) >= condition.value * 3600.0 - ROUNDING)
        return bool(at - moment >= condition.value * 3600.0)
    if (key := condition.custom_key) is not None:
        return _holds_custom(condition, (now.get("custom_fields") or {}).get(key),
                             (before.get("custom_fields") or {}).get(key))  # fmt: skip
    actual, wanted = now.get(condition.field), condition.value
    several = FIELDS[condition.field][1]
    match condition.op:
        case Op.IS:
            return (wanted in (actual or [])) if several else actual == wanted
        case Op.IS_NOT:
            return (wanted not in (actual or [])) if several else actual != wanted
        case Op.IN:
            return bool(set(actual or []) & set(wanted)) if several else actual in wanted
        case Op.CONTAINS:
            if several:
                return wanted in (actual or [])
            return isinstance(actual, str) and wanted.casefold() in actual.casefold()
        case Op.CHANGED_TO:
            earlier = before.get(condition.field)
            if several:
                return wanted in (actual or []) and wanted not in (earlier or [])
            return bool(actual == wanted and earlier != wanted)
        case Op.GREATER | Op.LESS:
            if actual not in PRIORITIES:
                return False
            rank = PRIORITIES.index(actual) - PRIORITIES.index(wanted)
            return rank > 0 if condition.op is Op.GREATER else rank < 0
    return False  # pragma: no cover - every Op is matched above


def _same(a: Any, b: Any) -> bool:
    """Equal values of one kind: a yes is not the number 1."""
    return a is b if isinstance(a, bool) or isinstance(b, bool) else bool(a == b)


def _holds_custom(condition: Condition, actual: Any, earlier: Any) -> bool:
    wanted = condition.value
    match condition.op:
        case Op.IS:
            return _same(actual, wanted)
        case Op.IS_NOT:
            return not _same(actual, wanted)
        case Op.IN:
            return any(_same(actual, one) for one in wanted)
        case Op.CHANGED_TO:
            return _same(actual, wanted) and not _same(earlier, wanted)
        case Op.GREATER | Op.LESS:
            if isinstance(actual, bool) or not isinstance(actual, int | float):
                return False
            return bool(actual > wanted) if condition.op is Op.GREATER else bool(actual < wanted)
    return False


def evaluate(
    match: Match, conditions: Sequence[Condition], now: Facts, before: Facts, at: float | None = None
) -> str | None:
    """The reason in words when the conditions hold ("priority is P1 and channel is email"), else None.
    No conditions: always (the trigger's events alone choose)."""
    if not conditions:
        return "always"
    held = [c for c in conditions if holds(c, now, before, at)]
    if match is Match.ALL:
        return " and ".join(c.describe() for c in conditions) if len(held) == len(conditions) else None
    return " or ".join(c.describe() for c in held) if held else None
