"""Published event versions stay readable: the checked-in JSON Schemas against the code's."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from schemas.compat import Schema, breaking_changes, check, current_schemas, published_before, published_schemas
from schemas.registry import EVENT_TYPES


def a_schema(**changes: Any) -> Schema:
    """A small event schema in pydantic's style: an enum in `$defs`, an optional nullable field."""
    schema: Schema = {
        "$defs": {"Priority": {"enum": ["P1", "P2", "P3"], "title": "Priority", "type": "string"}},
        "properties": {
            "ticket_id": {"title": "Ticket Id", "type": "string"},
            "priority": {"$ref": "#/$defs/Priority"},
            "opened_at": {"format": "date-time", "type": "string"},
            "tags": {"items": {"type": "string"}, "type": "array"},
            "organisation": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        },
        "required": ["ticket_id", "priority"],
        "title": "TicketOpened",
        "type": "object",
    }
    return schema | changes


def changed(edit: Any) -> Schema:
    """`a_schema()` after `edit(schema)` on a deep copy."""
    schema = copy.deepcopy(a_schema())
    edit(schema)
    return schema


def test_the_same_schema_breaks_nothing() -> None:
    assert breaking_changes(a_schema(), a_schema()) == []


def test_an_added_optional_property_breaks_nothing() -> None:
    schema = changed(lambda s: s["properties"].update(channel={"type": "string", "default": "api"}))
    assert breaking_changes(a_schema(), schema) == []


def test_a_removed_property_is_breaking() -> None:
    schema = changed(lambda s: s["properties"].pop("opened_at"))
    assert breaking_changes(a_schema(), schema) == ["opened_at: property removed"]


def test_a_property_whose_type_changed_is_breaking() -> None:
    schema = changed(lambda s: s["properties"].update(ticket_id={"type": "integer"}))
    assert breaking_changes(a_schema(), schema) == ["ticket_id: type changed from string to integer"]


def test_a_nullable_property_made_non_null_is_breaking() -> None:
    schema = changed(lambda s: s["properties"].update(organisation={"type": "string"}))
    assert breaking_changes(a_schema(), schema) == ["organisation: type changed from null | string to string"]


def test_a_changed_array_item_type_is_breaking() -> None:
    schema = changed(lambda s: s["properties"]["tags"].update(items={"type": "integer"}))
    assert breaking_changes(a_schema(), schema) == ["tags[]: type changed from string to integer"]


def test_a_changed_format_is_breaking() -> None:
    schema = changed(lambda s: s["properties"]["opened_at"].update(format="date"))
    assert breaking_changes(a_schema(), schema) == ["opened_at: format changed from 'date-time' to 'date'"]


def test_a_property_newly_required_is_breaking() -> None:
    schema = changed(lambda s: s["required"].append("opened_at"))
    assert breaking_changes(a_schema(), schema) == ["opened_at: newly required"]


def test_a_new_required_property_is_breaking() -> None:
    def add_required(schema: Schema) -> None:
        schema["properties"]["channel"] = {"type": "string"}
        schema["required"].append("channel")

    assert breaking_changes(a_schema(), changed(add_required)) == ["channel: newly required"]


def test_an_enum_narrowed_behind_a_ref_is_breaking() -> None:
    schema = changed(lambda s: s["$defs"]["Priority"].update(enum=["P1", "P2"]))
    assert breaking_changes(a_schema(), schema) == ["priority: enum value 'P3' removed"]


def test_an_enum_given_a_new_value_breaks_nothing() -> None:
    schema = changed(lambda s: s["$defs"]["Priority"].update(enum=["P1", "P2", "P3", "P4"]))
    assert breaking_changes(a_schema(), schema) == []


@pytest.mark.parametrize(
    ("published", "current", "expected"),
    [
        (None, False, "$: additionalProperties tightened from true to false"),
        (True, {"type": "string"}, 'additionalProperties tightened from true to {"type": "string"}'),
        ({"type": "string"}, False, "additionalProperties tightened from"),
        ({"type": "string"}, {"type": "integer"}, "${*}: type changed from string to integer"),
    ],
)
def test_tightened_additional_properties_are_breaking(published: Any, current: Any, expected: str) -> None:
    old = a_schema() if published is None else a_schema(additionalProperties=published)
    changes = breaking_changes(old, a_schema(additionalProperties=current))
    assert len(changes) == 1
    assert expected in changes[0]


def test_loosened_additional_properties_break_nothing() -> None:
    assert breaking_changes(a_schema(additionalProperties=False), a_schema(additionalProperties=True)) == []


def test_every_breaking_change_is_listed_not_only_the_first() -> None:
    def break_everything(schema: Schema) -> None:
        schema["properties"].pop("tags")
        schema["properties"]["ticket_id"] = {"type": "integer"}
        schema["required"].append("opened_at")
        schema["$defs"]["Priority"]["enum"] = ["P1"]

    assert sorted(breaking_changes(a_schema(), changed(break_everything))) == [
        "opened_at: newly required",
        "priority: enum value 'P2' removed",
        "priority: enum value 'P3' removed",
        "tags: property removed",
        "ticket_id: type changed from string to integer",
    ]


def test_a_published_version_missing_from_the_code_is_withdrawn() -> None:
    found = check({"ticket.opened.v1.json": a_schema(), "ticket.opened.v2.json": a_schema()}, {})
    withdrawn = "version withdrawn (checked in, but no longer in schemas.registry)"
    assert found == {
        "ticket.opened.v1.json": [f"ticket.opened v1: {withdrawn}"],
        "ticket.opened.v2.json": [f"ticket.opened v2: {withdrawn}"],
    }


def test_a_new_version_in_the_code_breaks_nothing_published() -> None:
    assert check({"ticket.opened.v1.json": a_schema()}, {"ticket.opened.v1.json": a_schema(), "x.v2.json": {}}) == {}


def test_a_breaking_change_is_named_by_event_type_and_version() -> None:
    narrowed = changed(lambda s: s["$defs"]["Priority"].update(enum=["P1", "P2"]))
    found = check({"ticket.opened.v2.json": a_schema()}, {"ticket.opened.v2.json": narrowed})
    assert found == {"ticket.opened.v2.json": ["ticket.opened v2: priority: enum value 'P3' removed"]}


def test_a_real_published_schema_catches_a_narrowed_channel() -> None:
    """The comparer reads pydantic's own output, not only the hand-made schemas above."""
    published = published_schemas()["ticket.opened.v2.json"]
    current = copy.deepcopy(published)
    current["$defs"]["Channel"]["enum"].remove("phone")
    assert breaking_changes(published, current) == ["channel: enum value 'phone' removed"]


def test_every_event_version_is_checked_in() -> None:
    """Else the check below would pass for a version nobody published a schema of."""
    published = published_schemas()
    assert {f"{t.event_type}.v{t.event_version}.json" for t in EVENT_TYPES} | {"envelope.json"} <= set(published)


def test_no_published_event_version_is_broken_by_the_current_code() -> None:
    found = check(published_schemas(), current_schemas())
    listed = "\n".join(f"  {change}" for changes in found.values() for change in changes)
    assert not found, (
        f"breaking changes to published event versions:\n{listed}\n"
        "publish a new version (a new class with event_version + 1 and an upcaster) instead of changing one"
    )


def test_no_version_published_in_the_last_commit_is_broken_by_the_current_code() -> None:
    """Catches a breaking change even when `make schemas` regenerated the checked-in files with it."""
    where, published = published_before()
    found = check(published, current_schemas())
    listed = "\n".join(f"  {change}" for changes in found.values() for change in changes)
    assert not found, f"breaking changes to event versions published as of {where}:\n{listed}"
