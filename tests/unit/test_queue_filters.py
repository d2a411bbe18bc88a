"""The queues' filters, orders and counts on the ticket list (SQLite), and saved views as events."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from services.chassis.http.auth import Principal, Role
from services.chassis.runtime.errors import UnknownThingError
from services.chassis.runtime.settings import Settings
from services.chassis.storage.projector import StoreProjector
from services.chassis.storage.store import tracking_recorder
from services.intake.tickets.access import Scope
from services.intake.tickets.queues import QueueName, queue_filter
from services.intake.tickets.ticket_filters import Order, TicketFilter
from services.intake.views.domain import SavedViews, ViewRefusedError
from services.web.saved_views import FilterTextError, filters_of, text_of
from tests.privacy import memory_intake, projection_of
from tests.unit.test_ticket_queries import Tickets


@pytest.fixture
def tickets(tmp_path: Path) -> Tickets:
    intake = memory_intake()
    projection = projection_of(intake, tracking_recorder(Settings(persistence="sqlite", data_dir=tmp_path), "intake"))
    return Tickets(intake, projection, StoreProjector(intake, projection, batch_size=7))


def test_unassigned_several_groups_and_words_narrow_the_list_and_its_counts(tickets: Tickets) -> None:
    taken = tickets.open(title="VPN drops", priority="P2")
    waiting = tickets.open(title="Printer jammed", priority="P1")
    other = tickets.open(title="VPN slow", priority="P4")
    tickets.change(taken, "assign", "network", "agent-7", "skills")
    tickets.change(waiting, "assign", "hardware", None, "queue")
    tickets.change(other, "assign", "facilities", None, "queue")
    assert set(tickets.listed(unassigned=True)) == {waiting, other}
    assert set(tickets.listed(group_id=("network", "hardware"))) == {taken, waiting}
    assert tickets.listed(words="vpn", unassigned=True) == [other]
    assert tickets.listed(where=TicketFilter(agent_id="agent-7")) == [taken]
    assert tickets.listed(where=TicketFilter(agent_id="agent-7"), agent_id="agent-8") == [], "a queue and more: both"
    counts = tickets.projection.count_tickets(
        "acme",
        {"unassigned": TicketFilter(unassigned=True), "vpn": TicketFilter(words="vpn"), "all": TicketFilter()},
    )
    assert counts == {"unassigned": 2, "vpn": 2, "all": 3}


def test_an_agents_queues_counted_at_once_are_the_rows_of_their_lists(tickets: Tickets) -> None:
    """The queues on the tickets' own columns are counted in one statement (each its own parameters); each
    count is the number of rows its list shows the agent, within what the agent may see."""
    mine = tickets.open(title="VPN drops", tags=("vpn",))
    theirs = tickets.open(title="Printer jammed", priority="P1")
    elsewhere = tickets.open(title="Badge reader", tags=("vpn",))
    tickets.open(title="Nobody's yet")
    tickets.change(mine, "assign", "network", "agent-7", "skills")
    tickets.change(theirs, "assign", "network", None, "queue")
    tickets.change(elsewhere, "assign", "facilities", None, "queue")
    agent = Principal("acme", "agent-7", frozenset({Role.AGENT}), frozenset({"network"}))
    scope = Scope.of(agent).sql()
    filters = {name.value: queue_filter(name, agent) for name in QueueName} | {
        "tagged": TicketFilter(tag="vpn"),
        "urgent_network": TicketFilter(priorities=("P1", "P2"), group_ids=("network",)),
        "words": TicketFilter(words="vpn"),
    }
    tickets.projector.catch_up()
    counts = tickets.projection.count_tickets("acme", filters, scope)
    shown = {name: len(tickets.listed(where=chosen, scope=scope)) for name, chosen in filters.items()}
    assert counts == shown
    assert counts == {"mine": 1, "my_groups": 2, "unassigned": 2, "waiting": 0,
        "breaching_soon": 0, "all": 3, "tagged": 1, "urgent_network": 1, "words": 1}  # fmt: skip


def test_the_list_pages_in_priority_order_with_its_cursor(tickets: Tickets) -> None:
    opened = {priority: tickets.open(priority=priority) for priority in ("P3", "P1", "P4", "P2")}
    tickets.projector.catch_up()
    seen, cursor = [], None
    while True:
        rows, cursor = tickets.projection.list_tickets("acme", order=Order.MOST_URGENT, cursor=cursor, limit=3)
        seen += [UUID(row["ticket_id"]) for row in rows]
        if cursor is None:
            break
    assert seen == [opened[p] for p in ("P1", "P2", "P3", "P4")]
    assert all(row["sla_due_at"] is None for row in rows), "no clock runs without the SLA service"
    assert tickets.listed(order=Order.NEAREST_DUE) == []


def test_a_saved_view_is_its_owners_until_shared_and_each_change_names_its_actor() -> None:
    views = SavedViews("acme")
    spec = {
        "name": "Urgent",
        "shared": False,
        "filters": {"priority": ["P1"]},
        "columns": ["title"],
        "order": "priority",
    }
    assert views.save("v1", spec, "agent-ann", tidies=False) is True
    assert views.visible_to("agent-boris") == []
    with pytest.raises(UnknownThingError):
        views.save("v1", spec, "agent-boris", tidies=False)
    views.save("v1", spec | {"shared": True}, "agent-ann", tidies=False)
    with pytest.raises(ViewRefusedError):
        views.delete("v1", "agent-boris", tidies=False)
    views.delete("v1", "supervisor-1", tidies=True)
    events = views.collect_events()
    assert [type(e).__name__ for e in events] == ["Started", "ViewSaved", "ViewChanged", "ViewDeleted"]
    assert [getattr(e, "actor", None) for e in events[1:]] == ["agent-ann", "agent-ann", "supervisor-1"]
    assert views.visible_to("agent-ann") == []


def test_a_views_filters_are_written_as_in_search() -> None:
    filters = filters_of("status:new,open priority:p1 group:first-line agent:me tag:vpn drops daily")
    assert filters == {"status": ["new", "open"], "priority": ["P1"], "group_id": ["first-line"], "agent_id": "me",
                       "tag": "vpn", "words": "drops daily"}  # fmt: skip
    assert filters_of(text_of(filters)) == filters
    with pytest.raises(FilterTextError):
        filters_of("requester:kim")
