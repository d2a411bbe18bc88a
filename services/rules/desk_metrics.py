"""What the rules service tells Prometheus: how many triggers fired, by tenant and the event that fired them
(not by trigger: a tenant's triggers come and go, and each label value is a series kept for good)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter

from schemas.envelope import Envelope


def count_firings(registry: CollectorRegistry) -> Callable[[Envelope], None]:
    """The relay's `on_published`: one count per published firing."""
    firings = Counter(
        "servicedesk_triggers_fired", "Trigger firings published.", ["tenant", "event"], registry=registry
    )

    def published(envelope: Envelope) -> None:
        if envelope.type == "rules.trigger_fired":
            firings.labels(envelope.tenant, str(envelope.data.get("event_type_seen", "unknown"))).inc()

    return published
