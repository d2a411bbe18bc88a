"""The one path of every change to a ticket: a decision on fresh state in a unit of work, saved with the
record of a keyed request by chassis `commit`; the requester's words sealed on the way in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from schemas.keywords import KeywordDigests
from services.chassis.storage.idempotency import IdempotentRequest, KeyedRequest
from services.chassis.storage.keyed_commands import carried_out, record_of
from services.chassis.storage.processing import commit, find
from services.intake.privacy.personal_data import PersonalData
from services.intake.tickets.cause import Cause, acting
from services.intake.tickets.domain import Ticket
from services.intake.tickets.fields import TenantFields
from services.intake.tickets.reading import TicketReading
from services.intake.tickets.work import Decided, StaleVersionError, TicketWork


class TicketChanges(TicketReading):
    """Changing tickets, for the application (application.py) whose commands run through here."""

    personal: PersonalData
    digests: KeywordDigests

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

    def _fields(self, tenant: str) -> TenantFields:
        return find(self, TenantFields.create_id(tenant), TenantFields) or TenantFields(tenant)
