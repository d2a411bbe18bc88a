"""What must hold of a desk after faults, read from its stores, its topics and its peers: shared by
the fault tests and bench/faults.py.

The checks that a test asserts whole (`never_over_capacity`) raise AssertionError; the others return
the failures they found, as sentences, so that the bench counts them and a test asserts none."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from schemas.registry import TypedEnvelope
from schemas.topics import ROUTING_DECISIONS, SLA_CLOCKS, TICKETS
from services.analytics.projections import AnalyticsProjection
from services.analytics.rebuild import from_feeds, rebuild
from services.analytics.report_tables import TABLES
from services.chassis.http.feed import read_pages
from services.chassis.messaging.topic_history import TopicHistory
from services.chassis.runtime.settings import Settings
from services.chassis.storage.store import store_env, tracking_recorder
from services.intake.channels import mail_threads
from services.routing.application import Routing
from services.routing.domain import Agent
from services.routing.projections import LoadProjection
from tests.channel_peers import DOMAIN, Receiver, Sink
from tests.privacy import desk_intake
from tests.tokens import service_token

# What each command a client may send records on the ticket's stream, by the event's class name.
RECORDED = {"open": "Opened", "comment": "CommentAdded", "start-work": "WorkStarted", "resolve": "Resolved"}


class Stores:
    """Intake's and routing's stores, read in-process to check what the services did."""

    def __init__(self, settings: Settings, tenant: str = "acme") -> None:
        self.tenant = tenant
        self.intake = desk_intake(settings)
        self.routing = Routing(env=store_env(settings, Routing.name))
        self.load = LoadProjection(tracking_recorder(settings, Routing.name))

    def tickets(self, ids: list[str]) -> dict[str, Any]:
        return {t: self.intake.get_ticket(UUID(t), self.tenant) for t in ids}

    @staticmethod
    def events(app: Application[UUID], stream: str | UUID) -> list[Any]:
        """One stream's events, untyped: the checks read their fields by name."""
        return list(app.events.get(UUID(str(stream))))

    def undecided(self, ids: list[str]) -> list[str]:
        """Tickets intake has not yet put in a group by routing's decision."""
        return [t for t, ticket in self.tickets(ids).items() if ticket.group_id is None]

    def agents(self) -> list[Agent]:
        return self.routing.agents(self.tenant)

    def close(self) -> None:
        self.intake.close()
        self.routing.close()


def never_over_capacity(stores: Stores) -> None:
    """No agent above capacity at any moment: replay each agent's own stream."""
    for agent in stores.agents():
        holding: set[str] = set()
        for event in stores.events(stores.routing, agent.id):
            name = type(event).__name__
            if name == "TicketTaken":
                holding.add(event.ticket_id)
                assert len(holding) <= agent.capacity, f"{agent.agent_id} held {len(holding)} > {agent.capacity}"
            elif name == "TicketReleased":
                holding.discard(event.ticket_id)


def assignments_by_routing(stores: Stores, ticket_id: str) -> tuple[list[Any], list[Any]]:
    """The ticket's `Assigned` events on intake's stream that name an agent, and routing's `Decided` ones."""
    assigned = [e for e in stores.events(stores.intake, ticket_id) if type(e).__name__ == "Assigned"]
    decided = [e for e in stores.events(stores.routing, ticket_id) if type(e).__name__ == "Decided"]
    return [e for e in assigned if e.agent_id is not None], [e for e in decided if e.agent_id is not None]


def assigned_more_than_once(stores: Stores, ticket_ids: Iterable[str]) -> list[str]:
    """Tickets given to an agent more than once, on intake's stream or by routing's decisions."""
    failures = []
    for ticket_id in ticket_ids:
        assigned, decided = assignments_by_routing(stores, ticket_id)
        if len(assigned) > 1 or len(decided) > 1:
            failures.append(f"{ticket_id} assigned {len(assigned)}x, decided {len(decided)}x")
    return failures


def unrecorded_commands(stores: Stores, acknowledged: Iterable[tuple[str, str]]) -> list[str]:
    """Acknowledged commands, (ticket id, command of RECORDED), whose events the ticket's stream lacks:
    a ticket with n commands of a kind acknowledged holds at least n events of its kind."""
    wanted: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for ticket_id, command in acknowledged:
        wanted[ticket_id][RECORDED[command]] += 1
    failures = []
    for ticket_id, kinds in wanted.items():
        held = Counter(type(e).__name__ for e in stores.events(stores.intake, ticket_id))
        failures += [f"{ticket_id}: {n} {kind} acknowledged, {held[kind]} recorded" for kind, n in kinds.items()
                     if held[kind] < n]  # fmt: skip
    return failures


def mails_by_ticket(sink: Sink, ticket_ids: Iterable[str]) -> dict[str, list[str]]:
    """The Message-IDs of the mails the sink caught, by the ticket whose thread each belongs to."""
    found: dict[str, list[str]] = {ticket_id: [] for ticket_id in ticket_ids}
    for mail in list(sink.messages):
        for ticket_id in mail_threads.tickets_in(mail["Message-ID"], DOMAIN):
            if str(ticket_id) in found:
                found[str(ticket_id)].append(mail["Message-ID"])
    return found


def mailed_twice(mails: Mapping[str, list[str]]) -> list[str]:
    """A notification is mailed once: no Message-ID caught twice."""
    return [f"{ticket_id}: {mail} mailed {n}x" for ticket_id, ids in mails.items()
            for mail, n in Counter(ids).items() if n > 1]  # fmt: skip


def webhooks_undelivered(receiver: Receiver, event_ids: Iterable[str]) -> list[str]:
    """Every event delivered, and a delivery seen twice only under the same webhook-id (same payload)."""
    by_id: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for payload in list(receiver.received):
        by_id[payload["_webhook_id"]].append(payload)
    failures = [f"event {event_id} never delivered" for event_id in event_ids if event_id not in by_id]
    failures += [f"webhook-id {webhook_id} delivered with {len(payloads)} different payloads"
                 for webhook_id, payloads in by_id.items()
                 if any(payload != payloads[0] for payload in payloads)]  # fmt: skip
    return failures


def analytics_of(settings: Settings) -> AnalyticsProjection:
    return AnalyticsProjection(tracking_recorder(settings, "analytics"))


def analytics_rebuilt_differs(settings: Settings, feeds: Mapping[str, str]) -> list[str]:
    """Analytics' projection, rebuilt from the services' feeds, equals the live one (its consumer stopped).

    The rebuild replays the events the live projection applied, each feed's in its order: the SLA
    scheduler goes on recording warnings and breaches after the load stops, and those the consumer did
    not reach before it stopped changed a rebuild from the whole feeds (a target cycle breached there,
    counting live). `positions_skipped` checks that the consumer skipped none."""
    projection = analytics_of(settings)
    live = projection.rows()
    applied = applied_positions(projection)
    sources = {
        source: only_applied(pages, applied.get(source, set()))
        for source, pages in from_feeds(feeds, service_token).items()
    }
    rebuilt = rebuild(projection, sources, progress=None)
    if rebuilt.equals_live:
        return []
    return [f"analytics rebuilt from {rebuilt.events} events differs: {difference}"
            for difference in rows_differ(live, projection.rows())]  # fmt: skip


def applied_positions(projection: AnalyticsProjection) -> dict[str, set[int]]:
    """The store positions of every source the projection tracks as applied."""
    table = projection.view.tracking_table
    found: defaultdict[str, set[int]] = defaultdict(set)
    for row in projection.view.query(f"SELECT application_name, notification_id FROM {table}"):
        found[row["application_name"]].add(int(row["notification_id"]))
    return found


def only_applied(pages: Iterable[list[TypedEnvelope]], positions: set[int]) -> Iterator[list[TypedEnvelope]]:
    for page in pages:
        yield [envelope for envelope in page if envelope.position in positions]


def rows_differ(live: Mapping[str, list[dict[str, Any]]], rebuilt: Mapping[str, list[dict[str, Any]]]) -> list[str]:
    """Each table's rows only one side has, and the columns of a row (by its whole key) the two sides
    hold differently, as (live, rebuilt): what a rebuild that differs differs in, at most ten a table."""
    found = []
    for table, rows in live.items():
        mine, theirs = rows, rebuilt.get(table, [])
        key_columns = KEYS[table]
        by_key = {tuple(row[c] for c in key_columns): row for row in theirs}
        seen: set[tuple[Any, ...]] = set()
        differing = []
        for row in mine:
            key = tuple(row[c] for c in key_columns)
            seen.add(key)
            other = by_key.get(key)
            if other is None:
                differing.append(f"{key} only live")
            elif other != row:
                columns = {c: (row[c], other[c]) for c in row if row[c] != other[c]}
                differing.append(f"{key} {columns}")
        differing += [f"{key} only rebuilt" for key in by_key if key not in seen]
        if differing:
            found.append(f"{table} ({len(differing)} rows): {'; '.join(differing[:10])}")
    return found


KEYS = {table.name.removeprefix("analytics_"): table.key for table in TABLES}  # as `rows()` names them
SOURCE_TOPICS = {"intake": TICKETS, "routing": ROUTING_DECISIONS, "sla": SLA_CLOCKS}


def positions_skipped(
    settings: Settings, feeds: Mapping[str, str], analytics_reads: Iterable[str],
    after: Mapping[str, int] | None = None, since: datetime | None = None,
) -> list[str]:  # fmt: skip
    """No store position skipped: every public event of each service's feed (`feeds`: service -> URL) is on
    its topic (its relay skipped none), and analytics' consumer tracks every one of the sources it reads
    (`analytics_reads`: it skipped none). With `after` (service -> store position) and `since` (before the
    first of those was published), only the events after those positions."""
    failures = []
    view = analytics_of(settings).view
    for source, url in feeds.items():
        start = (after or {}).get(source, 0)
        in_feed = {e.position for page in read_pages(url, service_token, after=start) for e in page}
        topic = settings.kafka_name(SOURCE_TOPICS[source])
        history = TopicHistory(settings.kafka_bootstrap_servers, [topic], since=since)
        on_topic = {e.position for page in history.pages() for e in page}
        if missing := sorted(in_feed - on_topic):
            failures.append(f"{source}'s relay skipped positions {missing[:10]} ({len(missing)})")
        if source in analytics_reads:
            rows = view.query(f"SELECT notification_id FROM {view.tracking_table}"
                              " WHERE application_name = :s AND notification_id > :after",
                              {"s": source, "after": start})  # fmt: skip
            if missing := sorted(in_feed - {int(row["notification_id"]) for row in rows}):
                failures.append(f"analytics skipped {source}'s positions {missing[:10]} ({len(missing)})")
    return failures


def load_view_and_aggregates(stores: Stores) -> tuple[dict[str, tuple[str, int, int]], dict[str, tuple[str, int, int]]]:
    """Routing's agent-load view and the same figures from the agents' aggregates: (presence, load, assigned)."""
    view = {r["agent_id"]: (r["presence"], r["load"], r["assigned_total"]) for r in stores.load.agents(stores.tenant)}
    return view, {a.agent_id: (a.presence, len(a.tickets), a.assignments) for a in stores.agents()}
