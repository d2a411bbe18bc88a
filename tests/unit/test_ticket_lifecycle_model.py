"""Any sequence of commands keeps tickets on their lifecycle: a model of the lifecycle against the real desk.

Each step either moves a ticket exactly as the model says, recording exactly the
events the model expects, or is refused with the desk's error and records nothing.
After every step each ticket equals a replay of its stored events, sits where the
model says, and its hash chain is intact.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import MutableOrImmutableAggregate
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.domain import Ticket
from services.intake.tickets.errors import IllegalTransitionError, TicketClosedError, TicketRuleError
from services.intake.tickets.form import TicketForm
from services.intake.tickets.vocabulary import Status, WaitingFor
from services.intake.tickets.work import TicketNotFoundError
from tests.privacy import MEMORY, memory_intake

TENANT = "acme"
AGENT = Cause(TENANT, "agent-7", "corr-model", "model")
STRANGER = Cause("globex", "agent-9", "corr-model", "model")
UNTIL = datetime(2030, 1, 1, 9, tzinfo=UTC)
TAGS = st.sampled_from(["printer", "vip", "network"])
MAX_TICKETS = 3
EXPLORE = settings(max_examples=50, stateful_step_count=30, deadline=None)

# The lifecycle: each status command, the states it may start from, and the state it leads to.
LIFECYCLE: dict[str, tuple[frozenset[Status], Status]] = {
    "start_work": (frozenset({Status.NEW}), Status.OPEN),
    "mark_pending": (frozenset({Status.NEW, Status.OPEN, Status.PENDING}), Status.PENDING),
    "resume": (frozenset({Status.PENDING}), Status.OPEN),
    "resolve": (frozenset({Status.NEW, Status.OPEN, Status.PENDING}), Status.RESOLVED),
    "reopen": (frozenset({Status.RESOLVED}), Status.OPEN),
    "close": (frozenset({Status.RESOLVED}), Status.CLOSED),
}

Command = Callable[[], Ticket]  # one of the application's commands on one ticket


@dataclass
class Model:
    """What the desk should hold for one ticket, and the ticket its last command returned."""

    live: Ticket
    status: Status = Status.NEW
    version: int = 1
    priority: str = "P3"
    tags: set[str] = field(default_factory=lambda: {"printer"})
    resolution: str | None = None
    assignee: tuple[str | None, str | None] = (None, None)
    comments: set[str] = field(default_factory=set)


def replayed(intake: Intake, ticket_id: UUID) -> Ticket:
    """The ticket rebuilt from nothing but its stored events, bypassing cache and snapshots."""
    state: Any = None
    for stored in intake.events.get(ticket_id):
        domain_event: Any = stored
        state = domain_event.mutate(state)
    assert isinstance(state, Ticket)
    return state


class TicketLifecycle(RuleBasedStateMachine):
    """A few tickets under any sequence of commands, merges between them included."""

    tickets = Bundle("tickets")

    def __init__(self) -> None:
        super().__init__()
        self.intake = self.new_intake()
        self.models: dict[UUID, Model] = {}
        self.refusal: Exception | None = None

    def new_intake(self) -> Intake:
        return memory_intake()

    @initialize(target=tickets)
    def open_first_ticket(self) -> UUID:
        return self.open_ticket()

    @precondition(lambda self: len(self.models) < MAX_TICKETS)
    @rule(target=tickets)
    def open_another_ticket(self) -> UUID:
        return self.open_ticket()

    # -- status commands -----------------------------------------------------------

    @rule(ticket=tickets)
    def start_work(self, ticket: UUID) -> None:
        self.move(ticket, "start_work", lambda: self.intake.start_work(ticket, AGENT, "on it"))

    @rule(ticket=tickets, waiting_for=st.sampled_from(WaitingFor))
    def mark_pending(self, ticket: UUID, waiting_for: WaitingFor) -> None:
        self.move(
            ticket, "mark_pending",
            lambda: self.intake.mark_pending(ticket, AGENT, waiting_for, UNTIL, "asked for the serial number"),
        )  # fmt: skip

    @rule(ticket=tickets)
    def resume(self, ticket: UUID) -> None:
        self.move(ticket, "resume", lambda: self.intake.resume(ticket, AGENT, "customer answered"))

    @rule(ticket=tickets, resolution=st.sampled_from(["replaced the roller", "no fault found"]))
    def resolve(self, ticket: UUID, resolution: str) -> None:
        if self.move(ticket, "resolve", lambda: self.intake.resolve(ticket, AGENT, resolution, "fixed")):
            self.models[ticket].resolution = resolution

    @rule(ticket=tickets)
    def reopen(self, ticket: UUID) -> None:
        if self.move(ticket, "reopen", lambda: self.intake.reopen(ticket, AGENT, "jams again")):
            self.models[ticket].resolution = None

    @rule(ticket=tickets)
    def close(self, ticket: UUID) -> None:
        self.move(ticket, "close", lambda: self.intake.close_ticket(ticket, AGENT, "customer confirmed"))

    @rule(source=tickets, survivor=tickets)
    def merge(self, source: UUID, survivor: UUID) -> None:
        """Closes the source into the survivor; either being closed, or both the same, refuses it."""
        closed = Status.CLOSED in (self.models[source].status, self.models[survivor].status)
        refusal = TicketClosedError if closed else TicketRuleError if source == survivor else None
        if self.expect(source, lambda: self.intake.merge(source, survivor, "duplicate", AGENT), refusal, records=1):
            self.models[source].status = Status.CLOSED
            self.models[survivor].version += 1
        assert self.stored_version(survivor) == self.models[survivor].version

    # -- other commands ------------------------------------------------------------

    @rule(ticket=tickets, comment_id=st.sampled_from(["c1", "c2"]))
    def add_comment(self, ticket: UUID, comment_id: str) -> None:
        model = self.models[ticket]
        duplicate = TicketRuleError if comment_id in model.comments else None
        if self.attempt(
            ticket,
            lambda: self.intake.comment(ticket, AGENT, comment_id, "any news?", True, "web", staff=False),
            duplicate,
        ):
            model.comments.add(comment_id)

    @rule(ticket=tickets, priority=st.sampled_from(["P1", "P2", "P3", "P4"]))
    def change_priority(self, ticket: UUID, priority: str) -> None:
        model = self.models[ticket]
        if self.attempt(
            ticket,
            lambda: self.intake.change_priority(ticket, AGENT, priority, "outage"),
            records=priority != model.priority,
        ):
            model.priority = priority

    @rule(ticket=tickets, group=st.sampled_from(["desk", "network"]), agent=st.sampled_from([None, "agent-7"]))
    def assign(self, ticket: UUID, group: str, agent: str | None) -> None:
        model = self.models[ticket]
        changes = (group, agent) != model.assignee
        if self.attempt(ticket, lambda: self.intake.assign(ticket, AGENT, group, agent, "skills"), records=changes):
            model.assignee = (group, agent)

    @rule(ticket=tickets, add=st.sets(TAGS), remove=st.sets(TAGS))
    def retag(self, ticket: UUID, add: set[str], remove: set[str]) -> None:
        model = self.models[ticket]
        remove = remove - add  # a tag both added and removed is ambiguous; the model leaves it out
        tags = (model.tags | add) - remove
        if self.attempt(
            ticket,
            lambda: self.intake.retag(ticket, AGENT, sorted(add), sorted(remove), "triage"),
            records=tags != model.tags,
        ):
            model.tags = tags

    @rule(ticket=tickets)
    def another_tenant_cannot_touch_it(self, ticket: UUID) -> None:
        self.expect(ticket, lambda: self.intake.resume(ticket, STRANGER, "x"), TicketNotFoundError)

    @rule()
    def the_desk_restarts(self) -> None:
        """Like a fresh process: the next read rebuilds each ticket from the store."""
        cache = self.intake.repository.cache
        assert cache is not None
        for ticket_id in self.models:
            with suppress(KeyError):
                cache.get(ticket_id, evict=True)

    # -- invariants ----------------------------------------------------------------

    @invariant()
    def each_ticket_equals_its_replayed_events(self) -> None:
        for ticket_id, model in self.models.items():
            replay = vars(replayed(self.intake, ticket_id))
            assert vars(self.intake.get_ticket(ticket_id, TENANT)) == replay
            if model.live.version == model.version:  # a merge into it records there, not on `live`
                assert vars(model.live) == replay

    @invariant()
    def each_ticket_is_where_the_model_says(self) -> None:
        for ticket_id, model in self.models.items():
            ticket = self.intake.get_ticket(ticket_id, TENANT)
            resolution = self.intake.personal.unseal(TENANT, ticket.resolution) if ticket.resolution else None  # sealed
            assert (ticket.status, ticket.version, resolution) == (model.status, model.version, model.resolution)
            assert (ticket.priority, set(ticket.tags), set(ticket.comments)) == (
                model.priority,
                model.tags,
                model.comments,
            )
            assert (ticket.group_id, ticket.agent_id) == model.assignee
            pending = model.status == Status.PENDING
            assert (ticket.waiting_for is not None) == (ticket.pending_until is not None) == pending

    @invariant()
    def each_hash_chain_is_intact(self) -> None:
        for ticket_id, model in self.models.items():
            report = self.intake.verify(ticket_id, TENANT)
            assert (report.broken, report.checked) == (None, model.version)

    # -- how a step is judged -------------------------------------------------------

    def open_ticket(self) -> UUID:
        form = TicketForm("Printer jam", "Tray 2 jams", "c-1", "email", "hardware", "incident", "P3", ["printer"])
        ticket = self.intake.open_ticket(uuid4(), form, AGENT).ticket
        self.models[ticket.id] = Model(ticket)
        return ticket.id

    def move(self, ticket: UUID, command: str, run: Command) -> bool:
        """A status command: to the model's next state, or refused naming where the ticket is.
        Resolving records two events: resolved, and the satisfaction survey requested."""
        model = self.models[ticket]
        allowed_from, target = LIFECYCLE[command]
        refusal = None if model.status in allowed_from else IllegalTransitionError
        moved = self.attempt(ticket, run, refusal, records=2 if command == "resolve" else 1)
        if moved:
            model.status = target
        elif model.status != Status.CLOSED:
            error = self.refusal
            assert isinstance(error, IllegalTransitionError)
            assert (error.current, error.requested) == (model.status.value, target.value)
        return moved

    def attempt(self, ticket: UUID, run: Command, refusal: type[Exception] | None = None, records: int = 1) -> bool:
        """A command on one ticket; a closed ticket refuses every one."""
        refusal = TicketClosedError if self.models[ticket].status == Status.CLOSED else refusal
        return self.expect(ticket, run, refusal, records)

    def expect(
        self, ticket: UUID, act: Callable[[], Ticket], refusal: type[Exception] | None, records: int = 0
    ) -> bool:
        """Either `act` is refused with exactly `refusal` and records nothing, or it records `records` events."""
        model = self.models[ticket]
        if refusal is not None:
            with pytest.raises(refusal) as caught:
                act()
            assert type(caught.value) is refusal
            assert self.stored_version(ticket) == model.version
            self.refusal = caught.value
            return False
        model.live = act()
        model.version += records
        assert self.stored_version(ticket) == model.version
        return True

    def stored_version(self, ticket: UUID) -> int:
        (last,) = self.intake.recorder.select_events(ticket, desc=True, limit=1)
        return last.originator_version


def test_any_sequence_of_commands_keeps_the_lifecycle() -> None:
    run_state_machine_as_test(
        TicketLifecycle, settings=settings(max_examples=50, stateful_step_count=30, deadline=None)
    )


class SnapshotEveryThirdEvent(Intake):
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[Any]], int]] = {Ticket: 3}


class TicketLifecycleFromSnapshots(TicketLifecycle):
    """The same lifecycle when restarts rebuild tickets from frequent snapshots."""

    def new_intake(self) -> Intake:
        plain = memory_intake()
        return SnapshotEveryThirdEvent(
            env=MEMORY, personal=plain.personal, digests=plain.digests, audit_secret=plain.audit_secret
        )


def test_any_sequence_of_commands_keeps_the_lifecycle_across_restarts_from_snapshots() -> None:
    run_state_machine_as_test(TicketLifecycleFromSnapshots, settings=EXPLORE)
