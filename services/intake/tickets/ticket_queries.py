"""Reading intake's ticket read model: the list agents filter and page through, a ticket by its
number, and full-text search (TicketsProjection, projections.py, writes it from events)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from services.chassis.storage.views import SqlView
from services.intake.privacy.personal_data import PersonalData
from services.intake.privacy.search_tokens import SearchTokens
from services.intake.tickets.cursors import decode_cursor, encode_cursor
from services.intake.tickets.search_queries import fts5_query, tsquery
from services.intake.tickets.ticket_tables import (
    COLUMNS,
    POSTGRES_PUBLIC_SEARCH,
    POSTGRES_STAFF_SEARCH,
    PUBLIC_COLUMNS,
    SQLITE_SEARCH,
    TAGGED,
)


class TicketQueries:
    """The questions the ticket list answers; its rows' titles are opened (unsealed) when read."""

    view: SqlView
    personal: PersonalData
    tokens: SearchTokens

    def list_tickets(
        self,
        tenant: str,
        *,
        status: str | None = None,
        priority: str | None = None,
        group_id: str | None = None,
        agent_id: str | None = None,
        requester_id: str | None = None,
        tag: str | None = None,
        number: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        cursor: str | None = None,
        limit: int = 50,
        scope: tuple[str, dict[str, Any]] = ("", {}),
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the tenant's tickets, newest first, and the cursor of the next page (None at the end).

        Every filter is optional; `created_from` is inclusive, `created_to` exclusive; `scope` is the
        caller's visibility as a condition and its parameters (services/intake/tickets/access.py).
        """
        where = ["tenant = :tenant"] + ([scope[0]] if scope[0] else [])
        params: dict[str, Any] = {"tenant": tenant, "limit": limit + 1} | scope[1]
        for column, value in [
            ("status", status),
            ("priority", priority),
            ("group_id", group_id),
            ("agent_id", agent_id),
            ("requester_id", requester_id),
            ("number", number),
        ]:
            if value is not None:
                where.append(f"{column} = :{column}")
                params[column] = value
        if tag is not None:
            where.append(TAGGED)
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
            statement = POSTGRES_PUBLIC_SEARCH if public_only else POSTGRES_STAFF_SEARCH
        else:
            statement, query = SQLITE_SEARCH, f"{PUBLIC_COLUMNS} : ({query})" if public_only else query
        return self._rows(statement, {"tenant": tenant, "q": query, "limit": limit})

    def requested_by(self, tenant: str, requester_id: str) -> list[str]:
        """The ids of every ticket the requester opened (of those the view has applied), oldest first."""
        rows = self.view.query(
            "SELECT ticket_id FROM intake_tickets WHERE tenant = :tenant AND requester_id = :requester_id"
            " ORDER BY created_at, ticket_id",
            {"tenant": tenant, "requester_id": requester_id},
        )
        return [row["ticket_id"] for row in rows]

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


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _public(row: dict[str, Any]) -> dict[str, Any]:
    row["tags"] = json.loads(row["tags"])
    for column in ("created_at", "updated_at"):
        if isinstance(row[column], datetime):
            row[column] = _iso(row[column])
    return row
