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

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, ClassVar, cast
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, MutableOrImmutableAggregate
from eventsourcing.persistence import EventStore, IntegrityError, Mapper, Recording

from schemas.keywords import KeywordDigests
from services.chassis.storage.group_commit import GroupCommit
from services.chassis.storage.idempotency import IdempotentRequest, KeyedRequest
from services.chassis.storage.keyed_commands import carried_out, record_of
from services.chassis.storage.processing import ProcessRecorderMixin, UnitOfWork, as_of, commit, find
from services.intake.audit.auditor import Audit, Verification
from services.intake.audit.checkpoints import Checkpoints
from services.intake.audit.sealing import CheckedSnapshots, SealingMapper
from services.intake.privacy.personal_data import PersonalData
from services.intake.tickets.cause import Cause, acting
from services.intake.tickets.commands import ChannelMessage, Reclassification
from services.intake.tickets.domain import Ticket
from services.intake.tickets.errors import TicketRuleError
from services.intake.tickets.fields import TenantFields
from services.intake.tickets.form import TicketForm
from services.intake.tickets.numbering import TicketNumbers
from services.intake.tickets.representations import (
    AttachmentView,
    CommentView,
    HistoryEntry,
    TicketView,
    history_entry,
    ticket_view,
)
from services.intake.tickets.vocabulary import LinkKind, Status, WaitingFor


@dataclass(frozen=True)
class Opening:
    """One queued request to open a ticket."""

    ticket_id: UUID
    form: TicketForm
    cause: Cause

    def ticket(self, numbers: TicketNumbers) -> Ticket:
        numbers.issue()
        with acting(self.cause):
            return Ticket.open_from(self.ticket_id, numbers.current, self.form)


class TicketNotFoundError(LookupError):
    pass


class StaleVersionError(Exception):
    """The ticket changed since the version the client read (If-Match)."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"the ticket is at version {current}, not {expected}: read it again")
        self.expected = expected
        self.current = current


@dataclass(frozen=True)
class OpenedTicket:
    ticket: Ticket
    position: int | None  # store position of TicketOpened; None when it was opened before
    created: bool


class Intake(ProcessRecorderMixin, Application[UUID]):
    name = "intake"
    # Cached aggregates are fast-forwarded from the store on every get, so the
    # cache saves replays without ever serving a stale version.
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "10000"}
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

    # -- opening ---------------------------------------------------------------

    def open_ticket(
        self, ticket_id: UUID | None, form: TicketForm, cause: Cause, follow_up_of: UUID | None = None
    ) -> OpenedTicket:
        """Number and open a ticket (`ticket_id` None: the id is derived from the request's key, or new).
        Opening an id that exists returns that ticket unchanged: a retried request (same idempotency key)
        never opens a second one."""
        if (done := self._replayed(cause)) is not None:
            return OpenedTicket(self.get_ticket(UUID(done.subject), cause.tenant), position=None, created=False)
        ticket_id = ticket_id or _new_id(cause)
        custom_fields = self._fields(cause.tenant).check(form.custom_fields, complete=True)
        seal = self._sealer(cause.tenant, form.requester_id)
        words = self.digests.of_text(cause.tenant, f"{form.title}\n{form.description}")
        if follow_up_of is not None:
            self.get_ticket(follow_up_of, cause.tenant)
        follows = str(follow_up_of) if follow_up_of else None
        sealed = replace(form, title=seal(form.title), description=seal(form.description))
        checked = replace(sealed, custom_fields=custom_fields, follow_up_of=follows, keyword_digests=words)
        opening = Opening(ticket_id, checked, cause)
        opened = self._opening.submit((cause.tenant, datetime.now(UTC).year), opening)
        if not opened.created:
            self._replayed(cause)  # a twin of this request came first: the same one, or refused
        return opened

    def split(self, ticket_id: UUID, comment_id: str, title: str, cause: Cause) -> OpenedTicket:
        """Open a new ticket from one comment of `ticket_id`; both record the split."""

        def decide(work: TicketWork) -> UUID:
            source, new_id = work.ticket(ticket_id), _new_id(cause)
            seal = self._sealer(cause.tenant, source.requester_id)
            comment = source.split_off(comment_id, new_id, reason=seal(f"split into a ticket: {title}"))
            body = self.personal.unseal(cause.tenant, comment["body"])
            words = self.digests.of_text(cause.tenant, f"{title}\n{body}")
            form = TicketForm(
                seal(title),
                comment["body"],
                source.requester_id,
                comment["channel"],
                source.category,
                source.type,
                source.priority,
                list(source.tags),
                organisation=source.organisation,
                split_from=str(source.id),
                keyword_digests=words,
            )
            opening = Opening(new_id, form, cause)
            work.add(opening.ticket(work.numbers(datetime.now(UTC).year)))
            return new_id

        decided = self._run(cause, decide)
        if decided.work is None:
            return OpenedTicket(self.get_ticket(decided.subject, cause.tenant), position=None, created=False)
        new = decided.work.ticket(decided.subject)
        return OpenedTicket(new, _position_of(decided.recordings, new.id), created=True)

    # -- the ticket's lifecycle ----------------------------------------------------

    def start_work(self, ticket_id: UUID, cause: Cause, reason: str, expected_version: int | None = None) -> Ticket:
        return self._change(ticket_id, cause, lambda t: t.start_work(reason), expected_version)

    def mark_pending(
        self, ticket_id: UUID, cause: Cause, waiting_for: WaitingFor, until: datetime, reason: str,
        expected_version: int | None = None,
    ) -> Ticket:  # fmt: skip
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
        self, ticket_id: UUID, cause: Cause, comment_id: str, body: str, public: bool, channel: str,
        expected_version: int | None = None, *, staff: bool,
    ) -> Ticket:  # fmt: skip
        """`staff`: the actor is authenticated as an agent, supervisor or admin."""

        def command(t: Ticket) -> None:
            t.add_comment(comment_id, self._seal(t, body), public, cause.actor, channel, staff=staff)

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
        self, ticket_id: UUID, cause: Cause, add: list[str], remove: list[str], reason: str,
        expected_version: int | None = None,
    ) -> Ticket:  # fmt: skip
        return self._change(ticket_id, cause, lambda t: t.retag(add, remove, reason), expected_version)

    def change_custom_fields(
        self, ticket_id: UUID, cause: Cause, values: dict[str, Any], unset: list[str], reason: str,
        expected_version: int | None = None,
    ) -> Ticket:  # fmt: skip
        checked = self.check_custom_fields(cause.tenant, values)
        return self._change(
            ticket_id, cause, lambda t: t.change_custom_fields(checked, unset, reason), expected_version
        )

    def reclassify(
        self, ticket_id: UUID, cause: Cause, change: Reclassification, expected_version: int | None = None
    ) -> Ticket:
        """Several of priority, category, type, tags and custom fields at once: one transaction, an event each
        for what differs."""
        checked = self.check_custom_fields(cause.tenant, change.custom_fields)
        return self._change(ticket_id, cause, lambda t: _reclassified(t, change, checked), expected_version)

    def assign(
        self, ticket_id: UUID, cause: Cause, group_id: str, agent_id: str | None, reason: str,
        expected_version: int | None = None,
    ) -> Ticket:  # fmt: skip
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

    # -- reading -----------------------------------------------------------------

    def get_ticket(self, ticket_id: UUID, tenant: str) -> Ticket:
        ticket = find(self, ticket_id, Ticket)
        if ticket is None or ticket.tenant != tenant:
            raise TicketNotFoundError(ticket_id)
        return ticket

    def ticket_as_of(self, ticket_id: UUID, tenant: str, instant: datetime) -> Ticket:
        """The ticket exactly as it was at `instant`: the latest snapshot before it, then events."""
        self._check_tenant(ticket_id, tenant)
        ticket = as_of(self, ticket_id, instant, self.snapshots)
        if not isinstance(ticket, Ticket):
            raise TicketNotFoundError(ticket_id)
        return ticket

    def history(self, ticket_id: UUID, tenant: str) -> Iterator[Ticket.Event]:
        self._check_tenant(ticket_id, tenant)
        for domain_event in self.events.get(ticket_id):
            assert isinstance(domain_event, Ticket.Event)
            yield domain_event

    def view(self, ticket: Ticket, *, public_only: bool = False) -> TicketView:
        """The ticket as its reader sees it, its sealed words opened (`[erased]` once the requester was erased);
        for a customer (`public_only`) without the internal notes."""
        view = ticket_view(ticket, self.personal)
        if public_only:
            return view.model_copy(update={"comments": [c for c in view.comments if c.public]})
        return view

    def view_as_of(self, ticket_id: UUID, tenant: str, instant: datetime, *, public_only: bool = False) -> TicketView:
        return self.view(self.ticket_as_of(ticket_id, tenant, instant), public_only=public_only)

    def attachments_of(self, ticket: Ticket) -> list[AttachmentView]:
        """The ticket's attachments, their filenames opened."""
        opened = self.personal.opened(ticket.tenant, ticket.attachments)
        return [AttachmentView(id=key, **value) for key, value in opened.items()]

    def story(self, ticket_id: UUID, tenant: str) -> list[HistoryEntry]:
        """Every event of the ticket in its own words, sealed words opened."""
        return [history_entry(event, self.personal) for event in self.history(ticket_id, tenant)]

    def public_comments_after(
        self, ticket_id: UUID, tenant: str, after: str | None, not_by: str
    ) -> tuple[list[CommentView], str | None]:
        """The public comments (opened) since comment `after` (all when None) by anyone but `not_by`, and the
        ticket's newest comment; TicketNotFoundError for another tenant's."""
        ticket = self.get_ticket(ticket_id, tenant)
        ids = list(ticket.comments)
        start = ids.index(after) + 1 if after in ticket.comments else 0
        found = []
        for comment_id in ids[start:]:
            comment = ticket.comments[comment_id]
            if comment["public"] and comment["author_id"] != not_by:
                found.append(
                    CommentView(id=comment_id, **comment | {"body": self.personal.unseal(tenant, comment["body"])})
                )
        return found, ids[-1] if ids else after

    def verify(self, ticket_id: UUID | None = None, tenant: str | None = None) -> Verification:
        """Check one ticket's history, or every stream's in the store (of `tenant`, when given),
        against the seals and the newest checkpoints; name every stream's first problem."""
        if ticket_id is not None and tenant is not None:
            self._check_tenant(ticket_id, tenant)
        return self.audit.verify(ticket_id, tenant)

    # -- internals -----------------------------------------------------------------

    def keyed_before(self, tenant: str, request: KeyedRequest | None) -> bool:
        """Whether the caller's key was used before (for this request or another): a retry makes nothing new,
        so an adapter may skip what only a first request needs (storing a file, checking against the clock)."""
        return request is not None and find(self, request.id, IdempotentRequest) is not None

    def as_stored(self, tenant: str, request: KeyedRequest) -> KeyedRequest:
        """The request with its fingerprint as stored: keyed (HMAC), so a guessed body cannot be confirmed
        from the store."""
        return KeyedRequest(request.id, request.key, self.digests.digest(tenant, request.fingerprint))

    def _change(
        self, ticket_id: UUID, cause: Cause, command: Callable[[Ticket], None], expected_version: int | None = None
    ) -> Ticket:
        """Run `command` on the ticket, as every command on one ticket does."""

        def decide(work: TicketWork) -> UUID:
            command(work.ticket(ticket_id, expected_version))
            return ticket_id

        return self._ticket_of(self._run(cause, decide, expected_version), ticket_id, cause)

    def _run(self, cause: Cause, decide: Callable[[TicketWork], UUID], expected_version: int | None = None) -> Decided:
        """The one path of every change: `decide` reads fresh state into a unit of work and runs the ticket's
        commands (as `cause`), answering what the request made; `commit` saves what changed with the record
        of a keyed request, in one transaction. A lost race decides again on fresh state, except that a change
        made on a stale read (If-Match) is refused; a keyed retry (or its twin's) decides nothing."""
        decided: list[Decided] = []

        def attempt() -> list[Aggregate]:
            if (done := self._replayed(cause)) is not None:
                decided[:] = [Decided(UUID(done.subject), None)]
                return []
            if decided and expected_version is not None:  # the last attempt lost a race
                raise StaleVersionError(expected_version, expected_version + 1)
            work = TicketWork(self, cause.tenant)
            with acting(cause):
                subject = decide(work)
            decided[:] = [Decided(subject, work)]
            return [*work.changed(), *self._recorded(cause, subject)]

        recordings = commit(self, attempt)
        return Decided(decided[0].subject, decided[0].work, recordings)

    def _ticket_of(self, decided: Decided, ticket_id: UUID, cause: Cause) -> Ticket:
        """The ticket as the command left it; after a keyed retry, as it is now."""
        if decided.work is None:
            return self.get_ticket(ticket_id, cause.tenant)
        return decided.work.ticket(ticket_id)

    def _seal(self, ticket: Ticket, text: str) -> str:
        """`text` sealed with the key of the ticket's requester: for a command that records words."""
        return self.personal.seal(ticket.tenant, ticket.requester_id, text)

    def _sealer(self, tenant: str, requester_id: str) -> Callable[[str], str]:
        return lambda text: self.personal.seal(tenant, requester_id, text)

    def _attach_new(self, ticket: Ticket, files: list[dict[str, Any]]) -> None:
        for file in files:
            if file["attachment_id"] not in ticket.attachments:
                ticket.attach(**file | {"filename": self._seal(ticket, file["filename"])})

    def _replayed(self, cause: Cause) -> IdempotentRequest | None:
        """The record of the keyed request `cause` answers, when it was carried out before (a retry);
        IdempotencyKeyReusedError when the caller's key was used for a different request."""
        keyed = cause.request and self.as_stored(cause.tenant, cause.request)
        return carried_out(self, keyed, cause.tenant)

    def _recorded(self, cause: Cause, subject: UUID) -> list[IdempotentRequest]:
        """What to save with the effect of a keyed request: its record (nothing for an unkeyed one)."""
        keyed = cause.request and self.as_stored(cause.tenant, cause.request)
        return record_of(keyed, cause.tenant, str(subject))

    def construct_mapper(self) -> Mapper[UUID]:
        return SealingMapper(super().construct_mapper(), self.audit_secret)

    def construct_snapshot_store(self) -> EventStore[UUID]:
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        return CheckedSnapshots(cast(SealingMapper, self.mapper), recorder, self.recorder)

    def _check_tenant(self, ticket_id: UUID, tenant: str) -> None:
        """Whether the ticket is the tenant's, without copying it out of the cache."""
        try:
            ticket: object = self.repository.get(ticket_id, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            raise TicketNotFoundError(ticket_id) from None
        if not isinstance(ticket, Ticket) or ticket.tenant != tenant:
            raise TicketNotFoundError(ticket_id)

    def _open_together(self, key: tuple[str, int], openings: list[Opening]) -> list[OpenedTicket]:
        """One transaction numbers and opens every ticket queued for a tenant."""
        numbers = self._numbers(*key)
        tickets = [opening.ticket(numbers) for opening in openings]
        records = [record for opening in openings for record in self._recorded(opening.cause, opening.ticket_id)]
        try:
            recordings = self.save(numbers, *tickets, *records)
        except IntegrityError:  # a replayed ticket, or another instance numbered first
            return [self._open_alone(key, opening) for opening in openings]
        return [OpenedTicket(ticket, _position_of(recordings, ticket.id), created=True) for ticket in tickets]

    def _open_alone(self, key: tuple[str, int], opening: Opening) -> OpenedTicket:
        """One opening of a batch that could not commit together: opened on its own, or found opened."""
        tenant, year = key
        units: list[TicketWork] = []

        def decide() -> list[Aggregate]:
            units[:] = [work := TicketWork(self, tenant)]
            if work.find(opening.ticket_id) is None:
                work.add(opening.ticket(work.numbers(year)))
                return [*work.changed(), *self._recorded(opening.cause, opening.ticket_id)]
            return []

        recordings = commit(self, decide)
        ticket = units[0].ticket(opening.ticket_id)
        if not recordings:
            return OpenedTicket(ticket, position=None, created=False)
        return OpenedTicket(ticket, _position_of(recordings, ticket.id), created=True)

    def _numbers(self, tenant: str, year: int) -> TicketNumbers:
        return find(self, TicketNumbers.create_id(tenant, year), TicketNumbers) or TicketNumbers(tenant, year)

    def _fields(self, tenant: str) -> TenantFields:
        return find(self, TenantFields.create_id(tenant), TenantFields) or TenantFields(tenant)


class TicketWork(UnitOfWork):
    """The tickets (and the numbering) one command reads and changes, for one tenant, each loaded once."""

    def __init__(self, app: Intake, tenant: str) -> None:
        super().__init__(app)
        self.tenant = tenant

    def find(self, ticket_id: UUID) -> Ticket | None:
        """The tenant's ticket, if there is one."""
        ticket = self.get(ticket_id, Ticket)
        return ticket if ticket is not None and ticket.tenant == self.tenant else None

    def ticket(self, ticket_id: UUID, expected_version: int | None = None) -> Ticket:
        """The tenant's ticket (TicketNotFoundError otherwise), at `expected_version` when given (If-Match)."""
        if (ticket := self.find(ticket_id)) is None:
            raise TicketNotFoundError(ticket_id)
        if expected_version is not None and ticket.version != expected_version:
            raise StaleVersionError(expected_version, ticket.version)
        return ticket

    def numbers(self, year: int) -> TicketNumbers:
        numbers = self.get(TicketNumbers.create_id(self.tenant, year), TicketNumbers)
        return numbers if numbers is not None else self.add(TicketNumbers(self.tenant, year))


@dataclass(frozen=True)
class Decided:
    """What a command made (`subject`), and the unit of work it decided in (None: a keyed retry)."""

    subject: UUID
    work: TicketWork | None
    recordings: list[Recording[UUID]] = field(default_factory=list)


def _reclassified(ticket: Ticket, change: Reclassification, custom_fields: dict[str, Any]) -> None:
    if change.priority is not None:
        ticket.change_priority(change.priority, change.reason)
    if change.category is not None:
        ticket.recategorize(change.category, change.reason)
    if change.type is not None:
        ticket.retype(change.type, change.reason)
    if change.tags_add or change.tags_remove:
        ticket.retag(change.tags_add, change.tags_remove, change.reason)
    if custom_fields or change.custom_fields_unset:
        ticket.change_custom_fields(custom_fields, change.custom_fields_unset, change.reason)


def _new_id(cause: Cause) -> UUID:
    """The id of the ticket a request opens: derived from its key, so a retry finds it again."""
    return cause.request.derived("ticket") if cause.request else uuid4()


def _position_of(recordings: list[Any], aggregate_id: UUID) -> int:
    position: int = max(r.notification.id for r in recordings if r.domain_event.originator_id == aggregate_id)
    return position
