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
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, ClassVar, cast
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import EventStore, IntegrityError, Mapper

from schemas.keywords import KeywordDigests
from services.chassis.storage.group_commit import GroupCommit
from services.chassis.storage.idempotency import IdempotentRequest, KeyedRequest
from services.chassis.storage.keyed_commands import carried_out, record_of
from services.chassis.storage.processing import ProcessRecorderMixin, find
from services.intake.audit.auditor import Audit, Verification
from services.intake.audit.checkpoints import Checkpoints
from services.intake.audit.sealing import CheckedSnapshots, SealingMapper
from services.intake.privacy.personal_data import PersonalData
from services.intake.tickets.cause import Cause, acting
from services.intake.tickets.domain import Ticket
from services.intake.tickets.errors import TicketRuleError
from services.intake.tickets.fields import TenantFields
from services.intake.tickets.form import TicketForm
from services.intake.tickets.numbering import TicketNumbers
from services.intake.tickets.vocabulary import LinkKind

ATTEMPTS = 50
AS_OF_PAGE = 100  # events read per round trip when replaying to an instant


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
        self, ticket_id: UUID, form: TicketForm, cause: Cause, follow_up_of: UUID | None = None
    ) -> OpenedTicket:
        """Number and open a ticket. Opening an id that exists returns that ticket
        unchanged: a retried request (same idempotency key) never opens a second one."""
        if (done := self._replayed(cause)) is not None:
            return OpenedTicket(self.get_ticket(UUID(done.subject), cause.tenant), position=None, created=False)
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
        for _ in range(ATTEMPTS):
            if (done := self._replayed(cause)) is not None:
                return OpenedTicket(self.get_ticket(UUID(done.subject), cause.tenant), position=None, created=False)
            source = self.get_ticket(ticket_id, cause.tenant)
            new_id = cause.request.derived("ticket") if cause.request else uuid4()
            seal = self._sealer(cause.tenant, source.requester_id)
            with acting(cause):
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
            numbers = self._numbers(cause.tenant, datetime.now(UTC).year)
            new = Opening(new_id, form, cause).ticket(numbers)
            try:
                recordings = self.save(numbers, source, new, *self._recorded(cause, new.id))
            except IntegrityError:
                continue
            return OpenedTicket(new, _position_of(recordings, new.id), created=True)
        raise RuntimeError("could not split the ticket: too much contention")

    # -- changing --------------------------------------------------------------

    def change(
        self, ticket_id: UUID, cause: Cause, command: Callable[[Ticket], None], expected_version: int | None = None
    ) -> Ticket:
        """Run `command` on the ticket and save. With `expected_version` (If-Match) a
        stale read is refused; without, a concurrent change is retried on fresh state."""
        for _ in range(ATTEMPTS):
            if self._replayed(cause) is not None:
                return self.get_ticket(ticket_id, cause.tenant)
            ticket = self._checked(self.get_ticket(ticket_id, cause.tenant), expected_version)
            with acting(cause):
                command(ticket)
            try:
                self.save(ticket, *self._recorded(cause, ticket.id))
            except IntegrityError:
                self._stale(cause, expected_version)
                continue
            return ticket
        raise RuntimeError("could not change the ticket: too much contention")

    # -- the requester's words, sealed before the ticket records them -------------------

    def comment(
        self, ticket_id: UUID, cause: Cause, comment_id: str, body: str, public: bool, channel: str,
        expected_version: int | None = None, *, staff: bool,
    ) -> Ticket:  # fmt: skip
        """`staff`: the actor is authenticated as an agent, supervisor or admin."""

        def command(t: Ticket) -> None:
            t.add_comment(comment_id, self.seal(t, body), public, cause.actor, channel, staff=staff)

        return self.change(ticket_id, cause, command, expected_version)

    def rate(
        self, ticket_id: UUID, cause: Cause, score: int, comment: str, expected_version: int | None = None
    ) -> Ticket:
        def command(t: Ticket) -> None:
            t.rate(score, self.seal(t, comment) if comment else "", "rated by the requester")

        return self.change(ticket_id, cause, command, expected_version)

    def resolve(
        self, ticket_id: UUID, cause: Cause, resolution: str, reason: str, expected_version: int | None = None
    ) -> Ticket:
        return self.change(ticket_id, cause, lambda t: t.resolve(self.seal(t, resolution), reason), expected_version)

    def attach(
        self, ticket_id: UUID, cause: Cause, attachment: dict[str, Any], expected_version: int | None = None
    ) -> Ticket:
        """`attachment`: attachment_id, sha256, filename, content_type, size, comment_id."""

        def command(t: Ticket) -> None:
            t.attach(**attachment | {"filename": self.seal(t, attachment["filename"])})

        return self.change(ticket_id, cause, command, expected_version)

    def seal(self, ticket: Ticket, text: str) -> str:
        """`text` sealed with the key of the ticket's requester: for a command that records words."""
        return self.personal.seal(ticket.tenant, ticket.requester_id, text)

    def _sealer(self, tenant: str, requester_id: str) -> Callable[[str], str]:
        return lambda text: self.personal.seal(tenant, requester_id, text)

    def merge(
        self, source_id: UUID, target_id: UUID, reason: str, cause: Cause, expected_version: int | None = None
    ) -> Ticket:
        for _ in range(ATTEMPTS):
            if self._replayed(cause) is not None:
                return self.get_ticket(source_id, cause.tenant)
            source = self._checked(self.get_ticket(source_id, cause.tenant), expected_version)
            target = self.get_ticket(target_id, cause.tenant)
            with acting(cause):
                source.merge_into(target, reason)
            try:
                self.save(source, target, *self._recorded(cause, source.id))
            except IntegrityError:
                self._stale(cause, expected_version)
                continue
            return source
        raise RuntimeError("could not merge: too much contention")

    def link(self, ticket_id: UUID, other_id: UUID, kind: LinkKind, reason: str, cause: Cause) -> Ticket:
        for _ in range(ATTEMPTS):
            if self._replayed(cause) is not None:
                return self.get_ticket(ticket_id, cause.tenant)
            ticket = self.get_ticket(ticket_id, cause.tenant)
            other = self.get_ticket(other_id, cause.tenant)
            with acting(cause):
                ticket.link(other, kind, reason)
            try:
                self.save(ticket, other, *self._recorded(cause, ticket.id))
            except IntegrityError:
                continue
            return ticket
        raise RuntimeError("could not link: too much contention")

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
        try:
            ticket: object = self.repository.get(ticket_id)
        except AggregateNotFoundError:
            raise TicketNotFoundError(ticket_id) from None
        if not isinstance(ticket, Ticket) or ticket.tenant != tenant:
            raise TicketNotFoundError(ticket_id)
        return ticket

    def ticket_as_of(self, ticket_id: UUID, tenant: str, instant: datetime) -> Ticket:
        """The ticket exactly as it was at `instant`: the latest snapshot before it, then events."""
        self._check_tenant(ticket_id, tenant)
        ticket: Any = None
        after: int | None = None
        if self.snapshots is not None:
            for snapshot in self.snapshots.get(ticket_id, desc=True):
                taken: Any = snapshot
                if taken.timestamp <= instant:
                    ticket, after = taken.mutate(None), taken.originator_version
                    break
        while page := list(self.events.get(ticket_id, gt=after, limit=AS_OF_PAGE)):
            for stored in page:
                domain_event: Any = stored
                if domain_event.timestamp > instant:
                    break
                ticket, after = domain_event.mutate(ticket), domain_event.originator_version
            else:
                continue
            break
        if ticket is None:
            raise TicketNotFoundError(ticket_id)
        return ticket  # type: ignore[no-any-return]

    def history(self, ticket_id: UUID, tenant: str) -> Iterator[Ticket.Event]:
        self._check_tenant(ticket_id, tenant)
        for domain_event in self.events.get(ticket_id):
            assert isinstance(domain_event, Ticket.Event)
            yield domain_event

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

    def _replayed(self, cause: Cause) -> IdempotentRequest | None:
        """The record of the keyed request `cause` answers, when it was carried out before (a retry);
        IdempotencyKeyReusedError when the caller's key was used for a different request."""
        keyed = cause.request and self.as_stored(cause.tenant, cause.request)
        return carried_out(self, keyed, cause.tenant)

    def _recorded(self, cause: Cause, subject: UUID) -> list[IdempotentRequest]:
        """What to save with the effect of a keyed request: its record (nothing for an unkeyed one)."""
        keyed = cause.request and self.as_stored(cause.tenant, cause.request)
        return record_of(keyed, cause.tenant, str(subject))

    def _stale(self, cause: Cause, expected_version: int | None) -> None:
        """After a conflict on save: a twin keyed request that came first is answered by the retry; otherwise a
        change made on a stale read (If-Match) is refused."""
        if expected_version is not None and self._replayed(cause) is None:
            raise StaleVersionError(expected_version, expected_version + 1)

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

    def _checked(self, ticket: Ticket, expected_version: int | None) -> Ticket:
        if expected_version is not None and ticket.version != expected_version:
            raise StaleVersionError(expected_version, ticket.version)
        return ticket

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
        for _ in range(ATTEMPTS):
            if (existing := self._find(opening.ticket_id, opening.cause.tenant)) is not None:
                return OpenedTicket(existing, position=None, created=False)
            numbers = self._numbers(*key)
            ticket = opening.ticket(numbers)
            try:
                recordings = self.save(numbers, ticket, *self._recorded(opening.cause, ticket.id))
            except IntegrityError:
                continue
            return OpenedTicket(ticket, _position_of(recordings, ticket.id), created=True)
        raise RuntimeError("could not number a ticket: too much contention")

    def _find(self, ticket_id: UUID, tenant: str) -> Ticket | None:
        try:
            return self.get_ticket(ticket_id, tenant)
        except TicketNotFoundError:
            return None

    def _numbers(self, tenant: str, year: int) -> TicketNumbers:
        try:
            numbers: object = self.repository.get(TicketNumbers.create_id(tenant, year))
        except AggregateNotFoundError:
            return TicketNumbers(tenant, year)
        assert isinstance(numbers, TicketNumbers)
        return numbers

    def _fields(self, tenant: str) -> TenantFields:
        try:
            fields: object = self.repository.get(TenantFields.create_id(tenant))
        except AggregateNotFoundError:
            return TenantFields(tenant)
        assert isinstance(fields, TenantFields)
        return fields


def _position_of(recordings: list[Any], aggregate_id: UUID) -> int:
    position: int = max(r.notification.id for r in recordings if r.domain_event.originator_id == aggregate_id)
    return position
