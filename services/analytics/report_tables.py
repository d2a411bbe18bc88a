"""The analytics read model's tables: a row per ticket, per cycle of an SLA target, and per
resolution or reopening (projections.py fills them; reports.py reads them)."""

from __future__ import annotations

from services.chassis.storage.rows import Table

TICKETS = Table(
    "analytics_tickets",
    ("tenant", "ticket_id", "number", "status", "priority", "category", "channel", "type", "opened_at", "group_id",
     "agent_id", "survey_on", "score", "rated_on"),
    key=("tenant", "ticket_id"),
)  # fmt: skip
TARGETS = Table(  # a row per cycle of a target: a next response per customer message, a resolution per opening
    "analytics_target_cycles",
    ("tenant", "ticket_id", "metric", "cycle", "policy_id", "target_seconds", "used_seconds", "state", "breached",
     "met_on", "started_at", "met_at", "breached_on"),
    key=("tenant", "ticket_id", "metric", "cycle"),
)  # fmt: skip
OUTCOMES = Table(  # a resolution or a reopening, credited to the group and agent of that moment
    "analytics_outcomes",
    ("tenant", "ticket_id", "position", "kind", "group_id", "agent_id", "at"),
    key=("tenant", "ticket_id", "position"),
)
KB_ARTICLES = Table(  # an article as its latest event says: what the knowledge report names it by
    "analytics_kb_articles",
    ("tenant", "article_id", "title", "language", "status"),
    key=("tenant", "article_id"),
)
KB_READS = Table(  # a row per read or rating of an article (kind: viewed, helpful, unhelpful)
    "analytics_kb_reads",
    ("tenant", "article_id", "position", "kind", "channel", "day"),
    key=("tenant", "article_id", "position"),
)
KB_SELF_SERVICE = Table(  # a row per self-service attempt that ended: solved by an article, or a ticket opened
    "analytics_kb_self_service",
    ("tenant", "position", "channel", "article_id", "outcome", "day"),
    key=("tenant", "position"),
)
MACRO_USES = Table(  # a row per macro applied to a ticket, credited to the agent who applied it
    "analytics_macro_uses",
    ("tenant", "position", "macro_id", "macro_version", "ticket_id", "agent_id", "day"),
    key=("tenant", "position"),
)
TIME_ENTRIES = Table(  # a row per time entry; one a later entry corrects no longer counts (`corrected_by`)
    "analytics_time_entries",
    ("tenant", "ticket_id", "entry_id", "requester_id", "organisation", "group_id", "agent_id", "activity",
     "billable", "minutes", "worked_on", "corrects", "corrected_by"),
    key=("tenant", "ticket_id", "entry_id"),
)  # fmt: skip
TABLES = (TICKETS, TARGETS, OUTCOMES, KB_ARTICLES, KB_READS, KB_SELF_SERVICE, MACRO_USES, TIME_ENTRIES)

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS analytics_tickets (
        tenant TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        number TEXT NOT NULL,
        status TEXT NOT NULL,
        priority TEXT NOT NULL,
        category TEXT NOT NULL,
        channel TEXT NOT NULL,
        type TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        group_id TEXT,
        agent_id TEXT,
        survey_on TEXT,
        score INTEGER,
        rated_on TEXT,
        PRIMARY KEY (tenant, ticket_id))""",
    "CREATE INDEX IF NOT EXISTS analytics_tickets_status ON analytics_tickets (tenant, status)",
    "CREATE INDEX IF NOT EXISTS analytics_tickets_opened ON analytics_tickets (tenant, opened_at)",
    "DROP TABLE IF EXISTS analytics_targets",  # a row per metric until version 4: its rebuild fills the cycles
    """CREATE TABLE IF NOT EXISTS analytics_target_cycles (
        tenant TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        metric TEXT NOT NULL,
        cycle INTEGER NOT NULL,
        policy_id TEXT NOT NULL,
        target_seconds INTEGER NOT NULL,
        used_seconds INTEGER NOT NULL,
        state TEXT NOT NULL,
        breached INTEGER NOT NULL,
        met_on TEXT,
        started_at TEXT,
        met_at TEXT,
        breached_on TEXT,
        PRIMARY KEY (tenant, ticket_id, metric, cycle))""",
    """CREATE TABLE IF NOT EXISTS analytics_outcomes (
        tenant TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        position BIGINT NOT NULL,
        kind TEXT NOT NULL,
        group_id TEXT,
        agent_id TEXT,
        at TEXT NOT NULL,
        PRIMARY KEY (tenant, ticket_id, position))""",
    "CREATE INDEX IF NOT EXISTS analytics_outcomes_at ON analytics_outcomes (tenant, at)",
    """CREATE TABLE IF NOT EXISTS analytics_kb_articles (
        tenant TEXT NOT NULL,
        article_id TEXT NOT NULL,
        title TEXT NOT NULL,
        language TEXT NOT NULL,
        status TEXT NOT NULL,
        PRIMARY KEY (tenant, article_id))""",
    """CREATE TABLE IF NOT EXISTS analytics_kb_reads (
        tenant TEXT NOT NULL,
        article_id TEXT NOT NULL,
        position BIGINT NOT NULL,
        kind TEXT NOT NULL,
        channel TEXT,
        day TEXT NOT NULL,
        PRIMARY KEY (tenant, article_id, position))""",
    "CREATE INDEX IF NOT EXISTS analytics_kb_reads_day ON analytics_kb_reads (tenant, day)",
    """CREATE TABLE IF NOT EXISTS analytics_kb_self_service (
        tenant TEXT NOT NULL,
        position BIGINT NOT NULL,
        channel TEXT NOT NULL,
        article_id TEXT,
        outcome TEXT NOT NULL,
        day TEXT NOT NULL,
        PRIMARY KEY (tenant, position))""",
    "CREATE INDEX IF NOT EXISTS analytics_kb_self_service_day ON analytics_kb_self_service (tenant, day)",
    """CREATE TABLE IF NOT EXISTS analytics_macro_uses (
        tenant TEXT NOT NULL,
        position BIGINT NOT NULL,
        macro_id TEXT NOT NULL,
        macro_version INTEGER NOT NULL,
        ticket_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        day TEXT NOT NULL,
        PRIMARY KEY (tenant, position))""",
    "CREATE INDEX IF NOT EXISTS analytics_macro_uses_day ON analytics_macro_uses (tenant, day)",
    """CREATE TABLE IF NOT EXISTS analytics_time_entries (
        tenant TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        entry_id TEXT NOT NULL,
        requester_id TEXT NOT NULL,
        organisation TEXT,
        group_id TEXT,
        agent_id TEXT NOT NULL,
        activity TEXT NOT NULL,
        billable INTEGER NOT NULL,
        minutes INTEGER NOT NULL,
        worked_on TEXT NOT NULL,
        corrects TEXT,
        corrected_by TEXT,
        PRIMARY KEY (tenant, ticket_id, entry_id))""",
    "CREATE INDEX IF NOT EXISTS analytics_time_entries_worked ON analytics_time_entries (tenant, worked_on)",
]
