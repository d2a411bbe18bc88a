"""Intake's ticket read model: the list agents filter and page through, and full-text search.

One row per ticket in `intake_tickets`, its tags in `intake_ticket_tags` (so a tag
filter is exact and indexed), and a search document: weighted tsvector columns on
PostgreSQL (`search`: title A, description B, public comments C; `internal_search`: the
internal notes, C), an FTS5 table on SQLite (the notes in a column of their own). A
customer's search reads the public text only, an agent's both, so a word that stands only
in an internal note finds nothing for a customer. Every
batch of events is written with one tracking row; every row remembers the store
position it last applied, so an event applied twice changes nothing.

No personal data in the clear: the title is kept sealed as the event has it (opened when
listed), and the search documents hold keyed tokens of the words (`search_tokens.py`), not
the words; erasing a requester empties their tickets' documents.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder

from services.chassis.storage.views import Sql, SqlView
from services.intake.privacy.personal_data import PersonalData
from services.intake.privacy.search_tokens import Query, SearchTokens, Term
from services.intake.tickets.domain import Ticket

VIEW = "tickets-view"
VERSION = 4  # 2: the requester's organisation, so a customer lists their organisation's tickets;
# 3: sealed titles, search documents of keyed tokens; 4: internal notes apart from the public text
_TABLES = ("intake_tickets", "intake_ticket_tags")

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
    """CREATE TABLE IF NOT EXISTS intake_ticket_tags (
        tenant TEXT NOT NULL, tag TEXT NOT NULL, ticket_id TEXT NOT NULL, PRIMARY KEY (tenant, tag, ticket_id))""",
]
_STAFF_DOCUMENT = "(search || internal_search)"  # what agents search: the index is on this very expression
POSTGRES_SCHEMA = [
    _COMMON.format(
        instant="TIMESTAMPTZ",
        search=", search TSVECTOR NOT NULL DEFAULT '', internal_search TSVECTOR NOT NULL DEFAULT ''",
    ),
    *_INDEXES,
    "CREATE INDEX IF NOT EXISTS intake_tickets_search ON intake_tickets USING GIN (search)",
    f"CREATE INDEX IF NOT EXISTS intake_tickets_staff_search ON intake_tickets USING GIN ({_STAFF_DOCUMENT})",
]
SQLITE_SCHEMA = [
    _COMMON.format(instant="TEXT", search=""),
    *_INDEXES,
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
_POSTGRES_INSERT = _INSERT.format(
    column=", search",
    value=", setweight(to_tsvector('simple', :title_tokens), 'A')"
    " || setweight(to_tsvector('simple', :description_tokens), 'B')",
)
_SQLITE_INSERT = _INSERT.format(column="", value="")
_T_COLUMNS = ", ".join(f"t.{column.strip()}" for column in COLUMNS.split(","))
_POSTGRES_SEARCH = """SELECT {columns}, ts_rank({document}, q) AS rank
    FROM intake_tickets t, to_tsquery('simple', :q) q
    WHERE t.tenant = :tenant AND {document} @@ q
    ORDER BY rank DESC, t.created_at DESC, t.ticket_id DESC LIMIT :limit"""
_POSTGRES_PUBLIC_SEARCH = _POSTGRES_SEARCH.format(columns=_T_COLUMNS, document="t.search")
_POSTGRES_STAFF_SEARCH = _POSTGRES_SEARCH.format(columns=_T_COLUMNS, document="(t.search || t.internal_search)")
_PUBLIC_COLUMNS = "{title description comments}"  # an FTS5 column filter: everything but the notes
_SQLITE_SEARCH = f"""SELECT {_T_COLUMNS}, -bm25(intake_tickets_fts, 10.0, 4.0, 1.0, 1.0) AS rank
    FROM intake_tickets_fts JOIN intake_tickets t ON t.opened_position = intake_tickets_fts.rowid
    WHERE intake_tickets_fts MATCH :q AND t.tenant = :tenant
    ORDER BY rank DESC, t.created_at DESC, t.ticket_id DESC LIMIT :limit"""

# The status each lifecycle event leaves the ticket in (a merged ticket is closed).
_STATUS_AFTER = {
    "WorkStarted": "open", "MarkedPending": "pending", "Resumed": "open", "Resolved": "resolved",
    "Reopened": "open", "Closed": "closed", "MergedInto": "closed",
}  # fmt: skip
_TOUCH = "version = :version, updated_at = :at, position = :position"
_TAGGED = "ticket_id IN (SELECT ticket_id FROM intake_ticket_tags WHERE tenant = :tenant AND tag = :tag)"
_TICKET = "tenant = :tenant AND ticket_id = :ticket_id"

Handler = Callable[[Sql, Any, dict[str, Any]], None]


class InvalidCursorError(ValueError):
    """A cursor this list did not hand out."""


class TicketsProjection:
    """Every ticket of every tenant as agents list and search it."""

    name = VIEW

    def __init__(self, recorder: TrackingRecorder, personal: PersonalData, tokens: SearchTokens) -> None:
        self.personal = personal
        self.tokens = tokens
        self.view = SqlView(recorder, [], name=VIEW, version=VERSION)
        if self.view.outdated:  # tables of an older shape: made again, and the projector refills them from 0
            with self.view.transaction() as sql:
                for table in _TABLES if self.view.postgres else (*_TABLES, "intake_tickets_fts"):
                    sql.execute(f"DROP TABLE IF EXISTS {table}")
                sql.execute(f"DELETE FROM {self.view.tracking_table} WHERE application_name = :name", {"name": VIEW})
        with self.view.transaction() as sql:
            for statement in POSTGRES_SCHEMA if self.view.postgres else SQLITE_SCHEMA:
                sql.execute(statement)
        if self.view.outdated:
            self.view.mark_current()
        self._handlers: dict[str, Handler] = {
            "Opened": self._opened, "CommentAdded": self._comment_added, "TagsChanged": self._tags_changed,
            "PriorityChanged": self._set("priority"), "CategoryChanged": self._set("category"),
            "TypeChanged": self._set("type"), "Assigned": self._set("group_id", "agent_id"),
            "Unassigned": self._unassigned,
        } | dict.fromkeys(_STATUS_AFTER, self._status_changed)  # fmt: skip

    # -- writing ----------------------------------------------------------------

    def apply(self, events: Sequence[tuple[object, int]], tracking: Sequence[Tracking]) -> None:
        """Apply (domain event, store position) pairs and `tracking` in one transaction."""
        with self.view.transaction(*tracking) as sql:
            for domain_event, position in events:
                if isinstance(domain_event, Ticket.Event):
                    handler = self._handlers.get(type(domain_event).__name__, self._touched)
                    handler(sql, domain_event, self._params(domain_event, position))

    def _params(self, event: Ticket.Event, position: int) -> dict[str, Any]:
        return {
            "tenant": event.tenant, "ticket_id": str(event.originator_id), "version": event.originator_version,
            "at": self._instant(event.timestamp), "position": position,
        }  # fmt: skip

    def _opened(self, sql: Sql, event: Ticket.Opened, params: dict[str, Any]) -> None:
        params |= {
            "number": event.number, "title": event.title, "description": event.description,
            "priority": event.priority, "category": event.category, "type": event.type, "channel": event.channel,
            "requester_id": event.requester_id, "organisation": event.organisation, "group_id": event.group_id,
            "tags": json.dumps(sorted(set(event.tags))),
        }  # fmt: skip
        params |= {name: self._tokens(event.tenant, getattr(event, field))
                   for name, field in (("title_tokens", "title"), ("description_tokens", "description"))}  # fmt: skip
        sql.execute(_POSTGRES_INSERT if self.view.postgres else _SQLITE_INSERT, params)
        if not sql.rows():
            return  # applied before
        self._add_tags(sql, params, event.tags)
        if not self.view.postgres:
            sql.execute(
                "INSERT INTO intake_tickets_fts (rowid, title, description, comments, notes)"
                " VALUES (:position, :title_tokens, :description_tokens, '', '')",
                params,
            )

    def _comment_added(self, sql: Sql, event: Any, params: dict[str, Any]) -> None:
        """A public reply joins the public text, an internal note the notes (agents search both)."""
        params["body"] = self._tokens(event.tenant, event.body)
        if self.view.postgres:
            document = "search" if event.public else "internal_search"
            self._update(sql, params, f"{document} = {document} || setweight(to_tsvector('simple', :body), 'C')")
        elif (row := self._update(sql, params)) is not None:
            column = "comments" if event.public else "notes"
            sql.execute(
                f"UPDATE intake_tickets_fts SET {column} = {column} || char(10) || :body WHERE rowid = :document",
                params | {"document": row["opened_position"]},
            )

    def _tags_changed(self, sql: Sql, event: Any, params: dict[str, Any]) -> None:
        row = self._update(sql, params)
        if row is None:
            return
        tags = sorted((set(json.loads(row["tags"])) | set(event.added)) - set(event.removed))
        sql.execute(f"UPDATE intake_tickets SET tags = :tags WHERE {_TICKET}", params | {"tags": json.dumps(tags)})
        for tag in event.removed:
            sql.execute(f"DELETE FROM intake_ticket_tags WHERE {_TICKET} AND tag = :tag", params | {"tag": tag})
        self._add_tags(sql, params, event.added)

    def _status_changed(self, sql: Sql, event: Any, params: dict[str, Any]) -> None:
        params["status"] = _STATUS_AFTER[type(event).__name__]
        self._update(sql, params, "status = :status")

    def _set(self, *fields: str) -> Handler:
        def handler(sql: Sql, event: Any, params: dict[str, Any]) -> None:
            params |= {field: getattr(event, field) for field in fields}
            self._update(sql, params, ", ".join(f"{field} = :{field}" for field in fields))

        return handler

    def _unassigned(self, sql: Sql, event: Any, params: dict[str, Any]) -> None:
        self._update(sql, params, "group_id = NULL, agent_id = NULL")

    def _tokens(self, tenant: str, sealed: str) -> str:
        return self.tokens.document(tenant, self.personal.unseal(tenant, sealed))

    def _touched(self, sql: Sql, event: Any, params: dict[str, Any]) -> None:
        """Events that change nothing listed still move the ticket's version."""
        self._update(sql, params)

    def _update(self, sql: Sql, params: dict[str, Any], assignments: str = "") -> dict[str, Any] | None:
        """Update the ticket unless it applied this position already; its row, or None."""
        sql.execute(
            f"UPDATE intake_tickets SET {assignments + ', ' if assignments else ''}{_TOUCH}"
            f" WHERE {_TICKET} AND position < :position RETURNING opened_position, tags",
            params,
        )
        rows = sql.rows()
        return rows[0] if rows else None

    def _add_tags(self, sql: Sql, params: dict[str, Any], tags: list[str]) -> None:
        for tag in tags:
            sql.execute(
                "INSERT INTO intake_ticket_tags (tenant, tag, ticket_id) VALUES (:tenant, :tag, :ticket_id)"
                " ON CONFLICT DO NOTHING",
                params | {"tag": tag},
            )

    # -- reading ----------------------------------------------------------------

    def list_tickets(
        self, tenant: str, *, status: str | None = None, priority: str | None = None, group_id: str | None = None,
        agent_id: str | None = None, requester_id: str | None = None, tag: str | None = None,
        created_from: datetime | None = None, created_to: datetime | None = None, cursor: str | None = None,
        limit: int = 50, scope: tuple[str, dict[str, Any]] = ("", {}),
    ) -> tuple[list[dict[str, Any]], str | None]:  # fmt: skip
        """A page of the tenant's tickets, newest first, and the cursor of the next page (None at the end).

        Every filter is optional; `created_from` is inclusive, `created_to` exclusive; `scope` is the
        caller's visibility as a condition and its parameters (services/intake/tickets/access.py).
        """
        where = ["tenant = :tenant"] + ([scope[0]] if scope[0] else [])
        params: dict[str, Any] = {"tenant": tenant, "limit": limit + 1} | scope[1]
        for column, value in [
            ("status", status), ("priority", priority), ("group_id", group_id), ("agent_id", agent_id),
            ("requester_id", requester_id),
        ]:  # fmt: skip
            if value is not None:
                where.append(f"{column} = :{column}")
                params[column] = value
        if tag is not None:
            where.append(_TAGGED)
            params["tag"] = tag
        if created_from is not None:
            where.append("created_at >= :created_from")
            params["created_from"] = self._instant(created_from)
        if created_to is not None:
            where.append("created_at < :created_to")
            params["created_to"] = self._instant(created_to)
        if cursor is not None:
            after_at, after_id = decode_cursor(cursor)
            where.append("(created_at, ticket_id) < (:after_at, :after_id)")
            params |= {"after_at": self._instant(after_at), "after_id": after_id}
        rows = self._rows(
            f"SELECT {COLUMNS} FROM intake_tickets WHERE {' AND '.join(where)}"
            " ORDER BY created_at DESC, ticket_id DESC LIMIT :limit",
            params,
        )
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode_cursor(last["created_at"], last["ticket_id"])

    def ticket_numbered(self, tenant: str, number: str) -> UUID | None:
        """The tenant's ticket with this number (e.g. `SD-2026-000123`, tagged in a reply's subject)."""
        rows = self.view.query(
            "SELECT ticket_id FROM intake_tickets WHERE tenant = :tenant AND number = :number",
            {"tenant": tenant, "number": number},
        )
        return UUID(rows[0]["ticket_id"]) if rows else None

    def search(self, tenant: str, q: str, limit: int = 20, *, public_only: bool = False) -> list[dict[str, Any]]:
        """The tenant's tickets whose title, description or comments match `q`, best match first:
        every word (or "quoted phrase") of `q` must be there, found by its keyed token. With
        `public_only` (a customer's search) the internal notes are not searched at all."""
        parsed = self.tokens.query(tenant, q)
        query = tsquery(parsed) if self.view.postgres else fts5_query(parsed)
        if not query:
            return []
        if self.view.postgres:
            statement = _POSTGRES_PUBLIC_SEARCH if public_only else _POSTGRES_STAFF_SEARCH
        else:
            statement, query = _SQLITE_SEARCH, f"{_PUBLIC_COLUMNS} : ({query})" if public_only else query
        return self._rows(statement, {"tenant": tenant, "q": query, "limit": limit})

    def erase(self, tenant: str, requester_id: str) -> int:
        """Empty the search documents of the requester's tickets (an erasure); how many tickets."""
        params = {"tenant": tenant, "requester_id": requester_id}
        mine = "tenant = :tenant AND requester_id = :requester_id"
        with self.view.transaction() as sql:
            if self.view.postgres:
                sql.execute(
                    f"UPDATE intake_tickets SET search = '', internal_search = '' WHERE {mine} RETURNING ticket_id",
                    params,
                )
                return len(sql.rows())
            sql.execute(f"SELECT opened_position FROM intake_tickets WHERE {mine}", params)
            documents = [row["opened_position"] for row in sql.rows()]
            for document in documents:
                sql.execute(
                    "UPDATE intake_tickets_fts SET title = '', description = '', comments = '', notes = ''"
                    " WHERE rowid = :document",
                    {"document": document},
                )
            return len(documents)

    def requested_by(self, tenant: str, requester_id: str) -> list[str]:
        """The ids of every ticket the requester opened (of those the view has applied), oldest first."""
        rows = self.view.query(
            "SELECT ticket_id FROM intake_tickets WHERE tenant = :tenant AND requester_id = :requester_id"
            " ORDER BY created_at, ticket_id",
            {"tenant": tenant, "requester_id": requester_id},
        )
        return [row["ticket_id"] for row in rows]

    def position(self) -> int:
        """The highest store position this view has applied."""
        return self.view.recorder.max_tracking_id(VIEW) or 0

    def wait(self, position: int, timeout: float) -> bool:
        """Block until the view has applied `position` (read-your-writes); False on timeout."""
        deadline = time.monotonic() + timeout
        pause = 0.005
        while self.position() < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, 0.1)
        return True

    def drop(self) -> None:
        """Forget every row and this view's tracking: the start of a rebuild."""
        tables = ["intake_tickets", "intake_ticket_tags"] + ([] if self.view.postgres else ["intake_tickets_fts"])
        with self.view.transaction() as sql:
            for table in tables:
                sql.execute(f"DELETE FROM {table}")
            sql.execute(f"DELETE FROM {self.view.tracking_table} WHERE application_name = :name", {"name": VIEW})

    def _rows(self, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        rows = [_public(row) for row in self.view.query(statement, params)]
        for row in rows:
            row["title"] = self.personal.unseal(row["tenant"], row["title"])
        return rows

    def _instant(self, value: datetime) -> datetime | str:
        """How an instant is stored: TIMESTAMPTZ on PostgreSQL, fixed-width UTC ISO text on SQLite."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value if self.view.postgres else _iso(value)


def encode_cursor(created_at: str, ticket_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_at, ticket_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created_at, ticket_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(created_at), str(ticket_id)
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError):
        raise InvalidCursorError(f"not a cursor of this list: {cursor!r}") from None


def tsquery(query: Query) -> str:
    """A query of tokens for PostgreSQL's `to_tsquery` (tokens are letters only: no syntax in them)."""
    groups = [
        "(" + " | ".join(("!" if t.negated else "") + "(" + " <-> ".join(t.tokens) + ")" for t in group) + ")"
        for group in query
    ]
    return " & ".join(groups) if any(not t.negated for group in query for t in group) else ""


def fts5_query(query: Query) -> str:
    """The same for SQLite's FTS5, whose NOT needs something to subtract from: every word in double
    quotes, alternatives in parentheses, negated words after the rest."""
    wanted = [group for group in query if not (len(group) == 1 and group[0].negated)]
    unwanted = [group[0] for group in query if len(group) == 1 and group[0].negated]
    if not wanted:
        return ""

    def phrase(term: Term) -> str:
        return '"' + " ".join(term.tokens) + '"'

    rendered = " AND ".join("(" + " OR ".join(phrase(t) for t in group) + ")" for group in wanted)
    return rendered + "".join(f" NOT {phrase(term)}" for term in unwanted)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _public(row: dict[str, Any]) -> dict[str, Any]:
    row["tags"] = json.loads(row["tags"])
    for column in ("created_at", "updated_at"):
        if isinstance(row[column], datetime):
            row[column] = _iso(row[column])
    return row
