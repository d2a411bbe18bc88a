"""The tables of intake's ticket read model and the statements that fill and search them.

One row per ticket in `intake_tickets`, its tags in `intake_ticket_tags`, and a search document:
weighted tsvector columns on PostgreSQL, an FTS5 table on SQLite (projections.py says why).
"""

from __future__ import annotations

TABLES = ("intake_tickets", "intake_ticket_tags")

_COMMON = """CREATE TABLE IF NOT EXISTS intake_tickets (
    tenant TEXT NOT NULL, ticket_id TEXT NOT NULL, number TEXT NOT NULL, title TEXT NOT NULL,
    status TEXT NOT NULL, priority TEXT NOT NULL, category TEXT NOT NULL, type TEXT NOT NULL,
    channel TEXT NOT NULL, requester_id TEXT NOT NULL, organisation TEXT, group_id TEXT, agent_id TEXT,
    tags TEXT NOT NULL,
    created_at {instant} NOT NULL, updated_at {instant} NOT NULL, version INTEGER NOT NULL,
    position BIGINT NOT NULL, opened_position BIGINT NOT NULL{search},
    PRIMARY KEY (tenant, ticket_id))"""
_FILTERED = {"created": "", "status": "status, ", "priority": "priority, ", "group": "group_id, ",
             "agent": "agent_id, ", "requester": "requester_id, "}  # fmt: skip
_INDEXES = [
    *(
        f"CREATE INDEX IF NOT EXISTS intake_tickets_{name} ON intake_tickets (tenant, {first}created_at, ticket_id)"
        for name, first in _FILTERED.items()
    ),
    "CREATE INDEX IF NOT EXISTS intake_tickets_number ON intake_tickets (tenant, number)",
    # The queues' counts: an agent's open work, a group's, the unassigned (agent_id IS NULL), by status.
    "CREATE INDEX IF NOT EXISTS intake_tickets_agent_status ON intake_tickets (tenant, agent_id, status)",
    "CREATE INDEX IF NOT EXISTS intake_tickets_group_status ON intake_tickets (tenant, group_id, status)",
    # The list's other orders (by priority, by last change), each ending on the ticket id as its cursor does.
    "CREATE INDEX IF NOT EXISTS intake_tickets_by_priority ON intake_tickets (tenant, priority, ticket_id)",
    "CREATE INDEX IF NOT EXISTS intake_tickets_by_update ON intake_tickets (tenant, updated_at, ticket_id)",
    """CREATE TABLE IF NOT EXISTS intake_ticket_tags (
        tenant TEXT NOT NULL, tag TEXT NOT NULL, ticket_id TEXT NOT NULL, PRIMARY KEY (tenant, tag, ticket_id))""",
]
# Each ticket's SLA state as the SLA service publishes it (sla_status.py writes it); made here too, since
# the list reads each row's nearest due instant from it. Running clocks by due instant: "breaching soon".
SLA_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS intake_sla (
        tenant TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        metric TEXT NOT NULL,
        policy_id TEXT NOT NULL,
        state TEXT NOT NULL,
        target_seconds INTEGER NOT NULL,
        due_at TEXT NOT NULL,
        business_seconds_used INTEGER NOT NULL,
        warned_at_percent INTEGER,
        breached BOOLEAN NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant, ticket_id, metric))""",
    "CREATE INDEX IF NOT EXISTS intake_sla_due ON intake_sla (tenant, state, due_at, ticket_id)",
]
# A ticket's nearest due instant among its running clocks (due_at is UTC ISO 8601 text: it sorts as time).
DUE_OF_ROW = (
    "(SELECT MIN(s.due_at) FROM intake_sla s WHERE s.tenant = intake_tickets.tenant"
    " AND s.ticket_id = intake_tickets.ticket_id AND s.state = 'running')"
)
# The tickets with a running clock and that instant, to join when the list keeps or orders by them.
RUNNING_CLOCKS = (
    "(SELECT ticket_id AS due_ticket_id, MIN(due_at) AS sla_due_at FROM intake_sla"
    " WHERE tenant = :tenant AND state = 'running' GROUP BY ticket_id) due"
)
_STAFF_DOCUMENT = "(search || internal_search)"  # what agents search: the index is on this very expression
POSTGRES_SCHEMA = [
    _COMMON.format(
        instant="TIMESTAMPTZ",
        search=", search TSVECTOR NOT NULL DEFAULT '', internal_search TSVECTOR NOT NULL DEFAULT ''",
    ),
    *_INDEXES,
    *SLA_SCHEMA,
    "CREATE INDEX IF NOT EXISTS intake_tickets_search ON intake_tickets USING GIN (search)",
    f"CREATE INDEX IF NOT EXISTS intake_tickets_staff_search ON intake_tickets USING GIN ({_STAFF_DOCUMENT})",
]
SQLITE_SCHEMA = [
    _COMMON.format(instant="TEXT", search=""),
    *_INDEXES,
    *SLA_SCHEMA,
    "CREATE UNIQUE INDEX IF NOT EXISTS intake_tickets_document ON intake_tickets (opened_position)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS intake_tickets_fts USING fts5(title, description, comments, notes)",
]

COLUMNS = (
    "tenant, ticket_id, number, title, status, priority, category, type, channel, requester_id, group_id,"
    " agent_id, tags, created_at, updated_at, version, position"
)
_INSERT = (
    "INSERT INTO intake_tickets (" + COLUMNS + ", opened_position, organisation{column}) VALUES (:tenant, :ticket_id,"
    " :number, :title, 'new', :priority, :category, :type, :channel, :requester_id, :group_id, NULL, :tags, :at, :at,"
    " :version, :position, :position, :organisation{value}) ON CONFLICT (tenant, ticket_id) DO NOTHING"
    " RETURNING opened_position"
)
POSTGRES_INSERT = _INSERT.format(
    column=", search",
    value=", setweight(to_tsvector('simple', :title_tokens), 'A')"
    " || setweight(to_tsvector('simple', :description_tokens), 'B')",
)
SQLITE_INSERT = _INSERT.format(column="", value="")
_T_COLUMNS = ", ".join(f"t.{column.strip()}" for column in COLUMNS.split(","))
# Ranked among the newest RANKED matches: a common word matches a fifth of a big tenant's tickets, and ranking
# them all took 270 ms over 100,000 tickets (bench/workspace_pages.py); the newest are found walking the
# created_at index, a rare word's few through the GIN index.
RANKED = 1000
_POSTGRES_SEARCH = """SELECT {columns}, ts_rank({document}, q) AS rank
    FROM (SELECT * FROM intake_tickets t, to_tsquery('simple', :q) q
          WHERE t.tenant = :tenant AND {document} @@ q
          ORDER BY t.created_at DESC, t.ticket_id DESC LIMIT {ranked}) t
    ORDER BY rank DESC, t.created_at DESC, t.ticket_id DESC LIMIT :limit"""
POSTGRES_PUBLIC_SEARCH = _POSTGRES_SEARCH.format(columns=_T_COLUMNS, document="t.search", ranked=RANKED)
POSTGRES_STAFF_SEARCH = _POSTGRES_SEARCH.format(
    columns=_T_COLUMNS, document="(t.search || t.internal_search)", ranked=RANKED
)
PUBLIC_COLUMNS = "{title description comments}"  # an FTS5 column filter: everything but the notes
SQLITE_SEARCH = f"""SELECT {_T_COLUMNS}, -bm25(intake_tickets_fts, 10.0, 4.0, 1.0, 1.0) AS rank
    FROM intake_tickets_fts JOIN intake_tickets t ON t.opened_position = intake_tickets_fts.rowid
    WHERE intake_tickets_fts MATCH :q AND t.tenant = :tenant
    ORDER BY rank DESC, t.created_at DESC, t.ticket_id DESC LIMIT :limit"""

TOUCH = "version = :version, updated_at = :at, position = :position"
TAGGED = "intake_tickets.ticket_id IN (SELECT ticket_id FROM intake_ticket_tags WHERE tenant = :tenant AND tag = :tag)"
TICKET = "tenant = :tenant AND ticket_id = :ticket_id"
