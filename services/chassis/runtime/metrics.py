"""Prometheus metrics of the shared plumbing, in one registry per process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.relay_position = Gauge(
            "servicedesk_relay_position",
            "Last store position published to Kafka.",
            ["store"],
            registry=registry,
        )
        self.relay_lag = Gauge(
            "servicedesk_relay_lag_events",
            "Store positions not yet published to Kafka.",
            ["store"],
            registry=registry,
        )
        self.relay_published = Counter(
            "servicedesk_relay_published",
            "Events published to Kafka.",
            ["store", "topic"],
            registry=registry,
        )
        self.relay_errors = Counter(
            "servicedesk_relay_errors",
            "Relay batches that failed and were retried.",
            ["store"],
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "servicedesk_consumer_lag_messages",
            "Messages on a partition not yet consumed.",
            ["group", "topic", "partition"],
            registry=registry,
        )
        self.consumer_outcomes = Counter(
            "servicedesk_consumer_messages",
            "Consumed messages by outcome: applied, duplicate, dead_lettered, retried.",
            ["group", "topic", "outcome"],
            registry=registry,
        )
        self.http_duration = Histogram(
            "servicedesk_http_request_duration_seconds",
            "HTTP requests by route template and status, from arrival to the response's start.",
            ["method", "route", "status"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=registry,
        )
        self.store_position = Gauge(
            "servicedesk_event_store_position",
            "Newest notification id (position) in the service's event store.",
            ["store"],
            registry=registry,
        )
        self.service = service

    def render(self) -> bytes:
        return generate_latest(self.registry)
