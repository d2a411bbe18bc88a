"""Moving in from another desk: tickets and transactions imported per second, into a fresh database of
the shared PostgreSQL (issue 25).

- `csv`: an export of `--tickets` tickets, each with `--comments` comments, an owner and a resolution,
  written to a file and imported as `python -m services.importer csv` does (its reading and mapping too).
- `rt`: `--rt-tickets` tickets filled into the real Request Tracker of deploy/local/rt.sh through its REST2
  API (not timed), then imported as `python -m services.importer rt` does: the figure includes reading RT.

(Named `importing`, not `import`: a module named for a keyword cannot be imported by `bench/__main__.py`.)
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.results import record
from services.chassis.runtime.settings import Settings
from services.importer.csv_source import SYSTEM as CSV
from services.importer.csv_source import CsvSource
from services.importer.rt_client import RtClient, RtUser
from services.importer.rt_mapping import SYSTEM as RT
from services.importer.rt_mapping import RtMapping
from services.importer.run import Summary, run_import
from services.intake.people.finder import People
from tests.infra import postgres
from tests.privacy import desk_intake

TENANT = "bench"


def export(folder: Path, tickets: int, comments: int) -> tuple[Path, Path]:
    start = datetime(2019, 1, 7, 9, tzinfo=UTC)
    rows, notes = [], []
    for n in range(tickets):
        at = start + timedelta(hours=n)
        rows.append({"id": f"T-{n}", "subject": f"Printer {n} jams", "created": at.isoformat(),
                     "updated": (at + timedelta(hours=5)).isoformat(), "requester_email": f"user{n % 200}@example.com",
                     "description": "It jams on every second page", "status": "resolved", "priority": "P3",
                     "queue": "office", "owner_email": f"agent{n % 10}@desk.example"})  # fmt: skip
        for c in range(comments):
            notes.append({"ticket_id": f"T-{n}", "created": (at + timedelta(minutes=10 * (c + 1))).isoformat(),
                          "author_email": f"agent{n % 10}@desk.example", "body": f"Step {c}: tried the tray",
                          "public": "true" if c % 2 == 0 else "false", "staff": "true"})  # fmt: skip
    return _write(folder / "tickets.csv", rows), _write(folder / "comments.csv", notes)


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def figures_of(summary: Summary) -> dict[str, Any]:
    tickets, transactions = summary.per_second
    return {"tickets": summary.tickets, "transactions": summary.transactions, "seconds": round(summary.seconds, 2),
            "tickets_per_second": round(tickets, 3), "transactions_per_second": round(transactions, 3)}  # fmt: skip


def measure_csv(settings: Settings, tickets: int, comments: int) -> dict[str, Any]:
    intake = desk_intake(settings)
    people = People(intake, intake.personal)
    with tempfile.TemporaryDirectory() as tmp:
        tickets_file, comments_file = export(Path(tmp), tickets, comments)
        person: Callable[[str, str | None], str] = lambda email, name: people.requester_for(  # noqa: E731
            TENANT, "email", email, name
        )
        source = CsvSource(tickets_file, comments_file, set(), person)
        summary = run_import(intake, TENANT, CSV, source.url, source.keys(), source.ticket, dry_run=False,
                             console=Console(file=io.StringIO()))  # fmt: skip
    intake.close()
    return {"source": "csv", "comments_per_ticket": comments} | figures_of(summary)


def measure_rt(settings: Settings, tickets: int) -> dict[str, Any]:
    from tests.request_tracker import started  # the fixture's RT, outside pytest

    with started() as rt:
        queue = f"Bench {uuid.uuid4().hex[:8]}"
        rt.create_queue(queue)
        for n in range(tickets):
            ticket = rt.create_ticket(queue, f"Printer {n} jams", f"user{n % 20}@example.com", "It jams", 50)
            rt.correspond(ticket, "Which tray?")
            rt.comment(ticket, "Tray 2 again")
            rt.update(ticket, Owner="root", Status="resolved")
        intake = desk_intake(settings)
        people = People(intake, intake.personal)
        client = RtClient(rt.url, rt.token)

        def person(user: RtUser) -> str:
            address = user.email or f"{client.url}/user/{user.name}"
            return people.requester_for(TENANT, "email" if user.email else "rt", address, user.real_name)

        mapping = RtMapping(client.url, client.user, person, set())
        keys = client.ticket_ids(f"Queue = '{queue}'")
        summary = run_import(intake, TENANT, RT, client.url, keys, lambda key: mapping.ticket(client.ticket(key)),
                             dry_run=False, console=Console(file=io.StringIO()))  # fmt: skip
        intake.close()
    return {"source": "rt", "includes_reading_rt": True} | figures_of(summary)


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.importing", description=__doc__)
    parser.add_argument("--tickets", type=int, default=1000, help="tickets of the CSV export")
    parser.add_argument("--comments", type=int, default=4, help="comments of each CSV ticket")
    parser.add_argument("--rt-tickets", type=int, default=50, help="tickets filled into RT (0: no RT run)")
    return parser.parse_args(argv)


def run(argv: Sequence[str] | None = ()) -> None:
    args = arguments(argv)
    server = postgres()
    with server.fresh_settings() as settings:
        runs = [measure_csv(settings, args.tickets, args.comments)]
    if args.rt_tickets:
        with server.fresh_settings() as settings:
            runs.append(measure_rt(settings, args.rt_tickets))
    record("importing", {"runs": runs})


if __name__ == "__main__":
    run(None)
