"""The what-if's command line: reads the candidate from a JSON file, replays with a progress bar on
stderr, prints the report (JSON, or a short table) on stdout. Exit 2 on a bad candidate, naming the field."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.chassis.runtime.cli import service_settings
from services.chassis.storage.store import store_env
from services.chassis.whatif.replay import WhatIfRequest
from services.sla.application import Sla
from services.sla.policies import SlaSetupError
from services.sla.what_if import what_if

NAME = "sla"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m services.{NAME}")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("what-if", help="replay the last N days under a candidate SLA setup")
    command.add_argument("--tenant", required=True)
    command.add_argument("--days", type=int, required=True, help="the window: the last N days up to now")
    command.add_argument("--candidate", type=Path, required=True, help='a JSON file: {"policies": [...], ...}')
    command.add_argument("--table", action="store_true", help="print a short table instead of the JSON report")
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days: at least 1")
    try:
        candidate = json.loads(args.candidate.read_text())
    except (OSError, ValueError) as error:
        parser.error(f"--candidate: {error}")
    settings = service_settings(NAME)
    replay = what_if(Sla(env=store_env(settings, Sla.name)), settings)
    stderr = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr, transient=True) as bar:
        task = bar.add_task("reading and replaying the window's events", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        try:
            report = replay(WhatIfRequest(args.tenant, args.days, candidate), progress)
        except ValidationError as error:
            for problem in error.errors():
                stderr.print(f"candidate: {'.'.join(map(str, problem['loc']))}: {problem['msg']}")
            return 2
        except SlaSetupError as error:
            stderr.print(f"candidate: {error.field}: {error}")
            return 2
    if args.table:
        Console().print(table(report))
    else:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    return 0


def table(report: dict[str, Any]) -> Table:
    """Breaches and warnings before and after, added and avoided, per target and per priority."""
    history = report["reproduces_history"]
    caption = f"{report['tickets']} tickets; the current setup's replay differed from the record on "
    shown = Table(title=f"SLA what-if, {report['tenant']}", caption=caption + f"{history['differed']} of "
                  f"{history['checked']} warnings and breaches")  # fmt: skip
    for column in ("", "by", "current", "candidate", "added", "avoided"):
        shown.add_column(column, justify="left" if column in ("", "by") else "right")
    for kind in ("breaches", "warnings"):
        tally = report[kind]
        shown.add_row(kind, "all", *(str(tally[k]) for k in ("current", "candidate", "added", "avoided")))
        for by in ("by_target", "by_priority"):
            for name, counts in tally[by].items():
                shown.add_row("", name, *(str(counts[k]) for k in ("current", "candidate", "added", "avoided")))
    return shown
