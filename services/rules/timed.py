"""The rules service's timers table and scheduler: each (ticket, timed trigger) with somewhere to be, fired on
its instant by the chassis' timer scheduler (services/chassis/storage/timers.py), as SLA's clocks are.

The table is a projection of the tickets' `Scheduled` and `TimerSpent` events (domain.py), one row per
(ticket, trigger), keyed `<ticket automation id>/<trigger id>`; `Rules.fire_timers` re-checks each on the
ticket itself, so a row that lags the ticket never fires early or twice.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from services.chassis.storage.timers import TimerScheduler, TimerTable
from services.rules.application import Rules

VIEW = "rules-timers-view"


def timer_key(automation_id: object, trigger_id: str) -> str:
    return f"{automation_id}/{trigger_id}"


class TriggerTimers(TimerTable):
    name = VIEW
    table = "rules_timers"
    key_column = "timer_key"
    schema = TimerTable.table_schema(table, key_column)

    def timer_of(self, event: Any) -> tuple[str, str, float | None] | None:
        kind = type(event).__qualname__
        if kind == "TicketAutomation.Scheduled":
            return timer_key(event.originator_id, event.trigger_id), str(event.tenant), event.due_epoch
        if kind == "TicketAutomation.TimerSpent":
            return timer_key(event.originator_id, event.trigger_id), str(event.tenant), None
        return None


def scheduler(rules: Rules, timers: TriggerTimers, registry: CollectorRegistry) -> TimerScheduler:
    Gauge(
        "servicedesk_rules_timers_scheduled",
        "Tickets' timed triggers waiting for their due instant.",
        registry=registry,
    ).set_function(timers.pending)
    return TimerScheduler(rules, timers, rules.fire_timers, "rules")
