"""The Ticket aggregate: a request the desk owes an answer, and its whole story. Pure: no I/O here.

Commands are methods (guards first, then the event); each event is a past-tense fact, its class
(what it records and how it changes the ticket) in events/, one module per area, named on the
aggregate below, which keeps its stored topic. Who acted and why comes from the `Cause` the
application sets around a command (`acting(cause)`, cause.py), so every event records tenant,
actor and correlation without each command repeating them.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.chassis.storage.ids import stable_uuid
from services.intake.audit import chain
from services.intake.tickets.cause import current_cause, event_metadata
from services.intake.tickets.errors import IllegalTransitionError, TicketClosedError, TicketRuleError, TimeEntryError
from services.intake.tickets.events import automation, base, classification, conversation, lifecycle, relations, time
from services.intake.tickets.events.base import TicketEvent
from services.intake.tickets.form import TicketForm
from services.intake.tickets.vocabulary import TRANSITIONS, AuthorKind, LinkKind, Status, WaitingFor

MINUTES_A_DAY = 24 * 60


class Ticket(Aggregate):
    """The ticket. Its stream of events is its audit history; nothing is changed in place."""

    class Event(TicketEvent):
        """Every event of a ticket (events/base.py); each is named here, which gives it its stored topic."""

    Opened = base.Opened
    WorkStarted = lifecycle.WorkStarted
    MarkedPending = lifecycle.MarkedPending
    Resumed = lifecycle.Resumed
    Resolved = lifecycle.Resolved
    SurveyRequested = lifecycle.SurveyRequested
    Rated = lifecycle.Rated
    Reopened = lifecycle.Reopened
    Closed = lifecycle.Closed
    CommentAdded = conversation.CommentAdded
    AttachmentAdded = conversation.AttachmentAdded
    PriorityChanged = classification.PriorityChanged
    CategoryChanged = classification.CategoryChanged
    TypeChanged = classification.TypeChanged
    TagsChanged = classification.TagsChanged
    CustomFieldsChanged = classification.CustomFieldsChanged
    Assigned = classification.Assigned
    Unassigned = classification.Unassigned
    MergedInto = relations.MergedInto
    MergeReceived = relations.MergeReceived
    Linked = relations.Linked
    Unlinked = relations.Unlinked
    CommentSplitOff = relations.CommentSplitOff
    SolutionLinked = relations.SolutionLinked
    MacroApplied = automation.MacroApplied
    TriggerApplied = automation.TriggerApplied
    TriggerRefused = automation.TriggerRefused
    TimeLogged = time.TimeLogged

    @staticmethod
    def id_for_request(tenant: str, idempotency_key: str) -> UUID:
        """The id of the ticket a channel's message opens (named by the message: its Message-ID, chat message
        id): the message delivered again finds the same ticket. (An API caller's `Idempotency-Key` is scoped to
        the caller instead: `services/chassis/storage/idempotency.py`.)"""
        return stable_uuid("tickets", tenant, idempotency_key)

    @classmethod
    def open_from(cls, id: UUID, number: str, form: TicketForm) -> Ticket:
        """Open ticket `number` as `form` says: its fields are the `Opened` event's (copied, not shared)."""
        cause = current_cause()
        metadata = event_metadata(cause, chain.GENESIS)
        opened = {"tenant": cause.tenant, "actor": cause.actor, "metadata": metadata, "number": number}
        return cls._create(cls.Opened, id=id, timestamp=cause.at, **opened, **asdict(form))

    @classmethod
    def open(cls, id: UUID, number: str, *fields: Any, **named: Any) -> Ticket:
        """`open_from` with a `TicketForm` of these fields, in its order or by name (tests, benchmarks)."""
        return cls.open_from(id, number, TicketForm(*fields, **named))

    @event(base.Opened)
    def __init__(
        self,
        tenant: str,
        number: str,
        title: str,
        description: str,
        requester_id: str,
        channel: str,
        category: str,
        type: str,
        priority: str,
        tags: list[str],
        custom_fields: dict[str, Any],
        follow_up_of: str | None,
        split_from: str | None,
        organisation: str | None,
        group_id: str | None,
        language: str | None,
        imported_from: dict[str, str] | None = None,
    ) -> None:
        """The ticket as `Opened` leaves it: the fields it was opened with (all but the digests of its
        words, which the published event carries) and a new ticket's state."""
        self.tenant = tenant
        self.organisation = organisation
        self.language = language
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
        self.imported_from = imported_from

    chain_head: str = chain.GENESIS  # hash of the last event; every event's mutate moves it
    organisation: str | None = None  # (snapshots taken before v3 of Opened lack it)
    language: str | None = None  # (snapshots taken before v5 of Opened lack it)
    survey_requested: bool = False
    rating: dict[str, Any] | None = None
    assignment_decision: str | None = None  # the routing decision behind the current assignment, if any
    assignment_touched: bool = False  # assigned or unassigned at least once
    solution: str | None = None  # the id of the knowledge base article that solved it
    imported_from: dict[str, str] | None = None  # imported from another desk: system, url, id (snapshots before v5)

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        cause = current_cause()
        if cause.tenant != self.tenant:
            raise TicketRuleError("tenant", "a ticket is changed only on behalf of its own tenant")
        kwargs |= {"tenant": cause.tenant, "actor": cause.actor, "metadata": event_metadata(cause, self.chain_head)}
        kwargs |= {"timestamp": cause.at} if cause.at is not None else {}  # imported history: when it happened
        super().trigger_event(event_class, **kwargs)

    # -- lifecycle -------------------------------------------------------------

    def start_work(self, reason: str) -> None:
        self._check_transition(Status.OPEN, {Status.NEW}, "start work")
        self.trigger_event(self.WorkStarted, reason=reason)

    def mark_pending(self, waiting_for: WaitingFor, until: datetime, reason: str) -> None:
        self._check_transition(Status.PENDING, TRANSITIONS[Status.PENDING], "mark pending")
        self.trigger_event(self.MarkedPending, waiting_for=waiting_for.value, pending_until=until, reason=reason)

    def resume(self, reason: str) -> None:
        self._check_transition(Status.OPEN, {Status.PENDING}, "resume")
        self.trigger_event(self.Resumed, reason=reason)

    def resolve(self, resolution: str, reason: str, *, survey: bool = True) -> None:
        """Resolve, and ask the requester how satisfied they are (the channels send the survey); imported
        history (`survey` False) asks nobody: it was resolved long ago, in another desk."""
        self._check_transition(Status.RESOLVED, TRANSITIONS[Status.RESOLVED], "resolve")
        self.trigger_event(self.Resolved, resolution=resolution, reason=reason)
        if survey:
            self.trigger_event(self.SurveyRequested, reason="resolved")

    def rate(self, score: int, comment: str, reason: str) -> None:
        """The requester's satisfaction with a resolved or closed ticket; a later rating replaces it."""
        if self.status not in (Status.RESOLVED.value, Status.CLOSED.value):
            raise TicketRuleError("status", "only a resolved or closed ticket is rated")
        if not 1 <= score <= 5:
            raise TicketRuleError("score", "a rating is 1 to 5")
        self.trigger_event(self.Rated, score=score, comment=comment, reason=reason)

    def reopen(self, reason: str) -> None:
        self._check_transition(Status.OPEN, {Status.RESOLVED}, "reopen")
        self.trigger_event(self.Reopened, reason=reason)

    def close(self, reason: str) -> None:
        self._check_transition(Status.CLOSED, TRANSITIONS[Status.CLOSED], "close")
        self.trigger_event(self.Closed, reason=reason)

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
        self.trigger_event(
            self.CommentAdded,
            comment_id=comment_id,
            body=body,
            public=public,
            author_id=author_id,
            channel=channel,
            author_kind=kind.value,
        )

    def attach(
        self, attachment_id: str, sha256: str, filename: str, content_type: str, size: int, comment_id: str | None
    ) -> None:
        self._check_not_closed("attach")
        if comment_id is not None and comment_id not in self.comments:
            raise TicketRuleError("comment_id", f"no comment {comment_id} on this ticket")
        self.trigger_event(
            self.AttachmentAdded,
            attachment_id=attachment_id,
            sha256=sha256,
            filename=filename,
            content_type=content_type,
            size=size,
            comment_id=comment_id,
        )

    # -- time accounting -------------------------------------------------------

    @property
    def time_entries(self) -> dict[str, dict[str, Any]]:
        """The time logged, by entry id (events/time.py); none on a ticket (or snapshot) from before it."""
        entries: dict[str, dict[str, Any]] = getattr(self, "logged_time", {})
        return entries

    def log_time(
        self,
        entry_id: str,
        minutes: int,
        activity: str,
        billable: bool,
        note: str,
        agent_id: str,
        worked_on: str,
        corrects: str | None = None,
    ) -> None:
        """Log time worked (`worked_on`: an ISO date), or, with `corrects`, replace an entry as it should have
        been (0 minutes withdraws it): entries are never edited. Allowed on a closed ticket too: it accounts
        for work done, it does not change the ticket."""
        if entry_id in self.time_entries:
            raise TicketRuleError("entry_id", f"time entry {entry_id} exists already")
        if minutes < 0 or (minutes == 0 and corrects is None):
            refusal = "must be more than 0" if corrects is None else "cannot be below 0"
            raise TimeEntryError("minutes", f"{refusal} (a correction gives the entry as it should have been)")
        if minutes > MINUTES_A_DAY:
            raise TimeEntryError("minutes", f"at most {MINUTES_A_DAY} in one entry")
        if corrects is not None:
            corrected = self.time_entries.get(corrects)
            if corrected is None:
                raise TimeEntryError("corrects", f"no time entry {corrects} on this ticket")
            if corrected["corrected_by"] is not None:
                by = corrected["corrected_by"]
                raise TimeEntryError("corrects", f"{corrects} was corrected by {by} already: correct {by}")
        self.trigger_event(
            self.TimeLogged,
            entry_id=entry_id,
            minutes=minutes,
            activity=activity,
            billable=billable,
            note=note,
            agent_id=agent_id,
            worked_on=worked_on,
            corrects=corrects,
            requester_id=self.requester_id,
            organisation=self.organisation,
            group_id=self.group_id,
        )

    # -- classification and assignment -----------------------------------------

    def change_priority(self, priority: str, reason: str) -> None:
        self._check_not_closed("change priority")
        if priority != self.priority:
            self.trigger_event(self.PriorityChanged, priority=priority, previous=self.priority, reason=reason)

    def recategorize(self, category: str, reason: str) -> None:
        self._check_not_closed("recategorize")
        if category != self.category:
            self.trigger_event(self.CategoryChanged, category=category, previous=self.category, reason=reason)

    def retype(self, type: str, reason: str) -> None:
        self._check_not_closed("change type")
        if type != self.type:
            self.trigger_event(self.TypeChanged, type=type, previous=self.type, reason=reason)

    def retag(self, add: list[str], remove: list[str], reason: str) -> None:
        self._check_not_closed("change tags")
        added = sorted(set(add) - set(self.tags))
        removed = sorted(set(remove) & set(self.tags))
        if added or removed:
            self.trigger_event(self.TagsChanged, added=added, removed=removed, reason=reason)

    def change_custom_fields(
        self, values: dict[str, Any], unset: list[str], reason: str, kinds: dict[str, str]
    ) -> None:
        """`kinds`: each field's kind as the tenant defines it now (recorded with the values it is given for)."""
        self._check_not_closed("change custom fields")
        changed = {key: value for key, value in values.items() if self.custom_fields.get(key) != value}
        cleared = sorted(key for key in unset if key in self.custom_fields)
        if changed or cleared:
            kept = {key: kinds[key] for key in changed if key in kinds}
            self.trigger_event(self.CustomFieldsChanged, values=changed, unset=cleared, reason=reason, kinds=kept)

    def assign(self, group_id: str, agent_id: str | None, reason: str, decision_id: str | None = None) -> None:
        """Assign to a group and maybe an agent: by a person, or by routing's `decision_id`."""
        self._check_not_closed("assign")
        if (group_id, agent_id) != (self.group_id, self.agent_id):
            self.trigger_event(
                self.Assigned, group_id=group_id, agent_id=agent_id, reason=reason, decision_id=decision_id
            )

    @property
    def assigned_manually(self) -> bool:
        """A person assigned (or unassigned) it: routing's later decisions leave it alone."""
        return self.assignment_touched and self.assignment_decision is None

    def unassign(self, reason: str) -> None:
        self._check_not_closed("unassign")
        if self.group_id is not None or self.agent_id is not None:
            self.trigger_event(self.Unassigned, reason=reason)

    # -- automation --------------------------------------------------------------

    def record_macro(
        self, macro_id: str, macro_version: int, language: str, comment_id: str, public: bool, actions: dict[str, Any]
    ) -> None:
        """Say which macro the changes after this, in the same save, come from (its reply and its actions)."""
        self._check_not_closed("apply a macro")
        self.trigger_event(
            self.MacroApplied,
            macro_id=macro_id,
            macro_version=macro_version,
            language=language,
            comment_id=comment_id,
            public=public,
            actions=actions,
        )

    def record_trigger(
        self, trigger_id: str, trigger_version: int, firing_id: str, reason: str, actions: dict[str, Any]
    ) -> None:
        """Say which trigger's firing the changes after this, in the same save, come from."""
        self._check_not_closed("apply a trigger")
        self.trigger_event(
            self.TriggerApplied,
            trigger_id=trigger_id,
            trigger_version=trigger_version,
            firing_id=firing_id,
            reason=reason,
            actions=actions,
        )

    def refuse_trigger(
        self, trigger_id: str, trigger_version: int, firing_id: str, refusal: str, for_good: bool
    ) -> None:
        """Record that a trigger's firing changed nothing, and why (the rules service reads it)."""
        self.trigger_event(
            self.TriggerRefused,
            trigger_id=trigger_id,
            trigger_version=trigger_version,
            firing_id=firing_id,
            refusal=refusal,
            for_good=for_good,
        )

    def applied_firing(self, firing_id: str) -> bool:
        return firing_id in getattr(self, "firings_applied", [])

    # -- relations between tickets ---------------------------------------------

    def merge_into(self, target: Ticket, reason: str) -> None:
        """Close this ticket into `target`; both streams record the merge."""
        self._check_not_closed("merge")
        target._check_not_closed("receive a merge")
        if target.id == self.id:
            raise TicketRuleError("merge_into", "a ticket cannot merge into itself")
        self.trigger_event(self.MergedInto, target_id=str(target.id), target_number=target.number, reason=reason)
        target.trigger_event(target.MergeReceived, source_id=str(self.id), source_number=self.number, reason=reason)

    def link(self, other: Ticket, kind: LinkKind, reason: str) -> None:
        """Link this ticket to `other`; a closed `other` is final and records nothing."""
        self._check_not_closed("link")
        if other.id == self.id:
            raise TicketRuleError("ticket_id", "a ticket cannot link to itself")
        if self.links.get(str(other.id)) == kind:
            return
        self.trigger_event(self.Linked, ticket_id=str(other.id), kind=kind.value, reason=reason)
        if other.status != Status.CLOSED:
            other.trigger_event(other.Linked, ticket_id=str(self.id), kind=kind.inverse.value, reason=reason)

    def unlink(self, other: Ticket, reason: str) -> None:
        self._check_not_closed("unlink")
        if str(other.id) not in self.links:
            raise TicketRuleError("ticket_id", f"this ticket is not linked to {other.id}")
        self.trigger_event(self.Unlinked, ticket_id=str(other.id), reason=reason)
        if other.status != Status.CLOSED and str(self.id) in other.links:
            other.trigger_event(other.Unlinked, ticket_id=str(self.id), reason=reason)

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
        self.trigger_event(self.CommentSplitOff, comment_id=comment_id, new_ticket_id=str(new_ticket_id), reason=reason)
        return self.comments[comment_id]

    def link_solution(self, article_id: str) -> None:
        """Name the article that solved the ticket. Allowed on a closed ticket too: it records what was
        learnt from the ticket, not work on it. The same article again records nothing."""
        if not article_id:
            raise TicketRuleError("article_id", "a solution names an article")
        if article_id != self.solution:
            self.trigger_event(self.SolutionLinked, article_id=article_id)

    # -- guards ----------------------------------------------------------------

    def _check_transition(self, requested: Status, allowed_from: set[Status], command: str) -> None:
        if self.status == Status.CLOSED:
            raise TicketClosedError(command)
        if self.status not in allowed_from:
            raise IllegalTransitionError(self.status, requested.value, command)

    def _check_not_closed(self, action: str) -> None:
        if self.status == Status.CLOSED:
            raise TicketClosedError(action)
