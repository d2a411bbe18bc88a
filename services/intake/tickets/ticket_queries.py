"""Reading intake's ticket read model: the list agents filter and page through, a ticket by its
number, and full-text search (TicketsProjection, projections.py, writes it from events)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from services.chassis.storage.views import SqlView
from services.intake.privacy.personal_data import PersonalData
from services.intake.privacy.search_tokens import SearchTokens
from services.intake.tickets.cursors import InvalidCursorError, decode_cursor, encode_cursor
from services.intake.tickets.search_queries import fts5_query, tsquery
from services.intake.tickets.ticket_filters import Order, TicketFilter
from services.intake.tickets.ticket_tables import (
    COLUMNS,
    DUE_OF_ROW,
    POSTGRES_PUBLIC_SEARCH,
    POSTGRES_STAFF_SEARCH,
    PUBLIC_COLUMNS,
    RUNNING_CLOCKS,
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
        where: TicketFilter | None = None,
        *,
        order: Order = Order.NEWEST,
        cursor: str | None = None,
        limit: int = 50,
        scope: tuple[str, dict[str, Any]] = ("", {}),
        **fields: Any,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the tenant's tickets in `order` (newest first unless asked), and the cursor of the next page
        (None at the end); each row with `sla_due_at`, the nearest due instant of its running SLA clocks.

        `where` (or the same as keywords: `status="open"`, `group_id=("a", "b")`, …) narrows the list;
        `created_from` is inclusive, `created_to` exclusive; `scope` is the caller's visibility as a
        condition and its parameters (services/intake/tickets/access.py).
        """
        chosen = (where or TicketFilter()).narrowed(filter_of(**fields))
        if order.column == "sla_due_at":
            chosen = chosen.narrowed(TicketFilter(sla_running=True))
        conditions, params = self._where(tenant, chosen, scope)
        params["limit"] = limit + 1
        key = "due.sla_due_at" if order.column == "sla_due_at" else order.column
        if cursor is not None:
            after, after_id, of_order = decode_cursor(cursor)
            if of_order != order.value:
                raise InvalidCursorError(f"a cursor of another order: {of_order}")
            after_key = self._instant(_instant_of(after)) if order.column in ("created_at", "updated_at") else after
            conditions.append(f"({key}, ticket_id) {'<' if order.descending else '>'} (:after_key, :after_id)")
            params |= {"after_key": after_key, "after_id": after_id}
        direction = "DESC" if order.descending else "ASC"
        due = "due.sla_due_at" if chosen.sla_running else f"{DUE_OF_ROW} AS sla_due_at"
        rows = self._rows(
            f"SELECT {COLUMNS}, {due} FROM {self._source(chosen)} WHERE {' AND '.join(conditions)}"
            f" ORDER BY {key} {direction}, ticket_id {direction} LIMIT :limit",
            params,
        )
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode_cursor(str(last[order.column]), last["ticket_id"], order.value)

    def count_tickets(
        self, tenant: str, filters: Mapping[str, TicketFilter], scope: tuple[str, dict[str, Any]] = ("", {})
    ) -> dict[str, int]:
        """How many of the tenant's tickets the caller may see each filter keeps. The filters on the ticket's
        own columns are counted together, in one pass over the caller's tickets (`COUNT(*) FILTER`): the queue
        of everything reads them all anyway, and six counts took six passes. A filter of running SLA clocks
        (breaching soon) or of words is counted on its own, through the clocks' or the words' index."""

        def alone(chosen: TicketFilter) -> bool:
            return chosen.sla_running or bool(chosen.words)

        together = {name: chosen for name, chosen in filters.items() if not alone(chosen)}
        counts = self._counted_together(tenant, together, scope) if together else {}
        for name, chosen in filters.items():
            if alone(chosen):
                conditions, params = self._where(tenant, chosen, scope)
                found = self.view.query(
                    f"SELECT COUNT(*) AS n FROM {self._source(chosen)} WHERE {' AND '.join(conditions)}", params
                )
                counts[name] = int(found[0]["n"])
        return {name: counts[name] for name in filters}

    def _counted_together(
        self, tenant: str, filters: Mapping[str, TicketFilter], scope: tuple[str, dict[str, Any]]
    ) -> dict[str, int]:
        common, params = self._where(tenant, TicketFilter(), scope)
        counted = []
        for n, chosen in enumerate(filters.values()):
            conditions, own = self._where(tenant, chosen, scope, prefix=f"f{n}_")
            kept = [condition for condition in conditions if condition not in common] or ["1 = 1"]
            counted.append(f"COUNT(*) FILTER (WHERE {' AND '.join(kept)}) AS n{n}")
            params |= own
        found = self.view.query(f"SELECT {', '.join(counted)} FROM intake_tickets WHERE {' AND '.join(common)}", params)
        return {name: int(found[0][f"n{n}"] or 0) for n, name in enumerate(filters)}

    def _source(self, chosen: TicketFilter) -> str:
        if chosen.sla_running:
            return f"intake_tickets JOIN {RUNNING_CLOCKS} ON due.due_ticket_id = intake_tickets.ticket_id"
        return "intake_tickets"

    def _where(
        self, tenant: str, chosen: TicketFilter, scope: tuple[str, dict[str, Any]], prefix: str = ""
    ) -> tuple[list[str], dict[str, Any]]:
        """The conditions of `chosen` within `scope`, and their parameters (the filter's own named with
        `prefix`, so that several filters' conditions can be asked in one statement)."""
        where = ["intake_tickets.tenant = :tenant"] + ([scope[0]] if scope[0] else [])
        params: dict[str, Any] = {"tenant": tenant} | scope[1]
        for column, values in [
            ("status", chosen.statuses),
            ("priority", chosen.priorities),
            ("group_id", chosen.group_ids),
        ]:
            names = {f"{prefix}{column}{n}": value for n, value in enumerate(values)}
            if names:
                where.append(f"{column} IN ({', '.join(':' + name for name in names)})")
                params |= names
        for column, value in [
            ("agent_id", chosen.agent_id),
            ("requester_id", chosen.requester_id),
            ("channel", chosen.channel),
            ("number", chosen.number),
        ]:
            if value is not None:
                where.append(f"{column} = :{prefix}{column}")
                params[f"{prefix}{column}"] = value
        if chosen.unassigned:
            where.append("agent_id IS NULL")
        if chosen.tag is not None:
            where.append(TAGGED.replace(":tag", f":{prefix}tag"))
            params[f"{prefix}tag"] = chosen.tag
        if chosen.created_from is not None:
            where.append(f"created_at >= :{prefix}created_from")
            params[f"{prefix}created_from"] = self._instant(chosen.created_from)
        if chosen.created_to is not None:
            where.append(f"created_at < :{prefix}created_to")
            params[f"{prefix}created_to"] = self._instant(chosen.created_to)
        if chosen.words:
            # A customer's scope (their own or their organisation's tickets) searches the public text only.
            public_only = "scope_requester0" in params
            where.append(self._matching(tenant, chosen.words, params, public_only=public_only, name=f"{prefix}q"))
        return where, params

    def _matching(self, tenant: str, words: str, params: dict[str, Any], *, public_only: bool, name: str = "q") -> str:
        """The condition that the ticket's words match `words` (as search does; a customer's: the public text)."""
        parsed = self.tokens.query(tenant, words)
        if self.view.postgres:
            params[name] = tsquery(parsed)
            document = "search" if public_only else "(search || internal_search)"
            return f"{document} @@ to_tsquery('simple', :{name})" if params[name] else "FALSE"
        query = fts5_query(parsed)
        if not query:
            return "0 = 1"
        params[name] = f"{PUBLIC_COLUMNS} : ({query})" if public_only else query
        return f"opened_position IN (SELECT rowid FROM intake_tickets_fts WHERE intake_tickets_fts MATCH :{name})"

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
        for tenant in {row["tenant"] for row in rows}:
            self.personal.fetch_keys(tenant, [row["title"] for row in rows if row["tenant"] == tenant])
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
        if isinstance(row.get(column), datetime):
            row[column] = _iso(row[column])
    return row


def filter_of(**fields: Any) -> TicketFilter:
    """A filter from the list's keywords: `status`, `priority` and `group_id` take one value or several."""

    def several(value: str | Sequence[str] | None) -> tuple[str, ...]:
        return () if value is None else (value,) if isinstance(value, str) else tuple(value)

    plural = {"status": "statuses", "priority": "priorities", "group_id": "group_ids"}
    named: dict[str, Any] = {plural.get(k, k): several(v) if k in plural else v for k, v in fields.items()}
    return TicketFilter(**{name: value for name, value in named.items() if value is not None})


def _instant_of(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidCursorError(f"not a cursor of this list: {text!r}") from None
