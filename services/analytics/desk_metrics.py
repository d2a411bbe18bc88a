"""The desk's business series on analytics' `/metrics`, for Prometheus and the Grafana dashboards.

Counters and histograms move as analytics applies each event for the first time (a
redelivered duplicate moves nothing); the open backlog is read from the projection
at scrape time, so it is right after a restart too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from eventsourcing.persistence import Tracking
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from schemas.envelope import Envelope, EventData
from schemas.knowledge import ArticleRatedV1, ArticleViewedV1, SelfServiceEndedV1
from schemas.sla import SlaBreachedV1, SlaMetV1, SlaWarningV1
from schemas.tickets import TicketMacroAppliedV1, TicketOpenedV3, TicketStatusChangedV1
from services.analytics.projections import AnalyticsProjection
from services.chassis.messaging.batching import Apply, Delivery

# Business time, from minutes to weeks.
DURATION_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800)


class DeskMetrics:
    def __init__(self, registry: CollectorRegistry, backlog: AnalyticsProjection) -> None:
        self.backlog = backlog
        self.opened = Counter(
            "servicedesk_tickets_opened", "Tickets opened.", ["tenant", "priority", "channel"], registry=registry
        )
        self.resolved = Counter(
            "servicedesk_tickets_resolved", "Tickets resolved.", ["tenant", "priority"], registry=registry
        )
        self.first_response = Histogram(
            "servicedesk_first_response_seconds",
            "Business time to the first response, as the SLA clocks count it.",
            ["tenant"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.resolution = Histogram(
            "servicedesk_resolution_seconds",
            "Business time to resolve, as the SLA clocks count it.",
            ["tenant"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.breaches = Counter(
            "servicedesk_sla_breaches", "SLA targets breached.", ["tenant", "metric"], registry=registry
        )
        self.warnings = Counter("servicedesk_sla_warnings", "SLA warnings.", ["tenant", "metric"], registry=registry)
        self.met = Counter(
            "servicedesk_sla_met",
            "SLA targets met (`breached`: after burning).",
            ["tenant", "metric", "breached"],
            registry=registry,
        )
        self.article_views = Counter(
            "servicedesk_article_views", "Knowledge base articles read.", ["tenant", "channel"], registry=registry
        )
        self.article_ratings = Counter(
            "servicedesk_article_ratings",
            'Answers to an article\'s "did this help?" (`helpful`: yes or no).',
            ["tenant", "helpful"],
            registry=registry,
        )
        self.self_service = Counter(
            "servicedesk_self_service_ended",
            "Self-service attempts ended: `solved` by an article, or `ticket_opened` anyway (the deflection rate).",
            ["tenant", "channel", "outcome"],
            registry=registry,
        )
        self.macros = Counter(
            "servicedesk_macros_applied",
            "Macros applied to tickets, per macro (`GET /v1/reports/macros` has them per agent too).",
            ["tenant", "macro_id"],
            registry=registry,
        )
        registry.register(_OpenBacklog(backlog))
        registry.register(_TimeThisMonth(backlog))

    def observing(self, apply: Apply) -> Apply:
        """`apply`, then the series of what it applied (nothing for a duplicate)."""

        def observed(envelope: Envelope, data: EventData, tracking: Tracking) -> None:
            apply(envelope, data, tracking)  # raises IntegrityError on a duplicate: nothing to count
            self.observe(envelope, data)

        return observed

    def observing_many(self, apply_many: Callable[[Sequence[Delivery]], None]) -> Callable[[Sequence[Delivery]], None]:
        """`apply_many`, then the series of each event it applied."""

        def observed(deliveries: Sequence[Delivery]) -> None:
            apply_many(deliveries)
            for envelope, data, _ in deliveries:
                self.observe(envelope, data)

        return observed

    def observe(self, envelope: Envelope, data: EventData) -> None:
        tenant = envelope.tenant
        match data:
            case TicketOpenedV3():
                self.opened.labels(tenant, data.priority.value, data.channel.value).inc()
            case TicketStatusChangedV1(status="resolved"):
                self.resolved.labels(tenant, self.backlog.priority_of(tenant, data.ticket_id)).inc()
            case SlaMetV1():
                self.met.labels(tenant, data.metric.value, str(data.breached).lower()).inc()
                if data.metric.value == "first_response":
                    self.first_response.labels(tenant).observe(data.business_seconds_used)
                elif data.metric.value == "resolution":
                    self.resolution.labels(tenant).observe(data.business_seconds_used)
            case SlaWarningV1():
                self.warnings.labels(tenant, data.metric.value).inc()
            case SlaBreachedV1():
                self.breaches.labels(tenant, data.metric.value).inc()
            case ArticleViewedV1():
                self.article_views.labels(tenant, data.channel.value).inc()
            case ArticleRatedV1():
                self.article_ratings.labels(tenant, str(data.helpful).lower()).inc()
            case SelfServiceEndedV1():
                self.self_service.labels(tenant, data.channel.value, data.outcome.value).inc()
            case TicketMacroAppliedV1():
                self.macros.labels(tenant, data.macro_id).inc()
            case _:
                pass


class _OpenBacklog(Collector):
    def __init__(self, backlog: AnalyticsProjection) -> None:
        self.backlog = backlog

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "servicedesk_tickets_open",
            "Open tickets (new, open, pending) now.",
            labels=["tenant", "status", "priority"],
        )
        for row in self.backlog.open_counts():
            family.add_metric([row["tenant"], row["status"], row["priority"]], row["n"])
        yield family


class _TimeThisMonth(Collector):
    """Minutes worked on days of the current month (UTC), read from the projection at scrape time: an entry
    corrected by a later one counts as corrected, which a counter could not say."""

    def __init__(self, backlog: AnalyticsProjection) -> None:
        self.backlog = backlog

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "servicedesk_time_worked_minutes",
            "Minutes logged on tickets for days of the current month (UTC), as corrected.",
            labels=["tenant", "activity", "billable"],
        )
        for row in self.backlog.time_this_month():
            family.add_metric([row["tenant"], row["activity"], "true" if row["billable"] else "false"], row["minutes"])
        yield family
