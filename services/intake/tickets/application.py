"""Intake's event-sourced application: the commands that change tickets, and reading them back.

A ticket's words (title, description, comments, the rating's comment, the resolution,
attachment filenames) are the requester's personal data: they are sealed with the requester's
key here, before the aggregate sees them, so events, snapshots and hash chains hold only
sealed text and erasing the requester (destroying the key) erases them (`personal_data.py`).
Status, timings, priority, group and agent stay readable for reports and SLA figures.

A command whose `Cause` carries a keyed request (an `Idempotency-Key`) saves its
`IdempotentRequest` with its effect, in one transaction: a retry finds it and is answered
with the ticket as it is now, the command not run again (`_replayed`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, cast
from uuid import UUID

from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import EventStore, Mapper

from schemas.keywords import KeywordDigests
from services.chassis.storage.group_commit import GroupCommit
from services.chassis.storage.processing import ProcessRecorderMixin
from services.chassis.storage.store import CACHED
from services.intake.audit.auditor import Audit
from services.intake.audit.checkpoints import Checkpoints
from services.intake.audit.sealing import CheckedSnapshots, SealingMapper
from services.intake.macros.application import MacroCommands
from services.intake.privacy.personal_data import PersonalData
from services.intake.tickets.cause import Cause
from services.intake.tickets.commands import ChannelMessage, Reclassification, TimeEntry, reclassified
from services.intake.tickets.domain import Ticket
from services.intake.tickets.errors import TicketRuleError
from services.intake.tickets.fields import TenantFields
from services.intake.tickets.importing import TicketImporting
from services.intake.tickets.numbering import TicketNumbers
from services.intake.tickets.opening import TicketOpening
from services.intake.tickets.time_accounting import TimeAccounting
from services.intake.tickets.vocabulary import LinkKind, Status, WaitingFor
from services.intake.tickets.work import TicketWork
from services.intake.views.application import ViewCommands


class Intake(ProcessRecorderMixin, TicketOpening, TicketImporting, TimeAccounting, MacroCommands, ViewCommands):
    """(The saved views' commands are ViewCommands', services/intake/views/application.py; the macros'
    MacroCommands', services/intake/macros/application.py; time accounting's TimeAccounting',
    services/intake/tickets/time_accounting.py; importing another desk's tickets TicketImporting's,
    services/intake/tickets/importing.py.)"""

    name = "intake"
    # Cached aggregates are fast-forwarded from the store on every get, so the
    # cache saves replays without ever serving a stale version.
    env: ClassVar[dict[str, str]] = CACHED  # the desk sets its size: Settings.aggregate_cache_size
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[UUID]], int]] = {
        TicketNumbers: 100,
        Ticket: 100,
        Checkpoints: 10,
    }

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        personal: PersonalData,
        digests: KeywordDigests,
        audit_secret: bytes,
        checkpoint_seconds: float | None = None,
    ) -> None:
        """`audit_secret` seals every stored event and signs the checkpoints (services/intake/audit/chain.py);
        `checkpoint_seconds`: how often the desk checkpoints (services/intake/audit/auditor.py)."""
        self.audit_secret = audit_secret  # the mapper, made by the base class, seals with it
        super().__init__(env)
        self.audit = Audit(self, checkpoint_seconds=checkpoint_seconds)
        self.personal = personal
        self.digests = digests
        self._opening = GroupCommit(self._open_together)

    # -- the ticket's lifecycle ----------------------------------------------------

    def start_work(self, ticket_id: UUID, cause: Cause, reason: str, expected_version: int | None = None) -> Ticket:
        return self._change(ticket_id, cause, lambda t: t.start_work(reason), expected_version)

    def mark_pending(
        self,
        ticket_id: UUID,
        cause: Cause,
        waiting_for: WaitingFor,
        until: datetime,
        reason: str,
        expected_version: int | None = None,
    ) -> Ticket:
        return self._change(ticket_id, cause, lambda t: t.mark_pending(waiting_for, until, reason), expected_version)

    def resume(self, ticket_id: UUID, cause: Cause, reason: str, expected_version: int | None = None) -> Ticket:
        return self._change(ticket_id, cause, lambda t: t.resume(reason), expected_version)

    def resolve(
        self, ticket_id: UUID, cause: Cause, resolution: str, reason: str, expected_version: int | None = None
    ) -> Ticket:
        return self._change(ticket_id, cause, lambda t: t.resolve(self._seal(t, resolution), reason), expected_version)

    def reopen(self, ticket_id: UUID, cause: Cause, reason: str, expected_version: int | None = None) -> Ticket:
        return self._change(ticket_id, cause, lambda t: t.reopen(reason), expected_version)

    def close_ticket(self, ticket_id: UUID, cause: Cause, reason: str, expected_version: int | None = None) -> Ticket:
        """(`close` is the application's own: it closes the store.)"""
        return self._change(ticket_id, cause, lambda t: t.close(reason), expected_version)

    # -- conversation: the requester's words, sealed before the ticket records them ------------

    def comment(
        self,
        ticket_id: UUID,
        cause: Cause,
        comment_id: str,
        body: str,
        public: bool,
        channel: str,
        expected_version: int | None = None,
        *,
        staff: bool,
        time_entry: TimeEntry | None = None,
    ) -> Ticket:
        """`staff`: the actor is authenticated as an agent, supervisor or admin; `time_entry`: time worked,
        logged with the reply in the same save."""
        billable = self.billable_of(cause.tenant, time_entry) if time_entry is not None else False

        def command(t: Ticket) -> None:
            t.add_comment(comment_id, self._seal(t, body), public, cause.actor, channel, staff=staff)
            if time_entry is not None:
                self._log(t, cause, time_entry, billable)

        return self._change(ticket_id, cause, command, expected_version)

    def rate(
        self, ticket_id: UUID, cause: Cause, score: int, comment: str, expected_version: int | None = None
    ) -> Ticket:
        def command(t: Ticket) -> None:
            t.rate(score, self._seal(t, comment) if comment else "", "rated by the requester")

        return self._change(ticket_id, cause, command, expected_version)

    def attach(
        self, ticket_id: UUID, cause: Cause, attachment: dict[str, Any], expected_version: int | None = None
    ) -> Ticket:
        """`attachment`: attachment_id, sha256, filename, content_type, size, comment_id."""

        def command(t: Ticket) -> None:
            t.attach(**attachment | {"filename": self._seal(t, attachment["filename"])})

        return self._change(ticket_id, cause, command, expected_version)

    def attach_files(self, ticket_id: UUID, cause: Cause, files: list[dict[str, Any]]) -> Ticket:
        """The files a channel's message carried, those not attached yet (a message delivered again attaches
        nothing twice); each: attachment_id, sha256, filename, content_type, size, comment_id."""
        return self._change(ticket_id, cause, lambda t: self._attach_new(t, files))

    def add_message(self, ticket_id: UUID, cause: Cause, message: ChannelMessage) -> tuple[Ticket, bool]:
        """A channel's message on the ticket of its thread, once (False: it was added before): a public comment
        by the cause's actor (a resolved ticket reopens when its requester wrote again), and its files."""
        added: list[bool] = []

        def command(t: Ticket) -> None:
            added[:] = [message.comment_id not in t.comments]
            if added[0]:
                body = self._seal(t, message.text)
                t.add_comment(message.comment_id, body, True, cause.actor, message.channel, staff=message.staff)
                if t.status == Status.RESOLVED.value and message.from_requester:
                    t.reopen(f"the requester wrote again ({message.channel})")
            self._attach_new(t, message.files)

        ticket = self._change(ticket_id, cause, command)
        return ticket, bool(added and added[0])

    # -- classification and assignment -------------------------------------------------

    def change_priority(
        self, ticket_id: UUID, cause: Cause, priority: str, reason: str, expected_version: int | None = None
    ) -> Ticket:
        return self._change(ticket_id, cause, lambda t: t.change_priority(priority, reason), expected_version)

    def recategorize(
        self, ticket_id: UUID, cause: Cause, category: str, reason: str, expected_version: int | None = None
    ) -> Ticket:
        return self._change(ticket_id, cause, lambda t: t.recategorize(category, reason), expected_version)

    def retype(
        self, ticket_id: UUID, cause: Cause, type: str, reason: str, expected_version: int | None = None
    ) -> Ticket:
        return self._change(ticket_id, cause, lambda t: t.retype(type, reason), expected_version)

    def retag(
        self,
        ticket_id: UUID,
        cause: Cause,
        add: list[str],
        remove: list[str],
        reason: str,
        expected_version: int | None = None,
    ) -> Ticket:
        return self._change(ticket_id, cause, lambda t: t.retag(add, remove, reason), expected_version)

    def change_custom_fields(
        self,
        ticket_id: UUID,
        cause: Cause,
        values: dict[str, Any],
        unset: list[str],
        reason: str,
        expected_version: int | None = None,
    ) -> Ticket:
        fields = self._fields(cause.tenant)
        checked = fields.check(values, complete=False)
        kinds = fields.kinds_of(checked)
        return self._change(
            ticket_id, cause, lambda t: t.change_custom_fields(checked, unset, reason, kinds), expected_version
        )

    def reclassify(
        self, ticket_id: UUID, cause: Cause, change: Reclassification, expected_version: int | None = None
    ) -> Ticket:
        """Several of priority, category, type, tags and custom fields at once: one transaction, an event each
        for what differs."""
        fields = self._fields(cause.tenant)
        checked = fields.check(change.custom_fields, complete=False)
        kinds = fields.kinds_of(checked)
        return self._change(ticket_id, cause, lambda t: reclassified(t, change, checked, kinds), expected_version)

    def assign(
        self,
        ticket_id: UUID,
        cause: Cause,
        group_id: str,
        agent_id: str | None,
        reason: str,
        expected_version: int | None = None,
    ) -> Ticket:
        return self._change(ticket_id, cause, lambda t: t.assign(group_id, agent_id, reason), expected_version)

    def unassign(self, ticket_id: UUID, cause: Cause, reason: str, expected_version: int | None = None) -> Ticket:
        return self._change(ticket_id, cause, lambda t: t.unassign(reason), expected_version)

    # -- relations between tickets -------------------------------------------------------

    def merge(
        self, source_id: UUID, target_id: UUID, reason: str, cause: Cause, expected_version: int | None = None
    ) -> Ticket:
        def decide(work: TicketWork) -> UUID:
            work.ticket(source_id, expected_version).merge_into(work.ticket(target_id), reason)
            return source_id

        return self._ticket_of(self._run(cause, decide, expected_version), source_id, cause)

    def link(self, ticket_id: UUID, other_id: UUID, kind: LinkKind, reason: str, cause: Cause) -> Ticket:
        def decide(work: TicketWork) -> UUID:
            work.ticket(ticket_id).link(work.ticket(other_id), kind, reason)
            return ticket_id

        return self._ticket_of(self._run(cause, decide), ticket_id, cause)

    def unlink(self, ticket_id: UUID, other_id: UUID, reason: str, cause: Cause) -> Ticket:
        def decide(work: TicketWork) -> UUID:
            work.ticket(ticket_id).unlink(work.ticket(other_id), reason)
            return ticket_id

        return self._ticket_of(self._run(cause, decide), ticket_id, cause)

    def link_solution(
        self, ticket_id: UUID, cause: Cause, article_id: str, expected_version: int | None = None
    ) -> Ticket:
        return self._change(ticket_id, cause, lambda t: t.link_solution(article_id), expected_version)

    # -- custom fields -----------------------------------------------------------

    def define_field(
        self, tenant: str, key: str, label: str, kind: str, required: bool, choices: list[str], actor: str
    ) -> TenantFields:
        fields = self._fields(tenant)
        fields.define(key, label, kind, required, choices, actor)
        self.save(fields)
        return fields

    def retire_field(self, tenant: str, key: str, actor: str) -> TenantFields:
        fields = self._fields(tenant)
        if key not in fields.active():
            raise TicketRuleError("key", f"no active field {key!r}")
        fields.retire(key, actor)
        self.save(fields)
        return fields

    def fields_of(self, tenant: str) -> TenantFields:
        return self._fields(tenant)

    def check_custom_fields(self, tenant: str, values: dict[str, Any]) -> dict[str, Any]:
        return self._fields(tenant).check(values, complete=False)

    # -- internals -----------------------------------------------------------------

    def construct_mapper(self) -> Mapper[UUID]:
        return SealingMapper(super().construct_mapper(), self.audit_secret)

    def construct_snapshot_store(self) -> EventStore[UUID]:
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        return CheckedSnapshots(cast(SealingMapper, self.mapper), recorder, self.recorder)
