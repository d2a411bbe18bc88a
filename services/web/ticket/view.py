"""What the ticket page shows of the ticket's relations, custom fields and escalation, prepared from
the API's answers (the page's other parts: services/web/tickets.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.sessions import Session
from services.web.ticket.time import TimeSheet

LINK_KINDS = ("related", "duplicate_of", "duplicated_by", "parent_of", "child_of", "follow_up_of")
MOST_RELATED = 20  # a ticket shows this many related tickets


def link_kinds() -> dict[str, str]:
    """The kinds of link the API knows, in the person's language."""
    return {
        "related": _("Related to"),
        "duplicate_of": _("Duplicate of"),
        "duplicated_by": _("Duplicated by"),
        "parent_of": _("Parent of"),
        "child_of": _("Child of"),
        "follow_up_of": _("Follow-up of"),
    }


@dataclass(frozen=True)
class Related:
    """Another ticket and how this one relates to it; number and title None when the person may not see it."""

    relation: str
    ticket_id: str
    number: str | None
    title: str | None


@dataclass(frozen=True)
class FieldInput:
    """One custom field as the form shows it: its definition and its value (as typed, else as set)."""

    key: str
    label: str
    kind: str
    required: bool
    choices: list[str]
    current: str
    value: str

    @property
    def name(self) -> str:
        return f"cf-{self.key}"

    @property
    def shown(self) -> str:
        return (
            {"true": _("yes"), "false": _("no")}.get(self.current, self.current)
            if self.kind == "boolean"
            else self.current
        )


def typed_value(value: Any) -> str:
    """A field's value as a form field holds it (`true`, `12`, `2026-12-05`); empty when unset."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def extras(
    gateway: Gateway, session: Session, ticket: dict[str, Any], typed: dict[str, str], live: bool
) -> dict[str, Any]:
    """What the page's relation, field and escalation parts show (the page's context, by name)."""
    token = session.access_token
    relations = _relations(ticket)
    staff_live = session.is_staff and live
    found, definitions, groups, macros, sheet, activities = await asyncio.gather(
        asyncio.gather(*(gateway.visible_ticket(token, ticket_id) for _kind, ticket_id in relations)),
        _quietly(gateway.fields(token), {}),
        _quietly(gateway.groups(token), {}) if session.is_staff and live else _nothing(),
        _quietly(gateway.macros(token), []) if session.is_staff and live else _nothing(),
        _quietly(gateway.time_sheet(token, ticket["id"]), None) if staff_live else _nothing(),
        _quietly(gateway.activity_types(token), {}) if staff_live else _nothing(),
    )
    related = [
        Related(relation, ticket_id, other and other["number"], other and other["title"])
        for (relation, ticket_id), other in zip(relations, found, strict=True)
    ]
    values = ticket.get("custom_fields") or {}
    fields = [
        FieldInput(
            key,
            str(spec.get("label") or key),
            str(spec.get("kind") or "text"),
            bool(spec.get("required")),
            list(spec.get("choices") or []),
            typed_value(values.get(key)),
            typed.get(f"cf-{key}", typed_value(values.get(key))),
        )
        for key, spec in definitions.items()
    ]
    return {
        "merged_into": next((r for r in related if r.ticket_id == ticket.get("merged_into")), None),
        "relations": [
            r for r in related if r.ticket_id != ticket.get("merged_into") and (r.number or session.is_staff)
        ],
        "custom_fields": fields,
        "link_kinds": link_kinds(),
        "escalates_to": _next_tier(groups or {}, ticket.get("group_id")),
        "assignable": _assignable(groups or {}),
        "macros": macros or [],
        "time_sheet": TimeSheet.of(sheet, activities) if staff_live else None,
    }


def _assignable(groups: dict[str, Any]) -> dict[str, list[str]]:
    """The groups and their members, offered as the assignment form's choices (typing stays possible)."""
    found = groups.get("groups", [])
    return {
        "groups": sorted(str(g["group_id"]) for g in found),
        "agents": sorted({str(agent) for g in found for agent in g.get("members") or []}),
    }


def _relations(ticket: dict[str, Any]) -> list[tuple[str, str]]:
    kinds = link_kinds()
    pairs = [(_("Merged into"), ticket["merged_into"])] if ticket.get("merged_into") else []
    pairs += [(_("Merged from"), source) for source in ticket.get("merged_from") or []]
    if ticket.get("split_from"):
        pairs.append((_("Split from"), ticket["split_from"]))
    if ticket.get("follow_up_of"):
        pairs.append((kinds["follow_up_of"], ticket["follow_up_of"]))
    pairs += [(kinds.get(kind, kind), other) for other, kind in (ticket.get("links") or {}).items()]
    first: dict[str, str] = {}  # a ticket related twice (merged from, and linked) is named once, as first found
    for relation, other in pairs:
        first.setdefault(other, relation)
    return [(relation, other) for other, relation in first.items()][:MOST_RELATED]


def _next_tier(groups: dict[str, Any], group_id: str | None) -> str | None:
    current = next((g for g in groups.get("groups", []) if g.get("group_id") == group_id), None)
    return None if current is None else current.get("escalates_to")


async def _quietly(call: Any, instead: Any) -> Any:
    """A part of the page that can be left out when the API refuses it or does not answer now."""
    try:
        return await call
    except GatewayError:
        return instead


async def _nothing() -> None:
    return None
