"""Routing's and SLA's stored events keep their topics: a store written before their modules were split still loads.

eventsourcing stores each event with its class's topic (`module:Aggregate.Event`) and imports that module to
load it; the lists below are the topics stored before the split, and every one must name the same class today.
"""

from __future__ import annotations

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.utils import get_topic, resolve_topic

from services.routing.domain import Agent, DeskSetup, Queue, TicketRouting
from services.sla.clock import Clock

STORED_TOPICS = {
    DeskSetup: [
        "services.routing.domain:DeskSetup.Created",
        "services.routing.domain:DeskSetup.DefaultGroupChanged",
        "services.routing.domain:DeskSetup.Event",
        "services.routing.domain:DeskSetup.GroupDefined",
        "services.routing.domain:DeskSetup.MembershipSet",
        "services.routing.domain:DeskSetup.RuleAdded",
        "services.routing.domain:DeskSetup.RuleChanged",
        "services.routing.domain:DeskSetup.RuleRetired",
        "services.routing.domain:DeskSetup.RulesReordered",
        "services.routing.domain:DeskSetup.Started",
    ],
    Queue: [
        "services.routing.domain:Queue.Created",
        "services.routing.domain:Queue.Event",
        "services.routing.domain:Queue.TicketLeft",
        "services.routing.domain:Queue.TicketQueued",
        "services.routing.domain:Queue.TicketReprioritised",
    ],
    Agent: [
        "services.routing.domain:Agent.Created",
        "services.routing.domain:Agent.Event",
        "services.routing.domain:Agent.PresenceChanged",
        "services.routing.domain:Agent.Registered",
        "services.routing.domain:Agent.TicketReleased",
        "services.routing.domain:Agent.TicketTaken",
        "services.routing.domain:Agent.Updated",
    ],
    TicketRouting: [
        "services.routing.domain:TicketRouting.AssignedByPerson",
        "services.routing.domain:TicketRouting.Created",
        "services.routing.domain:TicketRouting.Decided",
        "services.routing.domain:TicketRouting.Event",
        "services.routing.domain:TicketRouting.Finished",
        "services.routing.domain:TicketRouting.Reopened",
        "services.routing.domain:TicketRouting.Reprioritised",
        "services.routing.domain:TicketRouting.Started",
        "services.routing.domain:TicketRouting.WorkStarted",
    ],
    Clock: [
        "services.sla.clock:Clock.AssignmentFollowed",
        "services.sla.clock:Clock.Breached",
        "services.sla.clock:Clock.Created",
        "services.sla.clock:Clock.Event",
        "services.sla.clock:Clock.MetricChanged",
        "services.sla.clock:Clock.MetricMet",
        "services.sla.clock:Clock.MetricPaused",
        "services.sla.clock:Clock.MetricResumed",
        "services.sla.clock:Clock.MetricRetargeted",
        "services.sla.clock:Clock.MetricStarted",
        "services.sla.clock:Clock.MetricStopped",
        "services.sla.clock:Clock.PendingEnded",
        "services.sla.clock:Clock.PendingSet",
        "services.sla.clock:Clock.Reminded",
        "services.sla.clock:Clock.Retargeted",
        "services.sla.clock:Clock.Scheduled",
        "services.sla.clock:Clock.Started",
        "services.sla.clock:Clock.Unresponsive",
        "services.sla.clock:Clock.Warned",
    ],
}


def _event_classes(aggregate: type) -> list[type]:
    return [v for v in vars(aggregate).values() if isinstance(v, type) and issubclass(v, CanMutateAggregate)]


def test_every_event_of_routing_and_sla_keeps_the_topic_it_is_stored_under() -> None:
    for aggregate, stored in STORED_TOPICS.items():
        assert sorted(get_topic(cls) for cls in _event_classes(aggregate)) == stored, aggregate.__name__


def test_every_stored_topic_of_routing_and_sla_loads_its_event_class() -> None:
    for aggregate, stored in STORED_TOPICS.items():
        by_topic = {get_topic(cls): cls for cls in _event_classes(aggregate)}
        for topic in stored:
            assert resolve_topic(topic) is by_topic[topic]
