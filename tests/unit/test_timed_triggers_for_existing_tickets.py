"""A timed trigger made, revised or enabled is scheduled at once for the tickets the rules service already knows
(not only once their facts next change): once per ticket however often the sweep runs, not for a closed one."""

from __future__ import annotations

from uuid import UUID

from services.rules.requests import TriggerSpec
from tests.unit.test_rules_firing import TENANT, Desk
from tests.unit.test_timed_trigger_timing import automation, pend, pending_for


def scheduled_events(desk: Desk) -> int:
    notifications = desk.rules.recorder.select_notifications(1, 100_000)
    return sum(n.topic.endswith("TicketAutomation.Scheduled") for n in notifications)


def test_a_new_timed_trigger_is_scheduled_for_the_pending_tickets_already_known() -> None:
    desk = Desk()
    waiting, fresh, closed = desk.open(), desk.open(), desk.open()
    pend(desk, waiting)
    pend(desk, closed)
    desk.event("ticket.status_changed", {"ticket_id": closed, "status": "closed", "change": "closed"})
    trigger_id = desk.trigger(name="Chase", then={"tags_add": ["chase"]}, **pending_for(2))
    assert trigger_id in automation(desk, waiting).timers
    assert automation(desk, fresh).timers == {}  # new, not pending: its conditions do not hold
    assert automation(desk, closed).timers == {}


def test_a_sweep_again_records_nothing_and_a_revision_moves_the_timer() -> None:
    desk = Desk()
    ticket_id = desk.open()
    pend(desk, ticket_id)
    trigger_id = desk.trigger(name="Chase", then={"tags_add": ["chase"]}, **pending_for(2))
    due = automation(desk, ticket_id).timers[trigger_id]
    recorded = scheduled_events(desk)
    trigger = desk.rules.trigger(TENANT, UUID(trigger_id))
    assert desk.rules.schedule_existing(trigger) == 1
    assert scheduled_events(desk) == recorded  # the timer is there already: nothing recorded
    later = TriggerSpec.model_validate({"name": "Chase", "then": {"tags_add": ["chase"]}} | pending_for(3)).stored()
    desk.rules.change_trigger(TENANT, trigger.id, lambda t: t.revise(later, "admin-1"), None)
    assert automation(desk, ticket_id).timers[trigger_id] == due + 3600


def test_a_disabled_timed_trigger_enabled_again_is_scheduled_for_a_ticket_that_pended_meanwhile() -> None:
    desk = Desk()
    trigger_id = desk.trigger(name="Chase", then={"tags_add": ["chase"]}, **pending_for(2))
    desk.rules.change_trigger(TENANT, UUID(trigger_id), lambda t: t.disable("night", "admin-1"), None)
    ticket_id = desk.open()
    pend(desk, ticket_id)
    assert automation(desk, ticket_id).timers == {}  # off when the facts changed
    desk.rules.change_trigger(TENANT, UUID(trigger_id), lambda t: t.enable("admin-1"), None)
    assert trigger_id in automation(desk, ticket_id).timers
