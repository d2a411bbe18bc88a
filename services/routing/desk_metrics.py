"""Routing's business series on `/metrics`: decisions as they are published, and each group's
queue and each agent's load and capacity read from the load view at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from schemas.envelope import Envelope
from services.routing.projections import LoadProjection


def count_decisions(registry: CollectorRegistry) -> Callable[[Envelope], None]:
    """The relay's `on_published`: one count per published decision, by tenant and kind."""
    decisions = Counter(
        "servicedesk_routing_decisions", "Routing decisions published.", ["tenant", "kind"], registry=registry
    )

    def published(envelope: Envelope) -> None:
        if envelope.type == "routing.decided":
            decisions.labels(envelope.tenant, str(envelope.data.get("kind", "unknown"))).inc()

    return published


class LoadGauges(Collector):
    def __init__(self, load: LoadProjection) -> None:
        self.load = load

    def collect(self) -> Iterator[GaugeMetricFamily]:
        waiting = GaugeMetricFamily(
            "servicedesk_routing_queue_waiting", "Tickets waiting in a group's queue.", labels=["tenant", "group"]
        )
        load = GaugeMetricFamily("servicedesk_agent_load", "Open tickets an agent holds.", labels=["tenant", "agent"])
        capacity = GaugeMetricFamily(
            "servicedesk_agent_capacity", "Most tickets an agent holds at once.", labels=["tenant", "agent"]
        )
        for row in self.load.all_queues():
            waiting.add_metric([row["tenant"], row["group_id"]], row["waiting"])
        for row in self.load.all_agents():
            load.add_metric([row["tenant"], row["agent_id"]], row["load"])
            capacity.add_metric([row["tenant"], row["agent_id"]], row["capacity"])
        yield from (waiting, load, capacity)
