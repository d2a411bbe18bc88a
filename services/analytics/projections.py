"""The analytics read model: a row per ticket, a row per cycle of an SLA target, a row per
resolution or reopening, fed by upstream events, each batch applied with its tracking rows.

Handlers change rows of a `RowBatch` (services/chassis/storage/rows.py): a live event is a batch of
one, a rebuild's page a batch of a thousand, and both write the same rows. Every row
belongs to one ticket, so reports filter and group by any of its columns (group, agent,
channel, priority) at read time, and no two consumers ever increment one counter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache, singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking, TrackingRecorder

from schemas.envelope import EnvelopeContext, EventData
from schemas.knowledge import (
    ArticleArchivedV1,
    ArticleDraftedV1,
    ArticlePublishedV1,
    ArticleRatedV1,
    ArticleRevisedV1,
    ArticleState,
    ArticleViewedV1,
    SelfServiceEndedV1,
)
from schemas.sla import SlaBreachedV1, SlaClockData, SlaMetV1, SlaResumedV1, SlaStartedV1
from schemas.tickets import (
    TicketAssignedV1,
    TicketMacroAppliedV1,
    TicketMergedV1,
    TicketOpenedV1,
    TicketPriorityChangedV1,
    TicketRatedV1,
    TicketReclassifiedV1,
    TicketStatusChangedV1,
    TicketSurveyRequestedV1,
    TicketTimeLoggedV1,
)
from services.analytics.report_tables import (
    KB_ARTICLES,
    KB_READS,
    KB_SELF_SERVICE,
    MACRO_USES,
    OUTCOMES,
    SCHEMA,
    TABLES,
    TARGETS,
    TICKETS,
    TIME_ENTRIES,
)
from services.chassis.storage.rows import Row, RowBatch, Table
from services.chassis.storage.views import SqlView

VERSION = 4  # 2: a row per ticket and per outcome, replacing daily counters; 3: when a target started, breached,
# met; 4: a row per cycle of a target, so a target met or breached stays so when it counts again. The knowledge
# base's tables (articles, reads and ratings, self-service attempts) are new tables of one new topic, which the
# consumer reads from its beginning: they need no rebuild of the rest. Likewise the macros' uses: a new table of an
# event that did not exist before it (`ticket.macro_applied`), and the time entries (`ticket.time_logged`).

Applied = tuple[EnvelopeContext, EventData, Tracking]


class AnalyticsProjection:
    """Every ticket of every tenant as analytics sees it now, with its SLA targets and outcomes.

    Events about a ticket analytics never saw opened change nothing (intake's topic keeps a
    ticket's events in order, so its `ticket.opened` always comes first); SLA targets may
    arrive before the ticket (another topic) and are joined at read time.
    """

    def __init__(self, recorder: TrackingRecorder) -> None:
        self.view = SqlView(recorder, SCHEMA, name="analytics", version=VERSION)

    def apply(self, envelope: EnvelopeContext, data: EventData, tracking: Tracking) -> None:
        self.apply_many([(envelope, data, tracking)])

    def apply_many(self, batch: Sequence[Applied]) -> None:
        """A batch of events in one transaction: the same rows as applying them one by one."""
        with self.view.transaction(*(tracking for _, _, tracking in batch)) as sql:
            rows = RowBatch(sql)
            tickets: list[tuple[str, str]] = []
            clocks: list[tuple[str, str]] = []
            for envelope, data, _ in batch:
                if (ticket_id := getattr(data, "ticket_id", None)) is not None:
                    (clocks if isinstance(data, SlaClockData) else tickets).append((envelope.tenant, ticket_id))
            rows.load(TICKETS, tickets)
            rows.load(TARGETS, clocks)
            for envelope, data, _ in batch:
                _handler(type(data))(self, data, envelope, rows)
            rows.flush()

    @singledispatchmethod
    def _apply(self, data: EventData, envelope: EnvelopeContext, rows: RowBatch) -> None:
        """Events this projection does not read still record their tracking row."""

    @_apply.register
    def _(self, data: TicketOpenedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        rows.put(TICKETS, {
            "tenant": envelope.tenant, "ticket_id": data.ticket_id, "number": data.number, "status": "new",
            "priority": data.priority.value, "category": data.category, "channel": data.channel.value,
            "type": data.type.value, "opened_at": _instant(envelope),
            "group_id": None, "agent_id": None, "survey_on": None, "score": None, "rated_on": None,
        })  # fmt: skip

    @_apply.register
    def _(self, data: TicketStatusChangedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        if ticket := rows.get(TICKETS, tenant=envelope.tenant, ticket_id=data.ticket_id):
            rows.update(TICKETS, ticket, status=data.status)
            kind = "resolved" if data.status == "resolved" else "reopened" if data.change == "reopened" else None
            if kind:
                rows.put(OUTCOMES, {
                    "tenant": envelope.tenant, "ticket_id": data.ticket_id, "position": envelope.position,
                    "kind": kind, "group_id": ticket["group_id"], "agent_id": ticket["agent_id"],
                    "at": _instant(envelope),
                })  # fmt: skip

    @_apply.register
    def _(self, data: TicketAssignedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        self._change(rows, envelope, data.ticket_id, group_id=data.group_id, agent_id=data.agent_id)

    @_apply.register
    def _(self, data: TicketMergedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        self._change(rows, envelope, data.ticket_id, status="closed")

    @_apply.register
    def _(self, data: TicketPriorityChangedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        self._change(rows, envelope, data.ticket_id, priority=data.priority.value)

    @_apply.register
    def _(self, data: TicketReclassifiedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        changes = {"category": data.category, "type": data.type.value if data.type else None}
        self._change(rows, envelope, data.ticket_id, **{k: v for k, v in changes.items() if v is not None})

    @_apply.register
    def _(self, data: TicketSurveyRequestedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        # After a reopen and a new resolve a new survey goes out; a rating already given stays.
        self._change(rows, envelope, data.ticket_id, survey_on=_day(envelope))

    @_apply.register
    def _(self, data: TicketRatedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        ticket = rows.get(TICKETS, tenant=envelope.tenant, ticket_id=data.ticket_id)
        if ticket and ticket["survey_on"] is not None:
            rows.update(TICKETS, ticket, score=data.score, rated_on=_day(envelope))

    @_apply.register
    def _(self, data: SlaStartedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        """A target started, or was re-targeted while it counts: a re-target changes the numbers of the
        running cycle, whose start and breach stay. A start after the metric was met (the customer wrote
        again) is a new cycle: the met one stays as it was decided, in the reports of its days."""
        latest = _latest(rows, envelope.tenant, data)
        if latest is not None and latest["state"] == "running":
            rows.update(
                TARGETS,
                latest,
                policy_id=data.policy_id,
                target_seconds=data.target_seconds,
                used_seconds=data.business_seconds_used,
            )
            return
        rows.put(TARGETS, _cycle(envelope, data, latest, started_at=_instant(envelope), breached_on=None))

    @_apply.register
    def _(self, data: SlaResumedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        """A met target counts again (a reopened ticket's resolution, on from the business time it had
        used): a new cycle, from the target's first start, and the met one stays. A target that had
        burned is burned again at once, a breach of the day it reopened. A paused target resuming
        changes nothing here (the row of a running target does not tell paused from counting)."""
        latest = _latest(rows, envelope.tenant, data)
        if latest is not None and latest["state"] == "met":
            burned = _day(envelope) if latest["breached"] else None
            rows.put(TARGETS, _cycle(envelope, data, latest, started_at=latest["started_at"], breached_on=burned))

    @_apply.register
    def _(self, data: SlaBreachedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        """Counted the day it burned (the envelope's instant is the breach's), answered or not."""
        latest = _latest(rows, envelope.tenant, data)
        if latest is not None and latest["state"] == "running":
            rows.update(TARGETS, latest, breached=1, breached_on=latest["breached_on"] or _day(envelope))

    @_apply.register
    def _(self, data: SlaMetV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        latest = _latest(rows, envelope.tenant, data)
        if latest is not None and latest["state"] == "running":
            late = bool(data.breached or latest["breached"])
            rows.update(
                TARGETS,
                latest,
                state="met",
                used_seconds=data.business_seconds_used,
                met_on=_day(envelope),
                met_at=_instant(envelope),
                breached=1 if late else 0,
                breached_on=latest["breached_on"] or (_day(envelope) if late else None),
            )

    @_apply.register
    def _(self, data: TicketMacroAppliedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        """A use of a macro, credited to whoever applied it (the envelope's actor), of a ticket seen or not."""
        rows.put(MACRO_USES, {
            "tenant": envelope.tenant, "position": envelope.position, "macro_id": data.macro_id,
            "macro_version": data.macro_version, "ticket_id": data.ticket_id, "agent_id": envelope.actor,
            "day": _day(envelope),
        })  # fmt: skip

    @_apply.register
    def _(self, data: TicketTimeLoggedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        """An entry, credited to the requester, organisation and group of the ticket when it was logged (of a
        ticket seen or not); the entry it corrects no longer counts."""
        key = {"tenant": envelope.tenant, "ticket_id": data.ticket_id, "entry_id": data.corrects}
        corrected = rows.get(TIME_ENTRIES, **key) if data.corrects is not None else None
        rows.put(TIME_ENTRIES, {
            "tenant": envelope.tenant, "ticket_id": data.ticket_id, "entry_id": data.entry_id,
            "requester_id": data.requester_id, "organisation": data.organisation, "group_id": data.group_id,
            "agent_id": data.agent_id, "activity": data.activity, "billable": 1 if data.billable else 0,
            "minutes": data.minutes, "worked_on": data.worked_on.isoformat(), "corrects": data.corrects,
            "corrected_by": None,
        })  # fmt: skip
        if corrected is not None:
            rows.update(TIME_ENTRIES, corrected, corrected_by=data.entry_id)

    def _article(self, data: ArticleState, envelope: EnvelopeContext, rows: RowBatch) -> None:
        """Every article event carries the article as it is after it: its row is replaced."""
        rows.put(KB_ARTICLES, {
            "tenant": envelope.tenant, "article_id": data.article_id, "title": data.title,
            "language": data.language, "status": data.status,
        })  # fmt: skip

    @_apply.register
    def _(self, data: ArticleDraftedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        self._article(data, envelope, rows)

    @_apply.register
    def _(self, data: ArticleRevisedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        self._article(data, envelope, rows)

    @_apply.register
    def _(self, data: ArticlePublishedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        self._article(data, envelope, rows)

    @_apply.register
    def _(self, data: ArticleArchivedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        self._article(data, envelope, rows)

    @_apply.register
    def _(self, data: ArticleViewedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        rows.put(KB_READS, {
            "tenant": envelope.tenant, "article_id": data.article_id, "position": envelope.position,
            "kind": "viewed", "channel": data.channel.value, "day": _day(envelope),
        })  # fmt: skip

    @_apply.register
    def _(self, data: ArticleRatedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        rows.put(KB_READS, {
            "tenant": envelope.tenant, "article_id": data.article_id, "position": envelope.position,
            "kind": "helpful" if data.helpful else "unhelpful", "channel": data.channel.value, "day": _day(envelope),
        })  # fmt: skip

    @_apply.register
    def _(self, data: SelfServiceEndedV1, envelope: EnvelopeContext, rows: RowBatch) -> None:
        rows.put(KB_SELF_SERVICE, {
            "tenant": envelope.tenant, "position": envelope.position, "channel": data.channel.value,
            "article_id": data.article_id, "outcome": data.outcome.value, "day": _day(envelope),
        })  # fmt: skip

    @staticmethod
    def _change(rows: RowBatch, envelope: EnvelopeContext, ticket_id: str, **columns: Any) -> None:
        if ticket := rows.get(TICKETS, tenant=envelope.tenant, ticket_id=ticket_id):
            rows.update(TICKETS, ticket, **columns)

    def open_counts(self) -> list[dict[str, Any]]:
        """Open tickets by tenant, status and priority (for the `servicedesk_tickets_open` gauge)."""
        return self.view.query(
            "SELECT tenant, status, priority, COUNT(*) AS n FROM analytics_tickets"
            " WHERE status IN ('new', 'open', 'pending') GROUP BY tenant, status, priority"
        )

    def time_this_month(self) -> list[dict[str, Any]]:
        """Minutes worked on days of the current month (UTC) by tenant, activity and billable, as corrected
        (for the `servicedesk_time_worked_minutes` gauge)."""
        return self.view.query(
            "SELECT tenant, activity, billable, SUM(minutes) AS minutes FROM analytics_time_entries"
            " WHERE corrected_by IS NULL AND worked_on >= :first GROUP BY tenant, activity, billable",
            {"first": datetime.now(UTC).date().replace(day=1).isoformat()},
        )

    def priority_of(self, tenant: str, ticket_id: str) -> str:
        rows = self.view.query(
            "SELECT priority FROM analytics_tickets WHERE tenant = :tenant AND ticket_id = :ticket_id",
            {"tenant": tenant, "ticket_id": ticket_id},
        )
        return str(rows[0]["priority"]) if rows else "unknown"

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table in a stable order: what a rebuild must reproduce."""
        return {_short(table): self.view.query(_in_key_order(table)) for table in TABLES}

    def fingerprint(self) -> dict[str, tuple[int, str]]:
        """Every table's row count and a digest of its rows in key order: equal exactly when `rows()`
        is (but for a digest collision), read a chunk at a time, so a rebuild of a large desk compares
        its tables without holding them in memory twice."""
        prints = {}
        for table in TABLES:
            digest, count = hashlib.blake2b(digest_size=16), 0
            for chunk in self.view.stream(_in_key_order(table)):
                count += len(chunk)
                digest.update(repr([tuple(row.values()) for row in chunk]).encode())
            prints[_short(table)] = (count, digest.hexdigest())
        return prints

    def applied_count(self, source: str) -> int:
        table = self.view.tracking_table
        rows = self.view.query(f"SELECT COUNT(*) AS n FROM {table} WHERE application_name = :s", {"s": source})
        return int(rows[0]["n"])

    def analyze(self) -> None:
        """Refresh the planner's statistics of the tables: while a rebuild fills them, stale ones make
        PostgreSQL pick a tenant-wide index over the primary key for a batch's lookups."""
        with self.view.transaction() as sql:
            for table in TABLES:
                sql.execute(f"ANALYZE {table.name}")

    def drop(self) -> None:
        """Forget every row and every tracking row (the analytics store holds this projection only):
        the start of a rebuild."""
        names = [table.name for table in TABLES] + [self.view.tracking_table]
        with self.view.transaction() as sql:
            if sql.postgres:  # DELETE would leave every dead row in the heap and indexes the rebuild then fills
                sql.execute(f"TRUNCATE {', '.join(names)}")
            else:  # SQLite empties a table deleted without WHERE at once
                for name in names:
                    sql.execute(f"DELETE FROM {name}")


def _latest(rows: RowBatch, tenant: str, data: SlaClockData | SlaBreachedV1) -> Row | None:
    """The metric's latest cycle, if any. Cycles count 1, 2, ... and a ticket has few of them."""
    latest, cycle = None, 1
    while (
        row := rows.get(TARGETS, tenant=tenant, ticket_id=data.ticket_id, metric=data.metric.value, cycle=cycle)
    ) is not None:
        latest, cycle = row, cycle + 1
    return latest


def _cycle(
    envelope: EnvelopeContext, data: SlaClockData, latest: Row | None, started_at: str, breached_on: str | None
) -> Row:
    """The row of a metric's next cycle, counting."""
    return {
        "tenant": envelope.tenant, "ticket_id": data.ticket_id, "metric": data.metric.value,
        "cycle": latest["cycle"] + 1 if latest else 1, "policy_id": data.policy_id,
        "target_seconds": data.target_seconds, "used_seconds": data.business_seconds_used, "state": "running",
        "breached": 1 if breached_on else 0, "met_on": None, "started_at": started_at, "met_at": None,
        "breached_on": breached_on,
    }  # fmt: skip


@cache
def _handler(kind: type[EventData]) -> Callable[[AnalyticsProjection, Any, EnvelopeContext, RowBatch], None]:
    """The `_apply` handler of an event class, looked up once (singledispatchmethod's own dispatch
    costs a wrapper and a weak-keyed lookup per call, a rebuild's hottest line)."""
    handler: Callable[[AnalyticsProjection, Any, EnvelopeContext, RowBatch], None]
    handler = AnalyticsProjection.__dict__["_apply"].dispatcher.dispatch(kind)
    return handler


def _in_key_order(table: Table) -> str:
    return f"SELECT * FROM {table.name} ORDER BY {', '.join(table.key)}"


def _short(table: Table) -> str:
    return table.name.removeprefix("analytics_")


def _instant(envelope: EnvelopeContext) -> str:
    """UTC, ISO 8601: compared as text, sorts as time; its first 10 or 13 characters are the day or hour."""
    return envelope.occurred_at.astimezone(UTC).isoformat()


def _day(envelope: EnvelopeContext) -> str:
    return _instant(envelope)[:10]
