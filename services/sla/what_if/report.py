"""What a candidate SLA setup would have changed over a window: breaches and warnings added and avoided,
per priority and per target, with example tickets; and whether the replay under the current setup
reproduced the warnings and breaches SLA recorded (`sla.clocks`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.sla.what_if.sandbox import Run, Sandbox

EXAMPLES = 5
Firing = tuple[str, str, str, int | None, datetime]  # (ticket, target, "warning"|"breach", threshold, when)


@dataclass
class Ticket:
    number: str
    priority: str


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant is not None else None


class Tally:
    """Counts of one kind (breaches or warnings): totals before and after, and added/avoided by priority
    and by target, with a few examples of each."""

    def __init__(self) -> None:
        self.totals: Counter[str] = Counter()
        self.by_priority: dict[str, Counter[str]] = {}
        self.by_target: dict[str, Counter[str]] = {}
        self.examples: dict[str, list[dict[str, Any]]] = {"added": [], "avoided": []}

    def count(self, before: bool, after: bool, priority: str, target: str, example: dict[str, Any]) -> None:
        changes = [side for side, holds in (("current", before), ("candidate", after)) if holds]
        if after and not before:
            changes.append("added")
        elif before and not after:
            changes.append("avoided")
        for change in changes:
            for counts in (self.totals, self.by_priority.setdefault(priority, Counter()),
                           self.by_target.setdefault(target, Counter())):  # fmt: skip
                counts[change] += 1
            if change in self.examples and len(self.examples[change]) < EXAMPLES:
                self.examples[change].append(example)

    def report(self) -> dict[str, Any]:
        def counts(c: Counter[str]) -> dict[str, int]:
            return {k: c[k] for k in ("current", "candidate", "added", "avoided")}

        return counts(self.totals) | {
            "by_priority": {p: counts(c) for p, c in sorted(self.by_priority.items())},
            "by_target": {t: counts(c) for t, c in sorted(self.by_target.items())},
            "examples": self.examples,
        }


def compared(current: Sandbox, candidate: Sandbox, tickets: dict[str, Ticket]) -> dict[str, Any]:
    breaches, warnings = Tally(), Tally()
    for key in sorted(current.runs.keys() | candidate.runs.keys()):
        ticket_id, target = key
        ticket = tickets.get(ticket_id, Ticket("", ""))
        befores, afters = current.runs.get(key, []), candidate.runs.get(key, [])
        for index in range(max(len(befores), len(afters))):
            before = befores[index] if index < len(befores) else None
            after = afters[index] if index < len(afters) else None
            example = _example(ticket_id, ticket, target, before, after)
            priority = example["priority"]
            breaches.count(
                before is not None and before.breached_at is not None,
                after is not None and after.breached_at is not None,
                priority,
                target,
                example,
            )
            warned_before = set(before.warned) if before else set()
            warned_after = set(after.warned) if after else set()
            for threshold in sorted(warned_before | warned_after):
                warnings.count(
                    threshold in warned_before,
                    threshold in warned_after,
                    priority,
                    target,
                    example | {"threshold_percent": threshold},
                )
    return {"breaches": breaches.report(), "warnings": warnings.report()}


def _example(ticket_id: str, ticket: Ticket, target: str, before: Run | None, after: Run | None) -> dict[str, Any]:
    run = before or after  # an answer, and the priority, are the same under either setup
    answered = run.met_at if run is not None else None
    return {
        "ticket_id": ticket_id, "number": ticket.number, "priority": run.priority if run else ticket.priority,
        "target": target,
        "due_before": _iso(before.due_at) if before else None, "due_after": _iso(after.due_at) if after else None,
        "answered_at": _iso(answered),
        "breached_before": _iso(before.breached_at) if before else None,
        "breached_after": _iso(after.breached_at) if after else None,
    }  # fmt: skip


def firings(sandbox: Sandbox) -> set[Firing]:
    found: set[Firing] = set()
    for (ticket_id, target), runs in sandbox.runs.items():
        for run in runs:
            found |= {(ticket_id, target, "warning", t, at) for t, at in run.warned.items()}
            if run.breached_at is not None:
                found.add((ticket_id, target, "breach", None, run.breached_at))
    return found


def reproduction(recorded: set[Firing], replayed: set[Firing], tickets: dict[str, Ticket]) -> dict[str, Any]:
    """The current setup's replay against what SLA recorded, firing by firing (ticket, target, kind,
    threshold, instant), for the tickets opened in the window."""
    differed = sorted(recorded ^ replayed, key=lambda f: (f[4], f[0], f[1], f[2]))
    return {
        "checked": len(recorded | replayed),
        "differed": len(differed),
        "tickets": len(tickets),
        "examples": [_differed(firing, recorded, replayed, tickets) for firing in differed[:10]],
    }


def _differed(
    firing: Firing, recorded: set[Firing], replayed: set[Firing], tickets: dict[str, Ticket]
) -> dict[str, Any]:
    ticket_id, target, kind, threshold, at = firing
    return {
        "ticket_id": ticket_id, "number": tickets[ticket_id].number if ticket_id in tickets else "",
        "target": target, "kind": kind, "threshold_percent": threshold, "at": at.isoformat(),
        "recorded": firing in recorded, "replayed": firing in replayed,
    }  # fmt: skip
