"""Request Tracker's relations between tickets as ours, without an RT: tickets as its REST2 API describes them,
mapped (services/importer/rt_mapping.py, rt_links.py) and imported into an in-memory intake. The same against
a real RT: tests/integration/test_import_rt_links.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.importer.rt_client import RtTicket, RtTransaction, RtUser
from services.importer.rt_links import Links
from services.importer.rt_mapping import RtMapping
from services.intake.tickets.application import Intake
from services.intake.tickets.domain import Ticket
from services.intake.tickets.importing import imported_ticket_id
from tests.privacy import memory_intake

URL = "http://rt.example"
TENANT = "acme"
DAY = datetime(2019, 5, 6, 9, 0, tzinfo=UTC)
QUEUES = {"1": "General", "2": "Network Team"}


def at(minutes: int) -> datetime:
    return DAY + timedelta(minutes=minutes)


def user(name: str) -> RtUser:
    return RtUser(name, f"{name}@example.com", None, privileged=name == "root")


def mapping(keys: list[str], merged: dict[str, str] | None = None, before: set[str] | None = None) -> RtMapping:
    """A mapping of a run over `keys`; `merged`: RT's merged ticket -> the one it lives on in."""
    links = Links(lambda key: (merged or {}).get(key, key), keys, lambda key: key in (before or set()))
    return RtMapping(URL, user, lambda u: f"person-{u.name}", set(), QUEUES.__getitem__, links)


def rt_ticket(id: str, *transactions: RtTransaction, links: list[tuple[str, str]] | None = None) -> RtTicket:
    create = RtTransaction(f"{id}00", "Create", "", "", "", at(int(id)), "eva", f"words of {id}", ticket=id)
    return RtTicket(id, f"Ticket {id}", "open", QUEUES["1"], ["eva"], "eva", at(int(id)), 0, {},
                    [create, *transactions], links or [])  # fmt: skip


def link(id: str, on: str, field: str, other: str, minutes: int, kind: str = "AddLink") -> RtTransaction:
    uri = f"fsck.com-rt://rt.example/ticket/{other}"
    new, old = (uri, "") if kind == "AddLink" else ("", uri)
    return RtTransaction(id, kind, field, old, new, at(minutes), "root", ticket=on)


def imported(intake: Intake, rt_id: str) -> Ticket:
    return intake.get_ticket(imported_ticket_id(TENANT, "rt", URL, rt_id), TENANT)


def test_a_link_is_recorded_on_both_tickets_when_the_later_one_is_imported() -> None:
    intake = memory_intake()
    run = mapping(["1", "2"])
    first = run.ticket(rt_ticket("1", link("101", "1", "DependsOn", "2", 30)))
    assert first.ticket.steps == []
    assert first.unmapped == []
    intake.import_ticket(TENANT, first.ticket)

    second = run.ticket(
        rt_ticket("2", link("201", "2", "DependedOnBy", "1", 30), link("202", "2", "HasMember", "1", 40))
    )
    intake.import_ticket(TENANT, second.ticket)

    one, two = imported(intake, "1"), imported(intake, "2")
    assert (one.links, two.links) == ({str(two.id): "child_of"}, {str(one.id): "parent_of"})
    events = [e for e in intake.history(one.id, TENANT) if isinstance(e, Ticket.Linked)]
    assert [(e.timestamp, e.reason) for e in events] == [
        (at(30), "imported (201): DependedOnBy 1"),
        (at(40), "imported (202): HasMember 1"),
    ]


def test_a_link_made_as_the_ticket_was_created_is_recorded_at_its_creation() -> None:
    intake = memory_intake()
    run = mapping(["1", "5"])
    intake.import_ticket(TENANT, run.ticket(rt_ticket("1", link("101", "1", "ReferredToBy", "5", 5))).ticket)

    later = run.ticket(rt_ticket("5", links=[("RefersTo", "1")]))  # RT recorded it on ticket 1 only
    intake.import_ticket(TENANT, later.ticket)

    five = imported(intake, "5")
    assert five.links == {str(imported(intake, "1").id): "related"}
    [linked] = [e for e in intake.history(five.id, TENANT) if isinstance(e, Ticket.Linked)]
    assert linked.timestamp == at(5)


def test_a_link_to_a_ticket_outside_the_import_is_listed_with_the_reason_and_the_rest_imported() -> None:
    intake = memory_intake()
    mapped = mapping(["3"], before={"4"}).ticket(
        rt_ticket(
            "3",
            link("301", "3", "RefersTo", "9", 10),
            link("302", "3", "RefersTo", "4", 11),
            RtTransaction("303", "AddLink", "RefersTo", "", "https://wiki.example/printers", at(12), "root"),
        )
    )

    assert mapped.unmapped[0].startswith("transaction 301 AddLink: RefersTo RT #9: that ticket is not in this import")
    assert "is no ticket of this RT" in mapped.unmapped[1]
    assert [step.value["ticket"] for step in mapped.ticket.steps] == ["4"]  # imported before: linked
    outcome = intake.import_ticket(TENANT, mapped.ticket)
    [refused] = outcome.refused  # not in this store after all: refused, the rest imported
    assert refused.startswith("302 (link):")
    assert "rt:4 is not imported" in refused
    assert imported(intake, "3").links == {}


def test_a_merged_ticket_is_its_own_ticket_merged_into_the_survivor_at_the_merge() -> None:
    intake = memory_intake()
    survivor = rt_ticket(
        "7",
        RtTransaction("800", "Create", "", "", "", at(8), "eva", "same printer", ticket="8", subject="Printer again"),
        RtTransaction("801", "Correspond", "", "", "", at(9), "root", "Looking", ticket="8"),
        RtTransaction("802", "Set", "Queue", "1", "2", at(10), "root", ticket="8"),
        link("803", "8", "MergedInto", "7", 20),
        link("703", "7", "MergedInto", "7", 20),
        RtTransaction("704", "Correspond", "", "", "", at(30), "root", "Fixed", ticket="7"),
    )

    intake.import_ticket(TENANT, mapping(["7"], merged={"8": "7"}).ticket(survivor).ticket)

    seven, eight = imported(intake, "7"), imported(intake, "8")
    assert (eight.status, eight.merged_into, seven.merged_from) == ("closed", str(seven.id), [str(eight.id)])
    assert intake.personal.unseal(TENANT, eight.title) == "Printer again"
    assert (len(seven.comments), len(eight.comments), eight.group_id) == (1, 1, "network-team")
    assert "rt:8" in eight.tags
    assert "rt:8" not in seven.tags
    [received] = [e for e in intake.history(seven.id, TENANT) if isinstance(e, Ticket.MergeReceived)]
    assert received.timestamp == at(20)
    assert [type(e).__name__ for e in intake.history(eight.id, TENANT)] == [
        "Opened", "CommentAdded", "Assigned", "MergedInto"
    ]  # fmt: skip


def test_a_ticket_opens_when_request_tracker_created_it_though_its_create_transaction_came_a_second_later() -> None:
    late_create = RtTransaction("900", "Create", "", "", "", at(9) + timedelta(seconds=1), "eva", "words", ticket="9")
    ticket = RtTicket("9", "Ticket 9", "open", QUEUES["1"], ["eva"], "eva", at(9), 0, {}, [late_create], [])
    assert mapping(["9"]).ticket(ticket).ticket.at == at(9)
