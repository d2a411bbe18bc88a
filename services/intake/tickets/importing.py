"""Importing a ticket from another desk with its history: one ticket and all its transactions become the
events our Ticket would have recorded, each at its original instant and by its original actor, marked as
imported (the `Opened` event says from where, every event's metadata from which transaction), in one save.

The ticket's id is derived from where it came from (system, url, id), so importing it again finds it and
records nothing: an import killed halfway goes on from the first ticket it had not saved. Its number is
issued by the counter of the year it was opened in, as every number is, so it never collides.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from services.chassis.storage.ids import stable_uuid
from services.chassis.storage.processing import find
from services.intake.tickets.cause import Cause, acting
from services.intake.tickets.changing import TicketChanges
from services.intake.tickets.domain import Ticket
from services.intake.tickets.errors import TicketError, TicketRuleError
from services.intake.tickets.fields import CustomFieldError
from services.intake.tickets.form import TicketForm
from services.intake.tickets.vocabulary import LinkKind, Status, WaitingFor
from services.intake.tickets.work import Opening, TicketWork

IMPORT_ACTOR = "system:import"
PENDING_FOR = timedelta(days=7)  # how long an imported "waiting" status waits: the other desk did not say


@dataclass(frozen=True)
class ImportedStep:
    """One transaction of the other desk's ticket, as one of our commands: `kind` is reply, note, status,
    owner, group, priority, fields, attachment, link, unlink or merge, `value` what it sets (a status of ours,
    an agent id, a group id, a priority, custom field values; the words of a reply or note; a file:
    attachment_id, sha256, filename, content_type, size, comment_id; a link: the other ticket's id there, the
    kind of link and what the other desk called it; an unlink: the other ticket's id there; a merge: the id
    there of the ticket it was merged into). `ticket`: the id there of the ticket merged into this one that it
    happened to (None: this one)."""

    source_id: str
    at: datetime
    actor: str  # a requester id (a person, sealed like every person)
    kind: str
    value: Any
    staff: bool = False
    ticket: str | None = None


@dataclass(frozen=True)
class ImportedTicket:
    """A ticket of another desk: where it came from, how it was opened (its words in the clear: they are
    sealed here), when and by whom, and what happened to it since, oldest first."""

    system: str
    url: str
    external_id: str
    at: datetime
    actor: str
    form: TicketForm
    steps: list[ImportedStep] = field(default_factory=list)
    merged: list[ImportedTicket] = field(default_factory=list)  # merged into it there: opened, their steps in ours

    @property
    def external_ref(self) -> str:
        """`<system>:<id>` as a tag (lower case, other characters `-`), so the ticket list finds it by its tag."""
        return re.sub(r"[^a-z0-9_.:-]", "-", f"{self.system}:{self.external_id}".lower())[:50]

    def origin(self, source_id: str | None = None) -> str:
        where = f"{self.system}:{self.url}#{self.external_id}"
        return f"{where}/{source_id}" if source_id else where


@dataclass(frozen=True)
class ImportOutcome:
    ticket_id: UUID
    number: str
    imported: bool  # False: it was imported before, nothing recorded
    refused: list[str] = field(default_factory=list)  # steps that could not be recorded, with the reason


def imported_ticket_id(tenant: str, system: str, url: str, external_id: str) -> UUID:
    return stable_uuid("imported-ticket", tenant, system, url.rstrip("/"), external_id)


class TicketImporting(TicketChanges):
    """Importing tickets, for the application (application.py)."""

    def import_ticket(self, tenant: str, imported: ImportedTicket) -> ImportOutcome:
        """Open the ticket as it was opened there and replay its history on it, in one save; an imported
        ticket is found, not imported twice."""
        ticket_id = imported_ticket_id(tenant, imported.system, imported.url, imported.external_id)
        cause = self._import_cause(tenant, imported, None, imported.actor, imported.at)
        refused: list[str] = []
        decided = self._run(cause, lambda work: self._replay(work, ticket_id, imported, refused))
        ticket = decided.work.ticket(ticket_id) if decided.work else self.get_ticket(ticket_id, tenant)
        return ImportOutcome(ticket_id, ticket.number, imported=bool(decided.recordings), refused=refused)

    def was_imported(self, tenant: str, system: str, url: str, external_id: str) -> bool:
        """Whether the ticket `external_id` of that desk was imported already."""
        ticket = find(self, imported_ticket_id(tenant, system, url, external_id), Ticket)
        return ticket is not None and ticket.tenant == tenant

    def _replay(self, work: TicketWork, ticket_id: UUID, imported: ImportedTicket, refused: list[str]) -> UUID:
        refused.clear()  # a lost race decides again
        if work.find(ticket_id) is not None:
            return ticket_id
        tenant = work.tenant
        tickets = {imported.external_id: self._opened(work, ticket_id, imported)}
        sources = {imported.external_id: imported} | {merged.external_id: merged for merged in imported.merged}
        before: set[str] = set()  # merged there, imported here before they were: only their merge is new
        for merged in imported.merged:  # merged into it there: each a ticket of its own, closed by the merge here
            merged_id = imported_ticket_id(tenant, merged.system, merged.url, merged.external_id)
            if (found := work.find(merged_id)) is not None:
                before.add(merged.external_id)
            tickets[merged.external_id] = found if found is not None else self._opened(work, merged_id, merged)

        def other(key: str) -> Ticket:
            return tickets.get(key) or _other(work, imported, key)

        for step in imported.steps:
            key = step.ticket or imported.external_id
            if key in before and step.kind != "merge":
                continue
            with acting(self._import_cause(tenant, sources[key], step.source_id, step.actor, step.at)):
                try:
                    self._apply(tickets[key], step, other)
                except (TicketError, CustomFieldError) as error:
                    refused.append(f"{step.source_id} ({step.kind}): {error}")
        return ticket_id

    def _opened(self, work: TicketWork, ticket_id: UUID, imported: ImportedTicket) -> Ticket:
        """The ticket opened as it was opened there: its words sealed, its external reference a tag."""
        tenant, form = work.tenant, imported.form
        seal = self._sealer(tenant, form.requester_id)
        words = self.digests.of_text(tenant, f"{form.title}\n{form.description}")
        origin = {"system": imported.system, "url": imported.url, "id": imported.external_id}
        fields = self._fields(tenant)
        checked = fields.check(form.custom_fields, complete=False)
        sealed = replace(
            form,
            title=seal(form.title),
            description=seal(form.description),
            custom_fields=checked,
            custom_field_kinds=fields.kinds_of(checked),
            keyword_digests=words,
            imported_from=origin,
            tags=sorted({*form.tags, imported.external_ref}),
        )
        opening = Opening(ticket_id, sealed, self._import_cause(tenant, imported, None, imported.actor, imported.at))
        return work.add(opening.ticket(work.numbers(imported.at.year)))

    def _apply(self, ticket: Ticket, step: ImportedStep, other: Callable[[str], Ticket]) -> None:
        """Record `step` on `ticket`; `other` finds another imported ticket by its id there."""
        reason = f"imported ({step.source_id})"
        match step.kind:
            case "reply" | "note":
                body = self._seal(ticket, str(step.value))
                public = step.kind == "reply"
                ticket.add_comment(step.source_id, body, public, step.actor, "import", staff=step.staff or not public)
            case "status":
                moved_to(ticket, Status(step.value), step.at, reason, self._seal(ticket, reason))
            case "owner":
                if ticket.group_id is None:
                    raise TicketRuleError("owner", "an agent is assigned within a group, and the ticket has none")
                ticket.assign(ticket.group_id, step.value, reason)
            case "group":
                ticket.assign(str(step.value), ticket.agent_id, reason)
            case "priority":
                ticket.change_priority(str(step.value), reason)
            case "attachment":  # its bytes in the blob store already (the adapter's), named by their sha256
                file = dict(step.value)
                ticket.attach(**file | {"filename": self._seal(ticket, file["filename"])})
            case "fields":
                fields = self._fields(ticket.tenant)
                checked = fields.check(dict(step.value), complete=False)
                ticket.change_custom_fields(checked, [], reason, fields.kinds_of(checked))
            case "link":
                there = f"{reason}: {step.value['as']} {step.value['ticket']}"
                ticket.link(other(step.value["ticket"]), LinkKind(step.value["kind"]), there)
            case "unlink":
                ticket.unlink(other(step.value["ticket"]), reason)
            case "merge":
                ticket.merge_into(other(str(step.value)), reason)
            case _:
                raise TicketRuleError("kind", f"no imported step {step.kind!r}")

    def _import_cause(
        self, tenant: str, imported: ImportedTicket, source_id: str | None, actor: str, at: datetime
    ) -> Cause:
        origin = imported.origin(source_id)
        return Cause(tenant, actor, origin, origin, at=at, imported_from=origin)


def _other(work: TicketWork, imported: ImportedTicket, external_id: str) -> Ticket:
    """The ticket `external_id` of the same desk, imported before (in this save or an earlier one)."""
    found = work.find(imported_ticket_id(work.tenant, imported.system, imported.url, external_id))
    if found is None:
        raise TicketRuleError("ticket", f"{imported.system}:{external_id} is not imported (not in this import)")
    return found


def moved_to(ticket: Ticket, status: Status, at: datetime, reason: str, resolution: str) -> None:
    """Move an imported ticket to `status` along our lifecycle's steps (another desk moves more freely);
    `resolution`: sealed words of a resolution, should it resolve."""
    current = Status(ticket.status)
    if status == current:
        return
    if current == Status.RESOLVED and status in (Status.OPEN, Status.PENDING):
        ticket.reopen(reason)
        current = Status.OPEN
    match status:
        case Status.NEW:
            raise TicketRuleError("status", f"a ticket never goes back to new (it is {current.value})")
        case Status.OPEN if current == Status.NEW:
            ticket.start_work(reason)
        case Status.OPEN if current == Status.PENDING:
            ticket.resume(reason)
        case Status.PENDING:
            ticket.mark_pending(WaitingFor.THIRD_PARTY, at + PENDING_FOR, reason)
        case Status.RESOLVED:
            ticket.resolve("", reason, survey=False)
        case Status.CLOSED:
            if current != Status.RESOLVED:
                ticket.resolve("", reason, survey=False)
            ticket.close(reason)
