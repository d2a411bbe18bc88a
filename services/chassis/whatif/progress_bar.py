"""A what-if's progress as a bar on stderr (rich), for a service's `what-if` command line: the report
itself goes to stdout, so it can be piped while the bar shows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.chassis.whatif.replay import Progress as ReplayProgress


@contextmanager
def progress_bar(what: str) -> Iterator[ReplayProgress]:
    """A `progress(done, total)` for a replay that draws a bar on stderr; while the total is unknown (0: the
    history being read) the bar pulses."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(what, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield progress
