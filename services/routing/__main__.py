"""`python -m services.routing what-if --tenant T --days N --candidate FILE.json`: what routing would have
decided over the tenant's last N days under a candidate rule set (services/routing/what_if.py), beside
what the current rules decide; the report as JSON on stdout, a progress bar on stderr. Nothing is
written to the live desk. (The service itself runs with `python -m services.routing.main`.)"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from services.chassis.runtime.cli import service_settings
from services.chassis.whatif.progress_bar import progress_bar
from services.chassis.whatif.replay import WhatIfRequest
from services.routing.what_if import RoutingCandidate, desk_replay


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.routing", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    what_if = commands.add_parser("what-if", help="replay the last days under a candidate rule set")
    what_if.add_argument("--tenant", required=True)
    what_if.add_argument("--days", type=int, required=True, help="the window: the last N days up to now")
    what_if.add_argument("--candidate", type=Path, required=True, help='JSON: {"rules": [...], "strategies": {...}}')
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days: one or more")
    try:
        candidate = json.loads(args.candidate.read_text())
        RoutingCandidate.model_validate(candidate)
    except (OSError, ValueError) as error:
        print(f"--candidate {args.candidate}: {_problem(error)}", file=sys.stderr)
        return 2
    replay = desk_replay(service_settings("routing"))
    with progress_bar(f"routing what-if, {args.tenant}, {args.days} days") as progress:
        report = replay(WhatIfRequest(args.tenant, args.days, candidate), progress)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


def _problem(error: Exception) -> str:
    """A candidate's errors, each naming its field (`rules.0.group_id: ...`)."""
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
    return str(error)


if __name__ == "__main__":
    sys.exit(main())
