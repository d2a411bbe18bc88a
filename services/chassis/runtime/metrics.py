"""Prometheus metrics of the shared plumbing, in one registry per process."""

from __future__ import annotations

from functools import partial

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        gauge, counter = partial(Gauge, registry=self.registry), partial(Counter, registry=self.registry)
        self.relay_position = gauge("servicedesk_relay_position", "Last store position published to Kafka.", ["store"])
        self.relay_lag = gauge("servicedesk_relay_lag_events", "Store positions not yet published to Kafka.", ["store"])
        self.relay_published = counter("servicedesk_relay_published", "Events published to Kafka.", ["store", "topic"])
        self.relay_errors = counter(
            "servicedesk_relay_errors", "Relay batches that failed and were retried.", ["store"]
        )
        self.consumer_lag = gauge(
            "servicedesk_consumer_lag_messages", "Messages on a partition not yet consumed.",
            ["group", "topic", "partition"],
        )  # fmt: skip
        self.consumer_assignments = counter(
            "servicedesk_consumer_assignments",
            "Partition assignments the member received: one as it joins its group, one more at each rebalance.",
            ["group"],
        )
        self.consumer_outcomes = counter(
            "servicedesk_consumer_messages",
            "Consumed messages by outcome: applied, duplicate, dead_lettered, retried.",
            ["group", "topic", "outcome"],
        )
        self.http_duration = Histogram(
            "servicedesk_http_request_duration_seconds",
            "HTTP requests by route template and status, from arrival to the response's start.",
            ["method", "route", "status"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
        self.store_position = gauge(
            "servicedesk_event_store_position", "Newest notification id (position) in the service's event store.",
            ["store"],
        )  # fmt: skip
        self.service = service

    def render(self) -> bytes:
        return generate_latest(self.registry)
