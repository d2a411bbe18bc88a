"""A plain export as our tickets: one row per ticket, and an optional file of one row per comment. The
columns, and what each becomes, are in docs/import.md; a row that cannot be a ticket says why."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from services.importer.run import Mapped
from services.intake.tickets.form import TicketForm
from services.intake.tickets.importing import ImportedStep, ImportedTicket

SYSTEM = "csv"
STATUSES = {"new", "open", "pending", "resolved", "closed"}
PRIORITIES = {"P1", "P2", "P3", "P4"}
TYPES = {"incident", "request", "question", "problem"}
REQUIRED = ("id", "subject", "created", "requester_email")
COMMENT_COLUMNS = ("ticket_id", "created", "author_email", "body")
Person = Callable[[str, str | None], str]  # (e-mail address, name) -> requester id


class CsvSource:
    """The tickets of `tickets` (and their comments in `comments`); `fields`: the tenant's custom field keys,
    `person` makes an address one of our people."""

    def __init__(self, tickets: Path, comments: Path | None, fields: set[str], person: Person) -> None:
        self.url = f"file:{tickets.name}"
        self.fields = fields
        self.person = person
        with tickets.open(newline="", encoding="utf-8") as file:
            self.rows = {row.get("id", ""): row for row in csv.DictReader(file)}
        self.comments: dict[str, list[dict[str, str]]] = defaultdict(list)
        if comments is not None:
            with comments.open(newline="", encoding="utf-8") as file:
                for number, row in enumerate(csv.DictReader(file), start=2):
                    self.comments[row.get("ticket_id", "")].append(row | {"line": str(number)})

    def keys(self) -> list[str]:
        return list(self.rows)

    def ticket(self, key: str) -> Mapped:
        """The row as a ticket: ValueError naming the column when it cannot be one."""
        row = self.rows[key]
        for column in REQUIRED:
            if not (row.get(column) or "").strip():
                raise ValueError(f"column {column!r} is empty")
        status, priority = row.get("status") or "new", row.get("priority") or "P3"
        kind = row.get("type") or "request"
        for column, value, allowed in (("status", status, STATUSES), ("priority", priority, PRIORITIES),
                                       ("type", kind, TYPES)):  # fmt: skip
            if value not in allowed:
                raise ValueError(f"column {column!r}: {value!r} is none of {', '.join(sorted(allowed))}")
        created = instant(row["created"], "created")
        unmapped: list[str] = []
        custom: dict[str, str] = {}
        for column, value in row.items():
            if column.startswith("cf.") and value:
                if column[3:] in self.fields:
                    custom[column[3:]] = value
                else:
                    unmapped.append(f"column {column!r}: no custom field {column[3:]!r} here")
        requester = self.person(row["requester_email"], row.get("requester_name") or None)
        group = row.get("queue") or None
        form = TicketForm(
            title=row["subject"],
            description=row.get("description") or "",
            requester_id=requester,
            channel="email",
            category=row.get("category") or group or "general",
            type=kind,
            priority=priority,
            tags=[tag for tag in (row.get("tags") or "").split(";") if tag],
            custom_fields=custom,
            group_id=group,
        )
        steps = self._comments(key, unmapped)
        updated = instant(row.get("updated") or row["created"], "updated")
        if owner := row.get("owner_email"):
            steps.append(ImportedStep("owner", created, requester, "owner", self.person(owner, None), True))
        if status != "new":
            steps.append(ImportedStep("status", updated, requester, "status", status, True))
        steps.sort(key=lambda step: step.at)
        return Mapped(ImportedTicket(SYSTEM, self.url, key, created, requester, form, steps), unmapped)

    def _comments(self, key: str, unmapped: list[str]) -> list[ImportedStep]:
        steps = []
        for row in self.comments.get(key, []):
            where = f"comments line {row['line']}"
            missing = [column for column in COMMENT_COLUMNS if not (row.get(column) or "").strip()]
            if missing:
                unmapped.append(f"{where}: column {missing[0]!r} is empty")
                continue
            try:
                at = instant(row["created"], "created")
            except ValueError as error:
                unmapped.append(f"{where}: {error}")
                continue
            public = (row.get("public") or "true").lower() in ("true", "1", "yes")
            staff = (row.get("staff") or "false").lower() in ("true", "1", "yes")
            author = self.person(row["author_email"], row.get("author_name") or None)
            kind = "reply" if public else "note"
            steps.append(ImportedStep(f"comment-{row['line']}", at, author, kind, row["body"], staff))
        return steps


def instant(text: str, column: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"column {column!r}: {text!r} is no ISO 8601 instant") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)
