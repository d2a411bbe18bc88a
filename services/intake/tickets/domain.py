"""The Ticket aggregate: a request the desk owes an answer, and its whole story. Pure: no I/O here.

Commands are methods (guards first, then the event); each event is a past-tense
fact. Who acted and why comes from the `Cause` the application sets around a
command (`acting(cause)`, cause.py), so every event records tenant, actor and
correlation without each command repeating them.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from functools import cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic

from services.intake.audit import chain
from services.intake.tickets.cause import current_cause, event_metadata
from services.intake.tickets.errors import IllegalTransitionError, TicketClosedError, TicketRuleError
from services.intake.tickets.form import TicketForm
from services.intake.tickets.vocabulary import TRANSITIONS, AuthorKind, LinkKind, Status, WaitingFor


class Ticket(Aggregate):
    """The ticket. Its stream of events is its audit history; nothing is changed in place."""

    class Event(Aggregate.Event):
        tenant: str
        actor: str
        metadata: dict[str, str]

        def __post_init__(self) -> None:
            # Runs when the event is first made, never on replay (stored events are
            # restored without __init__): the hash is sealed once, at the source.
            object.__setattr__(self, chain.HASH, chain.digest(get_topic(type(self)), vars(self)))

        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            aggregate.chain_head = getattr(self, chain.HASH)
            return aggregate

    class Opened(Event, Aggregate.Created):
        number: str
        title: str
        description: str
        requester_id: str
        channel: str
        category: str
        type: str
        priority: str
        tags: list[str]
        custom_fields: dict[str, Any]
        follow_up_of: str | None
        split_from: str | None
        organisation: str | None
        group_id: str | None  # v4: the group the channel it came in on sends it to (a desk mailbox's)
        keyword_digests: list[str] | None

        class_version = 4

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("custom_fields", {})
            state.setdefault("follow_up_of", None)
            state.setdefault("split_from", None)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state.setdefault("organisation", None)

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            """v4 carries the group its channel sends it to (a desk mailbox's) and the keyed digests
            of the words (its title and description are sealed); an event before v4 has plain words,
            and was published with them (`ticket.opened` v2)."""
            state.setdefault("group_id", None)
            state.setdefault("keyword_digests", None)

    class Assigned(Event):
        """v2 adds `decision_id`: the routing decision applied, or None for a person's assignment."""

        group_id: str
        agent_id: str | None
        reason: str
        decision_id: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("decision_id", None)  # routing did not exist before v2

    class CommentAdded(Event):
        """v2 adds `author_kind` (an `AuthorKind`), decided when it was written; None on a comment
        recorded before v2 (nobody recorded then whether its author was staff)."""

        comment_id: str
        body: str
        public: bool
        author_id: str
        channel: str
        author_kind: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("author_kind", None)

    @staticmethod
    def id_for_request(tenant: str, idempotency_key: str) -> UUID:
        """The id of the ticket a channel's message opens (named by the message: its Message-ID, chat message
        id): the message delivered again finds the same ticket. (An API caller's `Idempotency-Key` is scoped to
        the caller instead: `services/chassis/storage/idempotency.py`.)"""
        return uuid5(NAMESPACE_URL, f"/servicedesk/tickets/{tenant}/{idempotency_key}")

    @classmethod
    def open_from(cls, id: UUID, number: str, form: TicketForm) -> Ticket:
        """Open ticket `number` as `form` says: its fields are the `Opened` event's (copied, not shared)."""
        cause = current_cause()
        metadata = event_metadata(cause, chain.GENESIS)
        return cls(id=id, tenant=cause.tenant, actor=cause.actor, metadata=metadata, number=number, **asdict(form))

    @classmethod
    def open(cls, id: UUID, number: str, *fields: Any, **named: Any) -> Ticket:
        """`open_from` with a `TicketForm` of these fields, in its order or by name (tests, benchmarks)."""
        return cls.open_from(id, number, TicketForm(*fields, **named))

    @event(Opened)
    def __init__(
        self, id: UUID, tenant: str, actor: str, metadata: dict[str, str], number: str, title: str, description: str,
        requester_id: str, channel: str, category: str, type: str, priority: str, tags: list[str],
        custom_fields: dict[str, Any], follow_up_of: str | None, split_from: str | None, organisation: str | None,
        group_id: str | None = None,
        keyword_digests: list[str] | None = None,
    ) -> None:  # fmt: skip
        self.tenant = tenant
        self.organisation = organisation
        self.number = number
        self.title = title
        self.description = description
        self.requester_id = requester_id
        self.channel = channel
        self.category = category
        self.type = type
        self.priority = priority
        self.tags = list(tags)
        self.custom_fields = dict(custom_fields)
        self.follow_up_of = follow_up_of
        self.split_from = split_from
        self.status: str = Status.NEW.value  # plain str: snapshots restore it as one
        self.status_reason = "opened"
        self.pending_until: datetime | None = None
        self.waiting_for: str | None = None
        self.resolution: str | None = None
        self.group_id: str | None = group_id
        self.agent_id: str | None = None
        self.comments: dict[str, dict[str, Any]] = {}
        self.attachments: dict[str, dict[str, Any]] = {}
        self.links: dict[str, str] = {}
        self.merged_into: str | None = None
        self.merged_from: list[str] = []

    chain_head: str = chain.GENESIS  # hash of the last event; every event's mutate moves it
    organisation: str | None = None  # (snapshots taken before v3 of Opened lack it)
    survey_requested: bool = False
    rating: dict[str, Any] | None = None
    assignment_decision: str | None = None  # the routing decision behind the current assignment, if any
    assignment_touched: bool = False  # assigned or unassigned at least once

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        cause = current_cause()
        if cause.tenant != self.tenant:
            raise TicketRuleError("tenant", "a ticket is changed only on behalf of its own tenant")
        kwargs |= {"tenant": cause.tenant, "actor": cause.actor, "metadata": event_metadata(cause, self.chain_head)}
        super().trigger_event(event_class, **kwargs)

    # -- lifecycle -------------------------------------------------------------

    def start_work(self, reason: str) -> None:
        self._check_transition(Status.OPEN, {Status.NEW}, "start work")
        self._work_started(reason=reason)

    @event("WorkStarted")
    def _work_started(self, reason: str) -> None:
        self._set_status(Status.OPEN, reason)

    def mark_pending(self, waiting_for: WaitingFor, until: datetime, reason: str) -> None:
        self._check_transition(Status.PENDING, TRANSITIONS[Status.PENDING], "mark pending")
        self._marked_pending(waiting_for=waiting_for.value, pending_until=until, reason=reason)

    @event("MarkedPending")
    def _marked_pending(self, waiting_for: str, pending_until: datetime, reason: str) -> None:
        self._set_status(Status.PENDING, reason)
        self.waiting_for = waiting_for
        self.pending_until = pending_until

    def resume(self, reason: str) -> None:
        self._check_transition(Status.OPEN, {Status.PENDING}, "resume")
        self._resumed(reason=reason)

    @event("Resumed")
    def _resumed(self, reason: str) -> None:
        self._set_status(Status.OPEN, reason)

    def resolve(self, resolution: str, reason: str) -> None:
        """Resolve, and ask the requester how satisfied they are (the channels send the survey)."""
        self._check_transition(Status.RESOLVED, TRANSITIONS[Status.RESOLVED], "resolve")
        self._resolved(resolution=resolution, reason=reason)
        self._survey_requested(reason="resolved")

    @event("SurveyRequested")
    def _survey_requested(self, reason: str) -> None:
        self.survey_requested = True

    def rate(self, score: int, comment: str, reason: str) -> None:
        """The requester's satisfaction with a resolved or closed ticket; a later rating replaces it."""
        if self.status not in (Status.RESOLVED.value, Status.CLOSED.value):
            raise TicketRuleError("status", "only a resolved or closed ticket is rated")
        if not 1 <= score <= 5:
            raise TicketRuleError("score", "a rating is 1 to 5")
        self._rated(score=score, comment=comment, reason=reason)

    @event("Rated")
    def _rated(self, score: int, comment: str, reason: str) -> None:
        self.rating = {"score": score, "comment": comment}

    @event("Resolved")
    def _resolved(self, resolution: str, reason: str) -> None:
        self._set_status(Status.RESOLVED, reason)
        self.resolution = resolution

    def reopen(self, reason: str) -> None:
        self._check_transition(Status.OPEN, {Status.RESOLVED}, "reopen")
        self._reopened(reason=reason)

    @event("Reopened")
    def _reopened(self, reason: str) -> None:
        self._set_status(Status.OPEN, reason)
        self.resolution = None

    def close(self, reason: str) -> None:
        self._check_transition(Status.CLOSED, TRANSITIONS[Status.CLOSED], "close")
        self._closed(reason=reason)

    @event("Closed")
    def _closed(self, reason: str) -> None:
        self._set_status(Status.CLOSED, reason)

    # -- conversation ----------------------------------------------------------

    def add_comment(
        self, comment_id: str, body: str, public: bool, author_id: str, channel: str, *, staff: bool = False
    ) -> None:
        """`staff`: the author is authenticated as an agent, supervisor or admin, or as an address
        the tenant lists as its staff's; otherwise the requester, by id, or someone else."""
        self._check_not_closed("comment")
        if comment_id in self.comments:
            raise TicketRuleError("comment_id", f"comment {comment_id} exists already")
        kind = AuthorKind.REQUESTER if author_id == self.requester_id else AuthorKind.OTHER
        kind = AuthorKind.STAFF if staff else kind
        self._comment_added(comment_id=comment_id, body=body, public=public, author_id=author_id, channel=channel,
                            author_kind=kind.value)  # fmt: skip

    @event(CommentAdded)
    def _comment_added(
        self, comment_id: str, body: str, public: bool, author_id: str, channel: str, author_kind: str | None
    ) -> None:
        self.comments[comment_id] = {
            "body": body, "public": public, "author_id": author_id, "channel": channel, "author_kind": author_kind,
        }  # fmt: skip

    def attach(
        self, attachment_id: str, sha256: str, filename: str, content_type: str, size: int, comment_id: str | None
    ) -> None:
        self._check_not_closed("attach")
        if comment_id is not None and comment_id not in self.comments:
            raise TicketRuleError("comment_id", f"no comment {comment_id} on this ticket")
        self._attachment_added(
            attachment_id=attachment_id, sha256=sha256, filename=filename, content_type=content_type, size=size,
            comment_id=comment_id,
        )  # fmt: skip

    @event("AttachmentAdded")
    def _attachment_added(
        self, attachment_id: str, sha256: str, filename: str, content_type: str, size: int, comment_id: str | None
    ) -> None:
        self.attachments[attachment_id] = {
            "sha256": sha256, "filename": filename, "content_type": content_type, "size": size,
            "comment_id": comment_id,
        }  # fmt: skip

    # -- classification and assignment -----------------------------------------

    def change_priority(self, priority: str, reason: str) -> None:
        self._check_not_closed("change priority")
        if priority != self.priority:
            self._priority_changed(priority=priority, previous=self.priority, reason=reason)

    @event("PriorityChanged")
    def _priority_changed(self, priority: str, previous: str, reason: str) -> None:
        self.priority = priority

    def recategorize(self, category: str, reason: str) -> None:
        self._check_not_closed("recategorize")
        if category != self.category:
            self._category_changed(category=category, previous=self.category, reason=reason)

    @event("CategoryChanged")
    def _category_changed(self, category: str, previous: str, reason: str) -> None:
        self.category = category

    def retype(self, type: str, reason: str) -> None:
        self._check_not_closed("change type")
        if type != self.type:
            self._type_changed(type=type, previous=self.type, reason=reason)

    @event("TypeChanged")
    def _type_changed(self, type: str, previous: str, reason: str) -> None:
        self.type = type

    def retag(self, add: list[str], remove: list[str], reason: str) -> None:
        self._check_not_closed("change tags")
        added = sorted(set(add) - set(self.tags))
        removed = sorted(set(remove) & set(self.tags))
        if added or removed:
            self._tags_changed(added=added, removed=removed, reason=reason)

    @event("TagsChanged")
    def _tags_changed(self, added: list[str], removed: list[str], reason: str) -> None:
        self.tags = sorted((set(self.tags) | set(added)) - set(removed))

    def change_custom_fields(self, values: dict[str, Any], unset: list[str], reason: str) -> None:
        self._check_not_closed("change custom fields")
        changed = {key: value for key, value in values.items() if self.custom_fields.get(key) != value}
        cleared = sorted(key for key in unset if key in self.custom_fields)
        if changed or cleared:
            self._custom_fields_changed(values=changed, unset=cleared, reason=reason)

    @event("CustomFieldsChanged")
    def _custom_fields_changed(self, values: dict[str, Any], unset: list[str], reason: str) -> None:
        self.custom_fields = {k: v for k, v in (self.custom_fields | values).items() if k not in unset}

    def assign(self, group_id: str, agent_id: str | None, reason: str, decision_id: str | None = None) -> None:
        """Assign to a group and maybe an agent: by a person, or by routing's `decision_id`."""
        self._check_not_closed("assign")
        if (group_id, agent_id) != (self.group_id, self.agent_id):
            self._assigned(group_id=group_id, agent_id=agent_id, reason=reason, decision_id=decision_id)

    @property
    def assigned_manually(self) -> bool:
        """A person assigned (or unassigned) it: routing's later decisions leave it alone."""
        return self.assignment_touched and self.assignment_decision is None

    @event(Assigned)
    def _assigned(self, group_id: str, agent_id: str | None, reason: str, decision_id: str | None) -> None:
        self.group_id = group_id
        self.agent_id = agent_id
        self.assignment_decision = decision_id
        self.assignment_touched = True

    def unassign(self, reason: str) -> None:
        self._check_not_closed("unassign")
        if self.group_id is not None or self.agent_id is not None:
            self._unassigned(reason=reason)

    @event("Unassigned")
    def _unassigned(self, reason: str) -> None:
        self.group_id = None
        self.agent_id = None
        self.assignment_decision = None
        self.assignment_touched = True

    # -- relations between tickets ---------------------------------------------

    def merge_into(self, target: Ticket, reason: str) -> None:
        """Close this ticket into `target`; both streams record the merge."""
        self._check_not_closed("merge")
        target._check_not_closed("receive a merge")
        if target.id == self.id:
            raise TicketRuleError("merge_into", "a ticket cannot merge into itself")
        self._merged_into(target_id=str(target.id), target_number=target.number, reason=reason)
        target._merge_received(source_id=str(self.id), source_number=self.number, reason=reason)

    @event("MergedInto")
    def _merged_into(self, target_id: str, target_number: str, reason: str) -> None:
        self.merged_into = target_id
        self._set_status(Status.CLOSED, reason)

    @event("MergeReceived")
    def _merge_received(self, source_id: str, source_number: str, reason: str) -> None:
        self.merged_from = [*self.merged_from, source_id]

    def link(self, other: Ticket, kind: LinkKind, reason: str) -> None:
        """Link this ticket to `other`; a closed `other` is final and records nothing."""
        self._check_not_closed("link")
        if other.id == self.id:
            raise TicketRuleError("ticket_id", "a ticket cannot link to itself")
        if self.links.get(str(other.id)) == kind:
            return
        self._linked(ticket_id=str(other.id), kind=kind.value, reason=reason)
        if other.status != Status.CLOSED:
            other._linked(ticket_id=str(self.id), kind=kind.inverse.value, reason=reason)

    @event("Linked")
    def _linked(self, ticket_id: str, kind: str, reason: str) -> None:
        self.links = self.links | {ticket_id: kind}

    def unlink(self, other: Ticket, reason: str) -> None:
        self._check_not_closed("unlink")
        if str(other.id) not in self.links:
            raise TicketRuleError("ticket_id", f"this ticket is not linked to {other.id}")
        self._unlinked(ticket_id=str(other.id), reason=reason)
        if other.status != Status.CLOSED and str(self.id) in other.links:
            other._unlinked(ticket_id=str(self.id), reason=reason)

    @event("Unlinked")
    def _unlinked(self, ticket_id: str, reason: str) -> None:
        self.links = {k: v for k, v in self.links.items() if k != ticket_id}

    def split_off(self, comment_id: str, new_ticket_id: UUID, reason: str) -> dict[str, Any]:
        """Record that a comment became its own ticket; return the comment to open it from."""
        self._check_not_closed("split")
        if comment_id not in self.comments:
            raise TicketRuleError("comment_id", f"no comment {comment_id} on this ticket")
        if not self.comments[comment_id]["public"]:  # it would be the new ticket's description, shown to the requester
            raise TicketRuleError(
                "internal-note-split",
                f"comment {comment_id} is an internal note: it cannot become a ticket the "
                "requester reads; open a ticket of its own instead",
            )
        self._comment_split_off(comment_id=comment_id, new_ticket_id=str(new_ticket_id), reason=reason)
        return self.comments[comment_id]

    @event("CommentSplitOff")
    def _comment_split_off(self, comment_id: str, new_ticket_id: str, reason: str) -> None:
        self.links = self.links | {new_ticket_id: LinkKind.RELATED.value}

    # -- guards ----------------------------------------------------------------

    def _check_transition(self, requested: Status, allowed_from: set[Status], command: str) -> None:
        if self.status == Status.CLOSED:
            raise TicketClosedError(command)
        if self.status not in allowed_from:
            raise IllegalTransitionError(self.status, requested.value, command)

    def _check_not_closed(self, action: str) -> None:
        if self.status == Status.CLOSED:
            raise TicketClosedError(action)

    def _set_status(self, status: Status, reason: str) -> None:
        self.status = status.value
        self.status_reason = reason
        if status != Status.PENDING:
            self.pending_until = None
            self.waiting_for = None


def event_name(event: object) -> str:
    """An event's name as the API and public events say it: `MarkedPending` -> `marked_pending`."""
    return _snake_case(type(event).__name__)


@cache  # a feed page names thousands of events of a few classes
def _snake_case(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
