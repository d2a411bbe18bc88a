"""One import run: each ticket of the source read, mapped and imported (one save each), under a progress
bar with counts, rate and time left; a dry run prints what it would import instead, and every row it
cannot map with the reason. A ticket imported before is recognised before it is read: a second run
imports nothing twice, a run killed halfway goes on where it stopped."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.text import Text

from services.intake.tickets.importing import ImportedTicket, ImportOutcome


@dataclass
class Mapped:
    """A ticket of the source as ours, and what of it cannot be ours (each with the reason)."""

    ticket: ImportedTicket
    unmapped: list[str] = field(default_factory=list)


class Desk(Protocol):
    """What an import needs of intake."""

    def import_ticket(self, tenant: str, imported: ImportedTicket) -> ImportOutcome: ...

    def was_imported(self, tenant: str, system: str, url: str, external_id: str) -> bool: ...


@dataclass
class Summary:
    tickets: int = 0  # imported by this run
    transactions: int = 0  # their steps, recorded
    already: int = 0  # imported before: nothing recorded
    unmapped: list[str] = field(default_factory=list)  # "<ref>: reason"
    failed: list[str] = field(default_factory=list)  # tickets that could not be read or mapped at all
    seconds: float = 0.0

    @property
    def per_second(self) -> tuple[float, float]:
        seconds = max(self.seconds, 1e-9)
        return self.tickets / seconds, self.transactions / seconds


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} tickets/s" if speed else "… tickets/s", style="progress.data.speed")


def run_import(
    desk: Desk,
    tenant: str,
    system: str,
    url: str,
    keys: Sequence[str],
    load: Callable[[str], Mapped],
    *,
    dry_run: bool,
    console: Console,
    stored: Callable[[ImportedTicket], ImportedTicket] = lambda ticket: ticket,
) -> Summary:
    """Import the tickets `keys` names (their ids in the source), each read and mapped by `load`; `stored`
    puts a ticket's files in the blob store first (their steps then name them by sha256)."""
    summary = Summary()
    started = time.monotonic()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _Rate(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("would import" if dry_run else "importing", total=len(keys))
        for key in keys:
            ref = f"{system}:{key}"
            if desk.was_imported(tenant, system, url, key):
                summary.already += 1
            else:
                _one(desk, tenant, ref, key, load, dry_run, summary, progress.console, stored)
            progress.advance(task)
    summary.seconds = time.monotonic() - started
    return summary


def _one(
    desk: Desk,
    tenant: str,
    ref: str,
    key: str,
    load: Callable[[str], Mapped],
    dry_run: bool,
    summary: Summary,
    console: Console,
    stored: Callable[[ImportedTicket], ImportedTicket],
) -> None:
    try:
        mapped = load(key)
    except (ValueError, KeyError, LookupError) as error:
        summary.failed.append(f"{ref}: {error}")
        console.print(f"[red]{ref}: cannot map: {error}")
        return
    for reason in mapped.unmapped:
        summary.unmapped.append(f"{ref}: {reason}")
        console.print(f"[yellow]{ref}: not imported: {reason}")
    steps = len(mapped.ticket.steps)
    if dry_run:
        console.print(f"{ref}: would import {mapped.ticket.form.title!r} with {steps} transactions")
        summary.tickets += 1
        summary.transactions += steps
        return
    outcome = desk.import_ticket(tenant, stored(mapped.ticket))
    for reason in outcome.refused:
        summary.unmapped.append(f"{ref}: {reason}")
        console.print(f"[yellow]{ref}: refused: {reason}")
    if outcome.imported:
        summary.tickets += 1
        summary.transactions += steps - len(outcome.refused)
    else:
        summary.already += 1
