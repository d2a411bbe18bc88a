"""Opening tickets: numbered per tenant and year, queued openings of a tenant committed together (group
commit), and a ticket split off another's comment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from services.chassis.runtime import logs
from services.chassis.runtime.errors import TRANSIENT_STORE_ERRORS
from services.chassis.storage.group_commit import GroupCommit
from services.chassis.storage.processing import commit, find
from services.intake.people.finder import People
from services.intake.tickets.cause import Cause
from services.intake.tickets.changing import TicketChanges
from services.intake.tickets.fields import TenantFields
from services.intake.tickets.form import TicketForm
from services.intake.tickets.numbering import TicketNumbers
from services.intake.tickets.work import OpenedTicket, Opening, TicketWork, new_ticket_id, position_of


def with_organisation_sla(people: People, tenant: str, form: TicketForm) -> TicketForm:
    """`form` with the SLA policy and calendar its organisation (an id of `/v1/organisations`) names now, which
    its `Opened` event records for the SLA service (`ticket.opened` v6). A later change of the organisation's
    SLA reaches the tickets opened after it; a ticket opened before keeps the SLA it opened with."""
    organisation = people.organisation(tenant, form.organisation)
    if organisation is None:
        return form
    return replace(form, sla_policy_id=organisation.sla_policy_id, sla_calendar_id=organisation.sla_calendar_id)


@dataclass(frozen=True)
class TicketRequest:
    """A request to open a ticket, as `TicketOpening.open_ticket` takes it."""

    ticket_id: UUID | None
    form: TicketForm
    cause: Cause
    follow_up_of: UUID | None = None


class TicketOpening(TicketChanges):
    """Opening tickets, for the application (application.py)."""

    _opening: GroupCommit[tuple[str, int], Opening, OpenedTicket]

    def open_ticket(
        self, ticket_id: UUID | None, form: TicketForm, cause: Cause, follow_up_of: UUID | None = None
    ) -> OpenedTicket:
        """Number and open a ticket (`ticket_id` None: the id is derived from the request's key, or new).
        Opening an id that exists returns that ticket unchanged: a retried request (same idempotency key)
        never opens a second one. A new key is not looked up first (a round trip each): the ticket and the
        key's record are saved together, so a retry's save is refused, and it is answered from the record
        (`_open_alone`); a retry that fails before its save is answered so too. A store that is away is
        not asked again for the record: its second wait would keep the client from its 503."""
        (outcome,) = self.open_tickets([TicketRequest(ticket_id, form, cause, follow_up_of)])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def open_tickets(self, requests: Sequence[TicketRequest]) -> list[OpenedTicket | BaseException]:
        """Open each of `requests` as `open_ticket` would, those of one tenant queued together (so that the
        requests a gateway takes to one thread at once commit in one transaction); one outcome each, the
        ticket or the error to answer it with."""
        year = datetime.now(UTC).year
        fields: dict[str, TenantFields] = {}  # each tenant's custom fields, read once for the batch
        checked = [self._checked_or_refused(request, fields) for request in requests]
        queued: dict[tuple[str, int], list[int]] = {}
        for index, (request, found) in enumerate(zip(requests, checked, strict=True)):
            if isinstance(found, Opening):
                queued.setdefault((request.cause.tenant, year), []).append(index)
        committed: dict[int, OpenedTicket | BaseException] = {}
        for key, indexes in queued.items():
            openings = [found for index in indexes if isinstance(found := checked[index], Opening)]
            committed |= zip(indexes, self._opening.submit_each(key, openings), strict=True)
        return [committed[index] if isinstance(found, Opening) else found for index, found in enumerate(checked)]

    def _checked_or_refused(
        self, request: TicketRequest, fields: dict[str, TenantFields]
    ) -> Opening | OpenedTicket | BaseException:
        """`_checked`, its lines logged as its request's (a batch runs in a thread of its own, outside every
        request's context: thread_batches.py)."""
        cause = request.cause
        ticket_id = str(request.ticket_id) if request.ticket_id is not None else None
        with logs.about(cause.tenant, ticket_id, cause.traceparent):
            try:
                return self._checked(request, fields)
            except Exception as error:  # noqa: BLE001 - this request's answer alone, not its batch's
                return error

    def _checked(self, request: TicketRequest, fields: dict[str, TenantFields]) -> Opening | OpenedTicket:
        """The opening `request` asks for, checked and sealed; or the ticket a retry of it opened before.
        `fields`: the custom fields of each tenant read so far in the batch (a store query each, the largest
        share of checking a request), the request's tenant's added when it is read here."""
        cause = request.cause
        try:
            if (tenant_fields := fields.get(cause.tenant)) is None:
                tenant_fields = fields[cause.tenant] = self._fields(cause.tenant)
            return self._opening_of(
                request.ticket_id or new_ticket_id(cause), request.form, cause, request.follow_up_of, tenant_fields
            )
        except TRANSIENT_STORE_ERRORS:
            raise
        except Exception:
            if (done := self._replayed(cause)) is not None:  # a retry, whatever has changed since
                return OpenedTicket(self.get_ticket(UUID(done.subject), cause.tenant), position=None, created=False)
            raise

    def _opening_of(
        self, ticket_id: UUID, form: TicketForm, cause: Cause, follow_up_of: UUID | None, fields: TenantFields
    ) -> Opening:
        """The request to open `ticket_id`, checked and sealed against the tenant's custom `fields`."""
        people = People(self, self.personal)
        if form.organisation is None:  # none named: the requester's own, when the desk knows them in one
            requester = people.following(cause.tenant, form.requester_id)
            form = replace(form, organisation=requester.organisation_id if requester is not None else None)
        form = with_organisation_sla(people, cause.tenant, form)
        custom_fields = fields.check(form.custom_fields, complete=True)
        seal = self._sealer(cause.tenant, form.requester_id)
        words = self.digests.of_text(cause.tenant, f"{form.title}\n{form.description}")
        if follow_up_of is not None:
            self.get_ticket(follow_up_of, cause.tenant)
        follows = str(follow_up_of) if follow_up_of else None
        sealed = replace(form, title=seal(form.title), description=seal(form.description))
        kinds = fields.kinds_of(custom_fields)
        checked = replace(
            sealed, custom_fields=custom_fields, custom_field_kinds=kinds, follow_up_of=follows, keyword_digests=words
        )
        return Opening(ticket_id, checked, cause)

    def split(self, ticket_id: UUID, comment_id: str, title: str, cause: Cause) -> OpenedTicket:
        """Open a new ticket from one comment of `ticket_id`; both record the split."""

        def decide(work: TicketWork) -> UUID:
            source, new_id = work.ticket(ticket_id), new_ticket_id(cause)
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
                language=source.language,
                keyword_digests=words,
                custom_field_kinds={},  # none of its own: published as v4 or later (its language, its SLA), not v3
            )
            form = with_organisation_sla(People(self, self.personal), cause.tenant, form)
            opening = Opening(new_id, form, cause)
            work.add(opening.ticket(work.numbers(datetime.now(UTC).year)))
            return new_id

        decided = self._run(cause, decide)
        if decided.work is None:
            return OpenedTicket(self.get_ticket(decided.subject, cause.tenant), position=None, created=False)
        new = decided.work.ticket(decided.subject)
        return OpenedTicket(new, position_of(decided.recordings, new.id), created=True)

    def _open_together(self, key: tuple[str, int], openings: list[Opening]) -> list[OpenedTicket]:
        """One transaction numbers and opens every ticket queued for a tenant."""
        numbers = self._numbers(*key)
        tickets = [opening.ticket(numbers) for opening in openings]
        records = [record for opening in openings for record in self._recorded(opening.cause, opening.ticket_id)]
        try:
            recordings = self.save(numbers, *tickets, *records)
        except IntegrityError:  # a replayed ticket, or another instance numbered first
            opened = []
            for opening in openings:
                with logs.about(opening.cause.tenant, str(opening.ticket_id), opening.cause.traceparent):
                    opened.append(self._open_alone(key, opening))
            return opened
        return [OpenedTicket(ticket, position_of(recordings, ticket.id), created=True) for ticket in tickets]

    def _open_alone(self, key: tuple[str, int], opening: Opening) -> OpenedTicket:
        """One opening of a batch that could not commit together: opened on its own, or found opened (by
        the record of its key, which is the same request's or refused: `_replayed`)."""
        tenant, year = key
        units: list[tuple[TicketWork, UUID]] = []

        def decide() -> list[Aggregate]:
            work = TicketWork(self, tenant)
            if (done := self._replayed(opening.cause)) is not None:
                units[:] = [(work, UUID(done.subject))]
                return []
            units[:] = [(work, opening.ticket_id)]
            if work.find(opening.ticket_id) is None:
                work.add(opening.ticket(work.numbers(year)))
                return [*work.changed(), *self._recorded(opening.cause, opening.ticket_id)]
            return []

        recordings = commit(self, decide)
        work, ticket_id = units[0]
        ticket = work.ticket(ticket_id)
        if not recordings:
            return OpenedTicket(ticket, position=None, created=False)
        return OpenedTicket(ticket, position_of(recordings, ticket.id), created=True)

    def _numbers(self, tenant: str, year: int) -> TicketNumbers:
        return find(self, TicketNumbers.create_id(tenant, year), TicketNumbers) or TicketNumbers(tenant, year)
