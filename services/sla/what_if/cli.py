"""SLA's what-if on the command line (the chassis' one, services/chassis/whatif/cli.py), with `--table`: the
report as a short table of breaches and warnings instead of JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

from services.chassis.runtime.cli import service_settings
from services.chassis.storage.store import store_env
from services.chassis.whatif.cli import main as what_if_cli
from services.chassis.whatif.replay import Replay
from services.sla.application import Sla
from services.sla.what_if import what_if

NAME = "sla"


def replay() -> Replay:
    settings = service_settings(NAME)
    return what_if(Sla(env=store_env(settings, Sla.name)), settings)


def main(argv: Sequence[str] | None = None) -> int:
    return what_if_cli(NAME, replay, __doc__ or "", argv, table=table)


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
