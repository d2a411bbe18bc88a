"""Intake's ticket read model, written from events: the list agents filter and page through, and
full-text search (read in ticket_queries.py; its tables and statements are in ticket_tables.py).

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

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import Tracking, TrackingRecorder

from services.chassis.storage.views import Sql, SqlView
from services.intake.privacy.personal_data import PersonalData
from services.intake.privacy.search_tokens import SearchTokens
from services.intake.tickets.domain import Ticket
from services.intake.tickets.events.base import Opened
from services.intake.tickets.ticket_queries import TicketQueries
from services.intake.tickets.ticket_tables import (
    POSTGRES_INSERT,
    POSTGRES_SCHEMA,
    SQLITE_INSERT,
    SQLITE_SCHEMA,
    TABLES,
    TICKET,
    TOUCH,
)

VIEW = "tickets-view"
VERSION = 5  # 2: the requester's organisation, so a customer lists their organisation's tickets;
# 3: sealed titles, search documents of keyed tokens; 4: internal notes apart from the public text;
# 5: tokens of stems and their beginnings (any form of a word finds the others)

# The status each lifecycle event leaves the ticket in (a merged ticket is closed).
_STATUS_AFTER = {
    "WorkStarted": "open", "MarkedPending": "pending", "Resumed": "open", "Resolved": "resolved",
    "Reopened": "open", "Closed": "closed", "MergedInto": "closed",
}  # fmt: skip

Handler = Callable[[Sql, Any, dict[str, Any]], None]


class TicketsProjection(TicketQueries):
    """Every ticket of every tenant as agents list and search it."""

    name = VIEW

    def __init__(self, recorder: TrackingRecorder, personal: PersonalData, tokens: SearchTokens) -> None:
        self.personal = personal
        self.tokens = tokens
        self.view = SqlView(recorder, [], name=VIEW, version=VERSION)
        if self.view.outdated:  # tables of an older shape: made again, and the projector refills them from 0
            with self.view.transaction() as sql:
                for table in TABLES if self.view.postgres else (*TABLES, "intake_tickets_fts"):
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

    def _opened(self, sql: Sql, event: Opened, params: dict[str, Any]) -> None:
        params |= {
            "number": event.number,
            "title": event.title,
            "description": event.description,
            "priority": event.priority,
            "category": event.category,
            "type": event.type,
            "channel": event.channel,
            "requester_id": event.requester_id,
            "organisation": event.organisation,
            "group_id": event.group_id,
            "tags": json.dumps(sorted(set(event.tags))),
        }
        params |= {
            name: self._tokens(event.tenant, getattr(event, field))
            for name, field in (("title_tokens", "title"), ("description_tokens", "description"))
        }
        sql.execute(POSTGRES_INSERT if self.view.postgres else SQLITE_INSERT, params)
        if not self.view.postgres and sql.rows():  # inserted now, not applied before: its search document
            sql.execute(
                "INSERT INTO intake_tickets_fts (rowid, title, description, comments, notes)"
                " VALUES (:position, :title_tokens, :description_tokens, '', '')",
                params,
            )
        self._add_tags(sql, params, event.tags)

    def _comment_added(self, sql: Sql, event: Any, params: dict[str, Any]) -> None:
        """A public reply joins the public text, an internal note the notes (agents search both)."""
        params["body"] = self._tokens(event.tenant, event.body)
        if self.view.postgres:
            document = "search" if event.public else "internal_search"
            self._update(sql, params, f"{document} = {document} || setweight(to_tsvector('simple', :body), 'C')")
        elif (row := self._updated(sql, params)) is not None:
            column = "comments" if event.public else "notes"
            sql.execute(
                f"UPDATE intake_tickets_fts SET {column} = {column} || char(10) || :body WHERE rowid = :document",
                params | {"document": row["opened_position"]},
            )

    def _tags_changed(self, sql: Sql, event: Any, params: dict[str, Any]) -> None:
        row = self._updated(sql, params)
        if row is None:
            return
        tags = sorted((set(json.loads(row["tags"])) | set(event.added)) - set(event.removed))
        sql.execute(f"UPDATE intake_tickets SET tags = :tags WHERE {TICKET}", params | {"tags": json.dumps(tags)})
        for tag in event.removed:
            sql.execute(f"DELETE FROM intake_ticket_tags WHERE {TICKET} AND tag = :tag", params | {"tag": tag})
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

    def _update(self, sql: Sql, params: dict[str, Any], assignments: str = "") -> None:
        """Update the ticket unless it applied this position already. Its answer is not read: in the batch's
        pipeline on PostgreSQL, reading it would wait a round trip for every event (at 200 tickets/s this
        projector took 22.6 % of the intake api's samples reading them, 15.0 % after; README, "How many tickets
        a second")."""
        sql.execute(self._update_statement(assignments), params)

    def _updated(self, sql: Sql, params: dict[str, Any], assignments: str = "") -> dict[str, Any] | None:
        """`_update`, and the row it updated (None: applied before), for what its new values depend on."""
        sql.execute(self._update_statement(assignments) + " RETURNING opened_position, tags", params)
        rows = sql.rows()
        return rows[0] if rows else None

    @staticmethod
    def _update_statement(assignments: str) -> str:
        return (
            f"UPDATE intake_tickets SET {assignments + ', ' if assignments else ''}{TOUCH}"
            f" WHERE {TICKET} AND position < :position"
        )

    def _add_tags(self, sql: Sql, params: dict[str, Any], tags: list[str]) -> None:
        """Tag the ticket, in one statement, unless the event at `position` was applied before (the ticket has
        moved past it since, or stays at it: tagged then)."""
        if not tags:
            return
        each = sorted(set(tags))
        if self.view.postgres:  # an array (a NUL in a tag is dropped, as from every value: views.py)
            tag_list: object = each
            rows = "unnest(CAST(:tag_list AS text[])) AS tag"
        else:
            tag_list, rows = json.dumps(each), "(SELECT value AS tag FROM json_each(:tag_list))"
        sql.execute(
            f"INSERT INTO intake_ticket_tags (tenant, tag, ticket_id) SELECT :tenant, tag, :ticket_id FROM {rows}"
            f" WHERE EXISTS (SELECT 1 FROM intake_tickets WHERE {TICKET} AND position = :position)"
            " ON CONFLICT DO NOTHING",
            params | {"tag_list": tag_list},
        )

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
