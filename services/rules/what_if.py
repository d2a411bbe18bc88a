"""What a draft trigger would have done to the tenant's last N days: the rules service's what-if `Replay`.

The candidate is a trigger as `POST /v1/triggers` takes it (a new one, run last), or with `trigger_id` the
revised definition of an existing one (run in its place). The window's ticket and SLA events (tenant_history
over the public topics) are played through two sandboxes (sandbox.py): the tenant's current book, and the
book with the candidate. Where the candidate fires and the current book did not, its actions change the facts
the later events and triggers see (as intake's save would); where the current book fired and the candidate
book does not, the events that firing caused on the desk are left out of the candidate's replay.

`reproduces_history` compares the current book's replay with the `rules.trigger_fired` events recorded in the
window, on the tickets opened in it, from the instant the book took its current shape (before it, other
triggers were in force: differing there says nothing about the replay).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import Field, ValidationError

from schemas.registry import TypedEnvelope
from schemas.rules import TriggerFiredV1
from schemas.topics import RULES_ACTIONS, SLA_CLOCKS, TICKETS
from services.chassis.http.identity import Identity
from services.chassis.runtime.settings import Settings
from services.chassis.storage.processing import UnitOfWork
from services.chassis.storage.store import tracking_recorder
from services.chassis.whatif.history import tenant_history
from services.chassis.whatif.http import mount_jobs
from services.chassis.whatif.jobs import WhatIfJobs
from services.chassis.whatif.replay import Progress, WhatIfRequest
from services.rules.application import Rules
from services.rules.calendars import SlaCalendars
from services.rules.domain import TriggerBook
from services.rules.field_kinds import IntakeFields
from services.rules.requests import TriggerSpec, as_written
from services.rules.sandbox import BookEntry, Firing, Sandbox

EXAMPLES = 20
CANDIDATE_ID = "candidate"  # the id a new candidate trigger goes by in the report


class CandidateTrigger(TriggerSpec):
    """A draft trigger: as `POST /v1/triggers` takes it, or with `trigger_id` a revision of that trigger."""

    trigger_id: UUID | None = Field(None, description="Revise this trigger (run in its place); none: a new one, last.")


def candidate_of(
    raw: dict[str, Any], where: str = "candidate", context: dict[str, Any] | None = None
) -> tuple[str | None, dict[str, Any]]:
    """(the trigger it revises or None, its stored spec); a wrong part is refused naming it (`candidate.if[0].op`).
    `context`: the SLA calendars and custom fields it names, read as a saved trigger's are (`Lookups`)."""
    known = context or {}
    try:
        draft = CandidateTrigger.model_validate(as_written(raw))
        stored = draft.stored(known.get("calendars"), known.get("fields"))
        return (str(draft.trigger_id) if draft.trigger_id else None), stored
    except ValidationError as error:
        errors: list[Any] = error.errors()
    except RequestValidationError as error:
        errors = list(error.errors())
    raise RequestValidationError(
        [e | {"loc": ("body", where, *[p for p in e["loc"] if p != "body"])} for e in errors]
    ) from None


@dataclass
class TriggerWhatIf:
    """The rules service's `Replay` (services/chassis/whatif/replay.py)."""

    rules: Rules
    bootstrap: str
    topics: list[str]  # the tickets, SLA clocks and rules actions topics, by their names on this desk
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def check(self, request: WhatIfRequest) -> tuple[str | None, dict[str, Any]]:
        """The candidate checked (RequestValidationError naming its field): the trigger it revises, its spec."""
        revised, spec = candidate_of(request.candidate, context=request.context)
        if revised is not None and revised not in {str(t.id) for t in self.rules.triggers(request.tenant)}:
            raise RequestValidationError(
                [{"loc": ("body", "candidate", "trigger_id"), "msg": "no such trigger of this tenant",
                  "type": "value_error"}]
            )  # fmt: skip
        return revised, spec

    def __call__(self, request: WhatIfRequest, progress: Progress) -> dict[str, Any]:
        revised, spec = self.check(request)
        until = self.clock()
        since = until - timedelta(days=request.days)
        current = self._book(request.tenant)
        history = tenant_history(self.bootstrap, self.topics, request.tenant, since, until, lambda _: progress(0, 0))
        replay = Replay(request.tenant, current, candidate_book(current, revised, spec), revised or CANDIDATE_ID)
        replay.run(history, until, progress)
        report = replay.report(self._shaped_at(request.tenant))
        return {
            "kind": "trigger",
            "tenant": request.tenant,
            "days": request.days,
            "since": since.isoformat(),
            "until": until.isoformat(),
            "candidate": {"trigger_id": revised, "name": spec["name"], "replaces": revised is not None},
        } | report

    def _book(self, tenant: str) -> list[BookEntry]:
        return [BookEntry(str(t.id), t.spec, t.live) for t in self.rules.triggers(tenant)]

    def _shaped_at(self, tenant: str) -> datetime | None:
        """When the tenant's book and its triggers last changed."""
        book = UnitOfWork(self.rules).get(TriggerBook.create_id(tenant), TriggerBook)
        moments = [t.modified_on for t in self.rules.triggers(tenant)] + ([book.modified_on] if book else [])
        return max(moments, default=None)


def candidate_book(current: list[BookEntry], revised: str | None, spec: dict[str, Any]) -> list[BookEntry]:
    if revised is None:
        return [*current, BookEntry(CANDIDATE_ID, spec)]
    return [BookEntry(e.trigger_id, spec) if e.trigger_id == revised else e for e in current]


class Replay:
    """The two sandboxes played in step over one history, and what differed."""

    def __init__(self, tenant: str, current: list[BookEntry], candidate: list[BookEntry], candidate_id: str) -> None:
        self.current, self.candidate = Sandbox(tenant, current), Sandbox(tenant, candidate)
        self.candidate_id = candidate_id
        self.before: list[Firing] = []  # the current book's firings
        self.after: list[Firing] = []  # the candidate book's
        self.recorded: dict[tuple[str, str, str], tuple[str, TriggerFiredV1]] = {}  # key -> (envelope id, firing)
        self.numbers: dict[str, str] = {}
        self.opened_at: dict[str, datetime] = {}
        self.instants: dict[str, datetime] = {}
        self.left_out: set[str] = set()  # envelope ids of firings the candidate book does not make
        self.events = 0

    def run(self, history: list[TypedEnvelope], until: datetime, progress: Progress) -> None:
        for envelope in history:
            if isinstance(envelope.data, TriggerFiredV1):
                firing = envelope.data
                self.recorded[(firing.ticket_id, firing.trigger_id, firing.event_id)] = (str(envelope.id), firing)
        played = [e for e in history if not isinstance(e.data, TriggerFiredV1)]
        for done, envelope in enumerate(played, start=1):
            self._note(envelope)
            before = self.current.play(envelope)
            after = self.candidate.play(envelope) if str(envelope.causation_id) not in self.left_out else []
            self._step(before, after)
            progress(done, len(played))
        end = until.timestamp()
        self._step(self.current.ring_until(end), self.candidate.ring_until(end))
        self.events = len(played)

    def _note(self, envelope: TypedEnvelope) -> None:
        self.instants[str(envelope.id)] = envelope.occurred_at
        number = getattr(envelope.data, "number", None)
        if envelope.type == "ticket.opened" and isinstance(number, str):
            self.numbers[envelope.subject] = number
            self.opened_at[envelope.subject] = envelope.occurred_at

    def _step(self, before: list[Firing], after: list[Firing]) -> None:
        """Record both books' firings of one step; a firing only the candidate makes is carried out in its
        sandbox, one only the current book makes has its recorded effects left out of the candidate's."""
        self.before += before
        self.after += after
        made = {f.key for f in after}
        kept = {f.key for f in before}
        for firing in after:
            if firing.key not in kept:
                self.candidate.carry_out(firing)
        for firing in before:
            if firing.key not in made and (recorded := self.recorded.get(firing.key)) is not None:
                self.left_out.add(recorded[0])

    def report(self, shaped_at: datetime | None) -> dict[str, Any]:
        touched = [f for f in self.after if f.trigger_id == self.candidate_id]
        kinds: Counter[str] = Counter(kind for f in touched for kind in f.actions)
        before = {f.key: f for f in self.before}
        after = {f.key: f for f in self.after}
        added = [f for k, f in after.items() if k not in before]
        removed = [f for k, f in before.items() if k not in after]
        return {
            "events": self.events,
            "tickets": len(self.numbers),
            "touched": {
                "tickets": len({f.ticket_id for f in touched}),
                "firings": len(touched),
                "actions": dict(sorted(kinds.items())),
                "examples": [self._example(f) for f in touched[:EXAMPLES]],
            },
            "differed": {
                "added": len(added),
                "removed": len(removed),
                "tickets": len({f.ticket_id for f in added + removed}),
                "examples": [self._example(f, "added") for f in added[:EXAMPLES]]
                + [self._example(f, "removed") for f in removed[:EXAMPLES]],
            },
            "reproduces_history": self._reproduces(shaped_at),
        }

    def _example(self, firing: Firing, change: str | None = None) -> dict[str, Any]:
        shown = {
            "ticket_id": firing.ticket_id,
            "number": self.numbers.get(firing.ticket_id),
            "trigger_id": None if firing.trigger_id == CANDIDATE_ID else firing.trigger_id,
            "trigger_name": firing.trigger_name,
            "event": firing.event_type_seen,
            "at": firing.at.isoformat(),
            "reason": firing.reason,
            "actions": firing.actions,
        }
        return shown | ({"change": change} if change else {})

    def _reproduces(self, shaped_at: datetime | None) -> dict[str, Any]:
        """The current book's replay against the recorded firings, on the window's own tickets, since the
        book took its shape."""

        def counted(ticket_id: str, at: datetime | None) -> bool:
            return ticket_id in self.opened_at and (shaped_at is None or (at is not None and at >= shaped_at))

        replayed = {f.key: f for f in self.before if counted(f.ticket_id, f.at)}
        recorded = {k: f for k, (_, f) in self.recorded.items() if counted(k[0], self._instant_of(f.event_id))}
        differed = [("replayed only", replayed[k]) for k in replayed.keys() - recorded.keys()]
        missing = [recorded[k] for k in recorded.keys() - replayed.keys()]
        examples = [self._example(f, change) for change, f in differed[:EXAMPLES]]
        examples += [
            {"ticket_id": f.ticket_id, "number": self.numbers.get(f.ticket_id), "trigger_id": f.trigger_id,
             "trigger_name": f.trigger_name, "event": f.event_type_seen, "reason": f.reason, "actions": f.actions,
             "change": "recorded only"}
            for f in missing[:EXAMPLES]
        ]  # fmt: skip
        return {
            "checked": len(replayed.keys() | recorded.keys()),
            "differed": len(differed) + len(missing),
            "since": shaped_at.isoformat() if shaped_at else None,
            "examples": examples,
        }

    def _instant_of(self, event_id: str) -> datetime | None:
        if event_id.startswith("time:"):
            return datetime.fromtimestamp(float(event_id.removeprefix("time:")), UTC)
        return self.instants.get(event_id)


@dataclass(frozen=True)
class Lookups:
    """What a draft needs of other services, read as the admin who asks, as when a trigger is saved (api.py): the
    SLA calendars its business-hours conditions name and the custom fields its conditions name."""

    calendars: SlaCalendars | None = None
    fields: IntakeFields | None = None

    async def __call__(self, request: WhatIfRequest, who: Identity) -> WhatIfRequest:
        try:
            draft = TriggerSpec.model_validate(
                as_written({k: v for k, v in request.candidate.items() if k != "trigger_id"})
            )
        except ValidationError:
            return request  # the check names what is wrong
        names, keys = draft.calendars(), draft.custom_fields()
        context: dict[str, Any] = {}
        if names:
            context["calendars"] = await self.calendars.named(who, names) if self.calendars is not None else {}
        if keys:
            context["fields"] = await self.fields.named(who, keys) if self.fields is not None else {}
        return replace(request, context=context)


def mount_what_if(app: FastAPI, rules: Rules, settings: Settings, owner: str, lookups: Lookups) -> WhatIfJobs:
    """`/v1/triggers/what-if` on `app`: the draft triggers' replays as jobs of the rules service's store."""
    replay = on_desk(rules, settings)
    recorder = tracking_recorder(settings, Rules.name)
    path = "/v1/triggers/what-if"
    return mount_jobs(app, recorder, "trigger", owner, path, replay, replay.check, "triggers", lookups)


def on_desk(rules: Rules, settings: Settings) -> TriggerWhatIf:
    """The what-if of the desk `settings` describe: `rules`' store (only read) and the desk's topics."""
    return TriggerWhatIf(rules, settings.kafka_bootstrap_servers, topics_of(settings))


def topics_of(settings: Settings) -> list[str]:
    """What a trigger's replay reads: the events the rules service consumes, and its own recorded firings."""
    return [settings.kafka_name(topic) for topic in (TICKETS, SLA_CLOCKS, RULES_ACTIONS)]
