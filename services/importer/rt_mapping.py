"""A Request Tracker ticket as our ticket: its fields and every transaction as one of our commands, or a
reason why it cannot be one.

The mapping, column by column: docs/import.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from services.importer.rt_client import RtFile, RtTicket, RtTransaction, RtUser
from services.importer.rt_links import Links
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


def slug(name: str, joiner: str = "-") -> str:
    return re.sub(r"[^a-z0-9]+", joiner, name.lower()).strip(joiner) or "general"


class RtMapping:
    """Maps the tickets of the RT at `url`; `user` reads an RT user by name or id, `person` makes them one
    of our people, `fields` are the tenant's custom field keys, `queue` names a queue by its id; `links`
    decides what becomes of a link to another ticket (rt_links.py)."""

    def __init__(
        self,
        url: str,
        user: Callable[[str], RtUser],
        person: Person,
        fields: set[str],
        queue: Callable[[str], str] = str,
        links: Links | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.user = user
        self.person = person
        self.fields = fields
        self.queue = queue
        self.links = links or Links(lambda key: key, [], lambda key: False)

    def actor(self, name: str) -> tuple[str, bool]:
        """The actor here of an RT user (a person, or the RT system), and whether they are staff."""
        if name in SYSTEM_USERS:
            return SYSTEM_USERS[name], True
        user = self.user(name)
        return self.person(user), user.privileged

    def ticket(self, rt: RtTicket) -> Mapped:
        """The ticket, and each ticket merged into it there (its transactions are among the ticket's: RT
        keeps them there) as a ticket of its own that the merge closes."""
        requester, _ = self.actor(rt.requestors[0] if rt.requestors else rt.creator)
        unmapped: list[str] = []
        own = [t for t in rt.transactions if t.ticket in ("", rt.id)]
        opened = self._opened(rt.id, own, requester, rt.subject, rt.queue, rt.priority, rt.created, rt.creator)
        merged: list[ImportedTicket] = []
        for key in dict.fromkeys(t.ticket for t in rt.transactions if t.ticket not in ("", rt.id)):
            theirs = [t for t in rt.transactions if t.ticket == key]
            if not any(t.type == "Create" for t in theirs):
                unmapped.append(f"merged ticket {key}: its creation is not in the history: not imported")
                continue
            merged.append(self._opened(key, theirs, requester, None, rt.queue, rt.priority, rt.created, rt.creator))
        group = {rt.id, *(ticket.external_id for ticket in merged)}
        steps = self.links.created(rt, opened.at, (opened.actor, False), group, unmapped)
        for transaction in rt.transactions:
            on = None if transaction.ticket in ("", rt.id) else transaction.ticket
            if on is not None and on not in group:
                continue
            if transaction.type in ("AddLink", "DeleteLink"):
                step, reason = self.links.step(rt, transaction, self.actor(transaction.creator), group, on)
            elif transaction.type != "Create" and transaction.type not in IGNORED:
                step, reason = self._step(transaction)
            else:
                step, reason = None, None
            if step is not None:
                steps.append(replace(step, ticket=on))
            elif reason:
                unmapped.append(f"transaction {transaction.id} {transaction.type}: {reason}")
            comment = None if transaction.type == "Create" else transaction.id
            steps += [replace(self._file(transaction, file, comment), ticket=on) for file in transaction.files]
        return Mapped(replace(opened, steps=steps, merged=merged), unmapped)

    def _opened(
        self,
        key: str,
        transactions: list[RtTransaction],
        requester: str,
        subject: str | None,
        queue: str,
        priority: int,
        created: datetime,
        creator: str,
    ) -> ImportedTicket:
        """Ticket `key` as it was opened: in the queue and with the priority it had then (the first move's
        old value; else what it has now), its words those of its creation."""
        create = next((t for t in transactions if t.type == "Create"), None)
        moved = next((t for t in transactions if t.type == "Set" and t.field == "Queue"), None)
        group = slug(self.queue(moved.old) if moved is not None else queue)
        reprioritised = next((t for t in transactions if t.type == "Set" and t.field == "Priority"), None)
        form = TicketForm(
            title=subject or (create.subject if create else None) or f"RT #{key}",
            description=(create.content if create else None) or "",
            requester_id=requester,
            channel="email",
            category=group,
            type="request",
            priority=priority_of(int(reprioritised.old or 0) if reprioritised is not None else priority),
            group_id=group,
        )
        # RT stamps the ticket's Created before its Create transaction, and the two can fall in different seconds:
        # the ticket opens at the earlier, as RT lists it, and before every step of its history.
        at, by = (min(create.at, created), create.creator) if create is not None else (created, creator)
        return ImportedTicket(SYSTEM, self.url, key, at, self.actor(by)[0], form)

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
                return step("group", slug(self.queue(t.new)))
            case "Set", "Priority":
                return step("priority", priority_of(int(t.new or 0)))
            case "CustomField", _:
                key = slug(t.field, "_")
                if key not in self.fields:
                    return None, f"custom field {t.field!r}: no field {key!r} here"
                return step("fields", {key: t.new})
        return None, f"{t.type} {t.field}".strip() + " has nothing here that records it"
