"""Ticket events published by intake on `intake.tickets`.

Public events carry ids and classifications, never personal data: the title,
description and the requester's name stay in intake's store.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from schemas.envelope import EventData


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class TicketType(StrEnum):
    INCIDENT = "incident"
    REQUEST = "request"
    QUESTION = "question"
    PROBLEM = "problem"


class Channel(StrEnum):
    API = "api"
    EMAIL = "email"
    CHAT = "chat"
    MESSENGER = "messenger"
    PHONE = "phone"
    PORTAL = "portal"


class AuthorKind(StrEnum):
    """Who wrote a comment, as intake authenticated them when it was written."""

    STAFF = "staff"  # an agent, supervisor or admin of the desk
    REQUESTER = "requester"  # the ticket's requester
    OTHER = "other"  # anyone else: a colleague of the requester, an outsider


class TicketOpenedV1(EventData):
    """A ticket was opened: the desk now owes the requester an answer."""

    event_type: ClassVar[str] = "ticket.opened"
    event_version: ClassVar[int] = 1

    ticket_id: str
    number: str = Field(description="Human-readable ticket number, e.g. SD-2026-000123.")
    requester_id: str
    channel: Channel
    category: str
    type: TicketType
    priority: Priority
    tags: list[str] = Field(default_factory=list)


class TicketOpenedV2(TicketOpenedV1):
    """v2 adds what routing rules match on besides the classification: the requester's
    organisation and the words of the title and description (`keywords`, lower-cased,
    each once, e-mail addresses, links and numbers left out). v1 events read as v2 with
    neither (see `schemas.registry.upcast`)."""

    event_version: ClassVar[int] = 2

    organisation: str | None = None
    keywords: list[str] = Field(default_factory=list)
    group_id: str | None = Field(
        default=None,
        description="The default group of the channel it arrived on (a desk mailbox's, a messenger bot's): routing"
        " places it there when no rule matches, instead of the tenant's default group.",
    )


class TicketOpenedV3(TicketOpenedV1):
    """v3 carries no words of the ticket: `keyword_digests` are keyed digests of the words of the
    title and description (see `schemas.keywords`), which routing compares with digests of its
    rules' words. v2 events read as v3 with their plain words kept aside (`legacy_keywords`, not
    part of the contract) so rules still match them."""

    event_version: ClassVar[int] = 3

    organisation: str | None = None
    keyword_digests: list[str] = Field(
        default_factory=list, description="HMAC-SHA256 of `<tenant> NUL <word>`, first 16 bytes in hex, per word."
    )
    group_id: str | None = Field(
        default=None,
        description="The default group of the channel it arrived on (a desk mailbox's, a messenger bot's): routing"
        " places it there when no rule matches, instead of the tenant's default group.",
    )

    @property
    def legacy_keywords(self) -> list[str]:
        """The plain words of a v2 event this was upcast from (none for a v3)."""
        return []


class TicketOpenedV3FromV2(TicketOpenedV3):
    """A v2 read as v3, its plain words kept aside (a private attribute costs every model that has
    one a call after validation: v3s, the many, do without)."""

    _legacy_keywords: list[str] = PrivateAttr(default_factory=list)

    @property
    def legacy_keywords(self) -> list[str]:
        return self._legacy_keywords


PublicFieldValue = str | float | bool  # a choice field's choice, a number, a yes or no


class TicketOpenedV4(TicketOpenedV3):
    """v4 adds what triggers may match besides the classification: the ticket's language and the values of its
    custom fields of the kinds that cannot hold personal data (choice, number, boolean; never text or date).
    v3 events read as v4 with neither (see `schemas.registry.upcast`)."""

    event_version: ClassVar[int] = 4

    language: str | None = Field(
        default=None, description="The ticket's language (ISO 639-1, e.g. `ru`), as its channel or caller said it."
    )
    custom_fields: dict[str, PublicFieldValue] = Field(
        default_factory=dict,
        description="Key -> value of its choice, number and boolean custom fields (text and date fields, which may"
        " hold personal data, are never published).",
    )


class TicketOpenedV4FromV2(TicketOpenedV4):
    """A v2 read as v4, its plain words kept aside (as `TicketOpenedV3FromV2`)."""

    _legacy_keywords: list[str] = PrivateAttr(default_factory=list)

    @property
    def legacy_keywords(self) -> list[str]:
        return self._legacy_keywords


class ImportedFrom(BaseModel):
    """Where an imported ticket was read: the other desk's kind (`rt`, `csv`), its address, and the ticket's id
    there (its external reference is `<system>:<id>`)."""

    model_config = ConfigDict(frozen=True)

    system: str
    url: str
    id: str


class TicketOpenedV5(TicketOpenedV4):
    """v5 says whether the ticket was imported from another desk with its history (`imported_from`): its
    events carry the instants and actors of that desk, so routing does not route it, SLA starts no clock
    and no trigger acts on it. v4 events read as v5 opened here (`imported_from` null)."""

    event_version: ClassVar[int] = 5

    imported_from: ImportedFrom | None = Field(
        default=None, description="The desk it was imported from; null for a ticket opened in this desk."
    )


class TicketOpenedV5FromV2(TicketOpenedV5):
    """A v2 read as v5, its plain words kept aside (as `TicketOpenedV3FromV2`)."""

    _legacy_keywords: list[str] = PrivateAttr(default_factory=list)

    @property
    def legacy_keywords(self) -> list[str]:
        return self._legacy_keywords


class TicketOpenedV6(TicketOpenedV5):
    """v6 carries the SLA of the ticket's organisation as the desk's directory (`/v1/organisations`) held it when
    the ticket opened: its own policy, which the SLA service prefers to its matching rules, and its business-hours
    calendar, which counts the targets instead of the policy's own. Published only for a ticket whose organisation
    names either; v5 events (and older) read as v6 with neither (see `schemas.registry.upcast`)."""

    event_version: ClassVar[int] = 6

    sla_policy_id: str | None = Field(
        default=None,
        description="The organisation's own SLA policy (an id of `/v1/sla/policies`), as the organisation named it;"
        " intake does not check it: the SLA service falls back to its matching rules when it knows no such policy.",
    )
    sla_calendar_id: str | None = Field(
        default=None,
        description="The organisation's own business-hours calendar (an id of `/v1/sla/calendars`, or `24x7`), as the"
        " organisation named it; the SLA service counts by the policy's own calendar when it knows no such calendar.",
    )


class TicketOpenedV6FromV2(TicketOpenedV6):
    """A v2 read as v6, its plain words kept aside (as `TicketOpenedV3FromV2`)."""

    _legacy_keywords: list[str] = PrivateAttr(default_factory=list)

    @property
    def legacy_keywords(self) -> list[str]:
        return self._legacy_keywords


class TicketCustomFieldsChangedV1(EventData):
    """Custom fields of the kinds that cannot hold personal data (choice, number, boolean) were set or unset on
    the ticket; a change of its text or date fields only is not published."""

    event_type: ClassVar[str] = "ticket.custom_fields_changed"
    event_version: ClassVar[int] = 1

    ticket_id: str
    values: dict[str, PublicFieldValue] = Field(
        default_factory=dict, description="Key -> its new value (choice, number and boolean fields only)."
    )
    unset: list[str] = Field(default_factory=list, description="The keys of the fields that now hold no value.")


class TicketStatusChangedV1(EventData):
    """The ticket moved in its lifecycle; `change` names how (work_started, resolved, ...)."""

    event_type: ClassVar[str] = "ticket.status_changed"
    event_version: ClassVar[int] = 1

    ticket_id: str
    status: str
    change: str
    pending_until: str | None = None
    waiting_for: str | None = None


class TicketPriorityChangedV1(EventData):
    event_type: ClassVar[str] = "ticket.priority_changed"
    event_version: ClassVar[int] = 1

    ticket_id: str
    priority: Priority
    previous: Priority


class TicketReclassifiedV1(EventData):
    """Category, type or tags changed; only the fields that changed are set."""

    event_type: ClassVar[str] = "ticket.reclassified"
    event_version: ClassVar[int] = 1

    ticket_id: str
    category: str | None = None
    type: TicketType | None = None
    tags_added: list[str] = Field(default_factory=list)
    tags_removed: list[str] = Field(default_factory=list)


class TicketAssignedV1(EventData):
    """Assigned to a group (and maybe an agent); both null when unassigned."""

    event_type: ClassVar[str] = "ticket.assigned"
    event_version: ClassVar[int] = 1

    ticket_id: str
    group_id: str | None
    agent_id: str | None


class TicketCommentedV1(EventData):
    """A public reply or an internal note; its body stays in intake."""

    event_type: ClassVar[str] = "ticket.commented"
    event_version: ClassVar[int] = 1

    ticket_id: str
    comment_id: str
    public: bool
    author_id: str
    channel: str


class TicketCommentedV2(TicketCommentedV1):
    """v2 says who wrote: only a staff reply answers the requester (meets a response target); a
    comment of the requester's, or of anyone else, does not."""

    event_version: ClassVar[int] = 2

    author_kind: AuthorKind | None = Field(
        description="`staff` (an agent, supervisor or admin), `requester` (the ticket's requester) or `other`"
        " (anyone else: a colleague of the requester, an outsider), as intake authenticated the author. Intake"
        " always sets it; null only on a v1 event read as v2 (see `kind_for`)."
    )

    def kind_for(self, requester_id: str) -> AuthorKind:
        """Who wrote, for a reader that knows the ticket's requester. A v1 event did not say: its author
        is the requester when the ids match, else `other`: nobody vouched for them as staff, and only
        staff answer the requester (a staff reply published as v1 by an intake from before v2 no longer
        meets a response target; the next staff reply does)."""
        if self.author_kind is not None:
            return self.author_kind
        return AuthorKind.REQUESTER if self.author_id == requester_id else AuthorKind.OTHER


class TicketMergedV1(EventData):
    """The ticket was merged into another, which closed it; `into_ticket_id` carries on."""

    event_type: ClassVar[str] = "ticket.merged"
    event_version: ClassVar[int] = 1

    ticket_id: str
    into_ticket_id: str


class TicketLinkedV1(EventData):
    """A link to another ticket was added (`kind`) or removed (`kind` null)."""

    event_type: ClassVar[str] = "ticket.linked"
    event_version: ClassVar[int] = 1

    ticket_id: str
    other_ticket_id: str
    kind: str | None


class TicketSurveyRequestedV1(EventData):
    """The ticket was resolved: ask the requester to rate it (the channels send the survey)."""

    event_type: ClassVar[str] = "ticket.survey_requested"
    event_version: ClassVar[int] = 1

    ticket_id: str


class TicketRatedV1(EventData):
    """The requester rated the resolved ticket (1 to 5); the comment stays in intake."""

    event_type: ClassVar[str] = "ticket.rated"
    event_version: ClassVar[int] = 1

    ticket_id: str
    score: int = Field(ge=1, le=5)


class TicketSolutionLinkedV1(EventData):
    """An agent linked the knowledge base article that solved the ticket (a later one replaces it)."""

    event_type: ClassVar[str] = "ticket.solution_linked"
    event_version: ClassVar[int] = 1

    ticket_id: str
    article_id: str


class TicketMacroAppliedV1(EventData):
    """A macro was applied to the ticket: published first of the events its one save recorded (its reply,
    `ticket.commented`, and its actions' own events), which carry the same correlation id."""

    event_type: ClassVar[str] = "ticket.macro_applied"
    event_version: ClassVar[int] = 1

    ticket_id: str
    macro_id: str
    macro_version: int = Field(ge=1, description="The macro's version that was applied.")
    language: str = Field(description="The language of the body it replied with.")
    comment_id: str = Field(description="The reply (or internal note) it added.")
    public: bool
    actions: list[str] = Field(
        default_factory=list,
        description="What else it set: status, priority, tags_add, tags_remove, custom_fields, group_id "
        "(the values are in the events that follow it, or the ticket).",
    )


class TicketTriggerAppliedV1(EventData):
    """A trigger's firing was applied to the ticket: published first of the events its one save recorded (its
    internal note, `ticket.commented`, and its actions' own events), which carry the firing's correlation id."""

    event_type: ClassVar[str] = "ticket.trigger_applied"
    event_version: ClassVar[int] = 1

    ticket_id: str
    trigger_id: str
    trigger_version: int = Field(ge=1, description="The trigger's version that fired.")
    firing_id: str = Field(description="The rules service's firing (rules.trigger_fired) it carries out.")
    reason: str = Field(description="Why the trigger fired, in words.")
    actions: list[str] = Field(
        default_factory=list,
        description="What it set: status, priority, tags_add, tags_remove, custom_fields, group_id, agent_id, note "
        "(the values are in the events that follow it, or the ticket).",
    )


class TicketTriggerAppliedV2(TicketTriggerAppliedV1):
    """v2 adds who the firing calls and tells beyond the ticket: the tenant's webhook subscriptions it calls (each
    gets one delivery of this event, whatever its event filter) and the routing group it notifies by e-mail.
    v1 events read as v2 calling and notifying no one (see `schemas.registry.upcast`)."""

    event_version: ClassVar[int] = 2

    webhook_ids: list[str] = Field(
        default_factory=list, description="The webhook subscriptions this firing calls with this event."
    )
    notify_group_id: str | None = Field(None, description="The routing group this firing notifies by e-mail.")


class TicketTriggerRefusedV1(EventData):
    """A trigger's firing was refused on the ticket and changed nothing. `for_good`: the trigger itself is at
    fault (a custom field the tenant lacks, a macro that is gone, a note that does not render), so the rules
    service disables it; otherwise only this ticket's state refused it (a status it cannot move to)."""

    event_type: ClassVar[str] = "ticket.trigger_refused"
    event_version: ClassVar[int] = 1

    ticket_id: str
    trigger_id: str
    trigger_version: int = Field(ge=1)
    firing_id: str
    refusal: str = Field(description="Why, in words, naming the action (`then.custom_fields: ...`).")
    for_good: bool


class TicketTimeLoggedV1(EventData):
    """An agent logged time worked on the ticket. A wrong entry is never edited: a later entry that
    `corrects` it replaces it (its minutes, activity, billable and date count instead; 0 minutes withdraws
    it). The note stays in intake (it may hold personal data); the requester, organisation and group are the
    ticket's when the time was logged, so a report credits the time as it was spent."""

    event_type: ClassVar[str] = "ticket.time_logged"
    event_version: ClassVar[int] = 1

    ticket_id: str
    entry_id: str
    agent_id: str = Field(description="Who worked the time (the agent who logged it).")
    minutes: int = Field(ge=0, le=1440, description="Minutes worked; 0 only on a correction that withdraws an entry.")
    activity: str = Field(description="The tenant's activity type (`/v1/time-activity-types`).")
    billable: bool
    worked_on: date = Field(description="The day the work was done.")
    corrects: str | None = Field(default=None, description="The entry this one replaces, if it is a correction.")
    requester_id: str
    organisation: str | None = None
    group_id: str | None = None
