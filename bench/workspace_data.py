"""A busy tenant's tickets, written in bulk through intake's own write path: for benchmarks (and
anyone else) that need a store of realistic size.

Each ticket is numbered by the tenant's `TicketNumbers` and opened from a sealed form with the
digests of its words, as `Intake.open_ticket` does; then moved through the ticket aggregate's
own commands (assigned to a group and an agent, worked, put on hold, resolved, closed, commented
on with replies and internal notes, bodies sealed with the requester's key). A batch of tickets
is one `Intake.save` (one transaction), as the store's group commit does; intake's ticket list
(TicketsProjection, in intake's `api` process) builds its rows from these events like any other.
Nothing is written behind the application's back: no rows, only events.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from services.chassis.storage.processing import find
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause, acting
from services.intake.tickets.domain import Ticket
from services.intake.tickets.form import TicketForm
from services.intake.tickets.numbering import TicketNumbers
from services.intake.tickets.vocabulary import WaitingFor
from services.intake.tickets.work import Opening

# Groups and their agents; the first three agents are dev_identity's seeded people of tenant acme.
TEAMS: dict[str, tuple[str, ...]] = {
    "first-line": ("agent-ann", "agent-boris", *(f"agent-f{n}" for n in range(6))),
    "second-line": ("agent-vera", *(f"agent-s{n}" for n in range(4))),
    "billing": tuple(f"agent-b{n}" for n in range(3)),
    "network": tuple(f"agent-n{n}" for n in range(3)),
}
GROUP_SHARE = {"first-line": 40, "second-line": 25, "billing": 15, "network": 10, "": 10}  # "": no group yet
STATUS_SHARE = {"new": 15, "open": 30, "pending": 15, "resolved": 25, "closed": 15}
PRIORITY_SHARE = {"P1": 5, "P2": 20, "P3": 55, "P4": 20}
COMMENTED = 0.4  # the share of tickets with a thread
SUBJECTS = (
    ("VPN drops every hour", "The VPN client disconnects at :00 sharp since Monday.", "network"),
    ("Printer on floor 3 jams", "Tray 2 jams on every duplex job.", "hardware"),
    ("Invoice shows the wrong VAT", "The March invoice charges 20 % instead of 10 %.", "billing"),
    ("Cannot sign in to the portal", "The portal says my password expired but the reset mail never comes.", "access"),
    ("Mailbox is full", "Outlook warns the mailbox is over its quota.", "email"),
    ("Laptop battery swells", "The trackpad lifts; the battery looks swollen.", "hardware"),
    ("Refund for a double charge", "The card was charged twice for order 8812.", "billing"),
    ("Wi-Fi in meeting room B is slow", "Video calls freeze in room B only.", "network"),
    ("New starter needs an account", "Anna starts on Monday in finance.", "access"),
    ("Shared drive not mapped", "The S: drive is missing after the update.", "network"),
)
REPLIES = (
    ("requester", True, "It happened again this morning, screenshot attached."),
    ("staff", True, "Thank you, we are looking into it and will update you today."),
    ("staff", False, "Internal: same symptom as last week's incident, check the gateway logs."),
    ("requester", True, "Any news? The team is blocked."),
    ("staff", True, "A fix is rolled out; please restart and tell us if it persists."),
    ("staff", False, "Internal: waiting for the vendor's answer, case 4471."),
)


@dataclass(frozen=True)
class Seeded:
    """What `seed` wrote: how many tickets and events, in how long, and some ids to look at."""

    tickets: int
    events: int
    seconds: float
    threads: dict[str, list[str]] = field(default_factory=dict)  # group ("" none) -> ids of tickets with comments


def _weighted(rng: random.Random, shares: dict[str, int]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


class _Writer:
    def __init__(self, intake: Intake, tenant: str, rng: random.Random) -> None:
        self.intake, self.tenant, self.rng = intake, tenant, rng
        self.digests = {text: intake.digests.of_text(tenant, f"{text[0]}\n{text[1]}") for text in SUBJECTS}

    def ticket(self, numbers: TicketNumbers, cause: Cause) -> tuple[Ticket, str, bool]:
        rng, seal = self.rng, self.intake.personal.seal
        requester = f"customer-{rng.randrange(2000)}"
        title, description, category = subject = rng.choice(SUBJECTS)
        form = TicketForm(
            seal(self.tenant, requester, title), seal(self.tenant, requester, description), requester,
            rng.choice(("email", "web", "chat", "api")), category, rng.choice(("incident", "request")),
            _weighted(rng, PRIORITY_SHARE), [category], {}, keyword_digests=self.digests[subject],
        )  # fmt: skip
        ticket = Opening(uuid4(), form, cause).ticket(numbers)
        group = _weighted(rng, GROUP_SHARE)
        if group:
            agent = rng.choice(TEAMS[group]) if rng.random() < 0.75 else None
            ticket.assign(group, agent, "placed by the seeding", None)
        status = _weighted(rng, STATUS_SHARE)
        commented = rng.random() < COMMENTED
        if status != "new":
            ticket.start_work("picked up")
        if commented:
            for n in range(rng.randint(1, len(REPLIES))):
                kind, public, body = REPLIES[n]
                author = requester if kind == "requester" else (ticket.agent_id or "agent-ann")
                ticket.add_comment(f"c{n}", seal(self.tenant, requester, body), public, author, "web",
                                   staff=kind == "staff")  # fmt: skip
        if status == "pending":
            until = datetime.now(UTC) + timedelta(days=rng.randint(1, 14))
            ticket.mark_pending(WaitingFor.CUSTOMER, until, "asked the customer for a screenshot")
        elif status in ("resolved", "closed"):
            ticket.resolve(seal(self.tenant, requester, "fixed and confirmed"), "the customer confirmed")
            if status == "closed":
                ticket.close("no answer in 7 days")
        return ticket, group, commented


def seed(
    intake: Intake,
    tenant: str,
    tickets: int,
    *,
    batch: int = 500,
    seed: int = 20,
    progress: Callable[[int, float], None] | None = None,
) -> Seeded:
    """Write `tickets` tickets of `tenant` into `intake`'s store, `batch` per transaction (see the module's
    docstring); `progress(done, seconds)` after each batch. Deterministic for a given `seed`."""
    writer = _Writer(intake, tenant, random.Random(seed))
    cause = Cause(tenant, "bench-seeding", "bench-seeding", "bench-seeding")
    year = datetime.now(UTC).year
    numbers = find(intake, TicketNumbers.create_id(tenant, year), TicketNumbers) or TicketNumbers(tenant, year)
    threads: dict[str, list[str]] = {}
    events, began = 0, time.perf_counter()
    with acting(cause):
        for start in range(0, tickets, batch):
            written = []
            for _ in range(min(batch, tickets - start)):
                ticket, group, commented = writer.ticket(numbers, cause)
                written.append(ticket)
                if commented:
                    threads.setdefault(group, []).append(str(ticket.id))
            events += sum(len(t.pending_events) for t in written) + len(numbers.pending_events)
            intake.save(numbers, *written)
            if progress is not None:
                progress(start + len(written), time.perf_counter() - began)
    return Seeded(tickets, events, round(time.perf_counter() - began, 1), threads)
