"""The what-if command line every service shares: `python -m services.<service> what-if --tenant T --days N
--candidate FILE.json` replays the tenant's last N days through the candidate in FILE (the kind's own shape)
with a progress bar on stderr, and prints the report as JSON on stdout. A wrong candidate prints the fields at
fault on stderr and exits 2; what it needs of another service that does not answer, exits 1."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from services.chassis.http.problems import DomainProblem
from services.chassis.runtime.errors import CommandRefusedError
from services.chassis.whatif.progress_bar import progress_bar
from services.chassis.whatif.replay import Replay, WhatIfRequest

Prepare = Callable[[WhatIfRequest], WhatIfRequest]


def what_if_main(
    service: str,
    replay_of: Callable[[], Replay],
    argv: Sequence[str] | None = None,
    table: Callable[[dict[str, Any]], Table] | None = None,
    prepare: Prepare | None = None,
) -> int:
    """`table`, given, offers `--table`: the report as a short table instead of JSON. `prepare`, given, reads
    what the candidate needs of other services before the replay (as the service's API does)."""
    parser = argparse.ArgumentParser(
        prog=f"python -m services.{service} what-if",
        description="Replay a tenant's last days through draft rules; print what would have differed.",
    )
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--days", type=int, required=True, help="the window: the last N days up to now")
    parser.add_argument("--candidate", type=Path, required=True, help="the draft rules, a JSON file")
    if table is not None:
        parser.add_argument("--table", action="store_true", help="a short table instead of the JSON report")
    args = parser.parse_args(argv)
    try:
        candidate = json.loads(args.candidate.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        parser.error(f"--candidate: {error}")
    if not isinstance(candidate, dict):
        parser.error("--candidate: a JSON object")
    if args.days < 1:
        parser.error("--days: one or more")
    request = WhatIfRequest(args.tenant, args.days, candidate)
    try:
        if prepare is not None:
            request = prepare(request)
    except DomainProblem as error:
        print(f"candidate: {error.extra.get('field', '')}: {error}", file=sys.stderr)
        return 1
    try:
        with progress_bar(f"{service} what-if, {args.tenant}, {args.days} days") as progress:
            report = replay_of()(request, progress)
    except (RequestValidationError, ValidationError) as error:
        for each in error.errors():
            where = ".".join(str(part) for part in each["loc"] if part != "body")
            print(f"candidate: {where}: {each['msg']}", file=sys.stderr)
        return 2
    except CommandRefusedError as error:
        print(f"candidate: {error.field}: {error}", file=sys.stderr)
        return 2
    if table is not None and args.table:
        Console().print(table(report))
    else:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


def main(
    service: str,
    replay_of: Callable[[], Replay],
    usage: str,
    argv: Sequence[str] | None = None,
    table: Callable[[dict[str, Any]], Table] | None = None,
    prepare: Prepare | None = None,
) -> int:
    """A service's `python -m services.<service>`: its one subcommand, `what-if ...`; anything else prints
    `usage` (the module's docstring) and exits 2."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] != "what-if":
        print(usage, file=sys.stderr)
        return 2
    return what_if_main(service, replay_of, arguments[1:], table, prepare)
