"""What the inbound channels count: messages landed (opened, commented, repeated) and refused, by reason."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from services.intake.channels.landing import Landed


class ChannelCounters:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Counter(
            "servicedesk_channel_messages",
            "Inbound channel messages by channel and outcome: opened, commented, repeated, refused.",
            ["channel", "outcome", "reason"],
            registry=registry,
        )

    def landed(self, channel: str, landed: Landed) -> None:
        self.messages.labels(channel, landed.outcome, "").inc()

    def refused(self, channel: str, reason: str) -> None:
        self.messages.labels(channel, "refused", reason).inc()
