"""A Request Tracker ticket as our ticket: its fields and every transaction as one of our commands, or a
reason why it cannot be one.

The mapping, column by column: docs/import.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from services.importer.rt_client import RtFile, RtTicket, RtTransaction, RtUser
from services.importer.run import Mapped
from services.intake.tickets.form import TicketForm
from services.intake.tickets.importing import ImportedStep, ImportedTicket

SYSTEM = "rt"
SYSTEM_USERS = {"RT_System": "system:rt", "Nobody": "system:rt"}
_STATUSES = {"new": "new", "open": "open", "stalled": "pending", "resolved": "resolved", "rejected": "resolved",
             "deleted": "closed"}  # fmt: skip
# Transactions that record nothing our ticket keeps: mail RT sent, watchers, its own bookkeeping.
IGNORED = {"EmailRecord", "CommentEmailRecord", "SetWatcher", "AddWatcher", "DelWatcher", "Told"}

Person = Callable[[RtUser], str]  # an RT user's requester id here


def priority_of(value: int) -> str:
    return "P4" if value < 40 else "P3" if value < 70 else "P2" if value < 90 else "P1"


def priority_at_creation(rt: RtTicket) -> int:
    """The priority it was opened with: the first change's old value, else the one it has."""
    first = next((t for t in rt.transactions if t.type == "Set" and t.field == "Priority"), None)
    return int(first.old or 0) if first is not None else rt.priority


def slug(name: str, joiner: str = "-") -> str:
    return re.sub(r"[^a-z0-9]+", joiner, name.lower()).strip(joiner) or "general"


class RtMapping:
    """Maps the tickets of the RT at `url`; `user` reads an RT user by name or id, `person` makes them one
    of our people, `fields` are the tenant's custom field keys."""

    def __init__(self, url: str, user: Callable[[str], RtUser], person: Person, fields: set[str]) -> None:
        self.url = url.rstrip("/")
        self.user = user
        self.person = person
        self.fields = fields

    def actor(self, name: str) -> tuple[str, bool]:
        """The actor here of an RT user (a person, or the RT system), and whether they are staff."""
        if name in SYSTEM_USERS:
            return SYSTEM_USERS[name], True
        user = self.user(name)
        return self.person(user), user.privileged

    def ticket(self, rt: RtTicket) -> Mapped:
        requester, _ = self.actor(rt.requestors[0] if rt.requestors else rt.creator)
        creator, _ = self.actor(rt.creator)
        create = next((t for t in rt.transactions if t.type == "Create"), None)
        group = slug(rt.queue)
        unmapped: list[str] = []
        form = TicketForm(
            title=rt.subject or f"RT #{rt.id}",
            description=(create.content if create else None) or "",
            requester_id=requester,
            channel="email",
            category=group,
            type="request",
            priority=priority_of(priority_at_creation(rt)),
            group_id=group,
        )
        steps: list[ImportedStep] = []
        for transaction in rt.transactions:
            if transaction.type != "Create" and transaction.type not in IGNORED:
                step, reason = self._step(transaction)
                if step is not None:
                    steps.append(step)
                elif reason:
                    unmapped.append(f"transaction {transaction.id} {transaction.type}: {reason}")
            comment = None if transaction.type == "Create" else transaction.id
            steps += [self._file(transaction, file, comment) for file in transaction.files]
        imported = ImportedTicket(SYSTEM, self.url, rt.id, create.at if create else rt.created, creator, form, steps)
        return Mapped(imported, unmapped)

    def _file(self, t: RtTransaction, file: RtFile, comment_id: str | None) -> ImportedStep:
        """A file of a message: after the comment it came with (its bytes go to the blob store first)."""
        actor, staff = self.actor(t.creator)
        value = {"attachment_id": f"rt-{file.id}", "filename": file.filename, "content_type": file.content_type,
                 "content": file.content, "comment_id": comment_id}  # fmt: skip
        return ImportedStep(f"{t.id}/{file.id}", t.at, actor, "attachment", value, staff)

    def _step(self, t: RtTransaction) -> tuple[ImportedStep | None, str | None]:
        actor, staff = self.actor(t.creator)

        def step(kind: str, value: object) -> tuple[ImportedStep, None]:
            return ImportedStep(t.id, t.at, actor, kind, value, staff), None

        match t.type, t.field:
            case "Correspond", _:
                return step("reply", t.content or "")
            case "Comment", _:
                return step("note", t.content or "")
            case "Status", _:
                if t.new not in _STATUSES:
                    return None, f"status {t.new!r} has no status here"
                return step("status", _STATUSES[t.new])
            case "Set", "Owner":
                owner = self.user(t.new).name
                return step("owner", None if owner in SYSTEM_USERS else self.actor(owner)[0])
            case "Set", "Queue":
                return None, "a move to another queue: the ticket stays in the group it was opened in"
            case "Set", "Priority":
                return step("priority", priority_of(int(t.new or 0)))
            case "CustomField", _:
                key = slug(t.field, "_")
                if key not in self.fields:
                    return None, f"custom field {t.field!r}: no field {key!r} here"
                return step("fields", {key: t.new})
        return None, f"{t.type} {t.field}".strip() + " has nothing here that records it"
