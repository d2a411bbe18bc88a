"""Move in from another desk, history and all (docs/import.md):

    python -m services.importer rt --url http://rt.example --token TOKEN --tenant acme [--dry-run]
    python -m services.importer csv tickets.csv [--comments comments.csv] --tenant acme [--dry-run]
    python -m services.importer people people.csv [--organisations organisations.csv] --tenant acme [--dry-run]

It writes to intake's store, with intake's settings (the same environment as intake's processes); the
relay publishes what it recorded. Only this module chooses dependencies.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from rich.console import Console

from schemas.keywords import KeywordDigests
from services.chassis.runtime.cli import service_settings
from services.chassis.storage.append_only import protect
from services.chassis.storage.store import store_env, tracking_recorder
from services.importer import csv_source, people_csv
from services.importer.files import storing
from services.importer.rt_client import RtClient, RtUser
from services.importer.rt_links import Links
from services.importer.rt_mapping import SYSTEM, RtMapping
from services.importer.run import Summary, run_import
from services.intake import stored_topics
from services.intake.attachments.blobs import FileBlobStore
from services.intake.people.directory import Directory
from services.intake.people.finder import People
from services.intake.privacy.personal_data import PersonalData, SqlKeyTable
from services.intake.tickets.application import Intake


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m services.importer", description=__doc__.splitlines()[0])
    sources = parser.add_subparsers(dest="source", required=True)
    rt = sources.add_parser("rt", help="a Request Tracker 5, through its REST2 API")
    rt.add_argument("--url", required=True, help="the RT's address, e.g. https://rt.example.com")
    rt.add_argument("--token", default=os.environ.get("RT_TOKEN"), help="an RT auth token (or $RT_TOKEN)")
    rt.add_argument("--query", default="id > 0", help="which tickets, in RT's TicketSQL (default: all)")
    csv = sources.add_parser("csv", help="a plain export: one row per ticket (docs/import.md)")
    csv.add_argument("file", type=Path)
    csv.add_argument("--comments", type=Path, default=None, help="one row per comment (docs/import.md)")
    people = sources.add_parser("people", help="people and organisations, one row each (docs/import.md)")
    people.add_argument("file", type=Path)
    people.add_argument("--organisations", type=Path, default=None, help="one row per organisation (docs/import.md)")
    for source in (rt, csv, people):
        source.add_argument("--tenant", required=True, help="the tenant imported into")
        source.add_argument("--dry-run", action="store_true", help="print what it would import; record nothing")
    args = parser.parse_args(argv)
    if args.source == "rt" and not args.token:
        parser.error("rt needs --token (or $RT_TOKEN)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(argv)
    console = Console(stderr=True)
    settings = service_settings("importer")
    stored_topics.register()
    personal = PersonalData(
        SqlKeyTable(tracking_recorder(settings, Intake.name)), settings.personal_data_secret.encode()
    )
    intake = Intake(
        env=store_env(settings, Intake.name),
        personal=personal,
        digests=KeywordDigests(settings.keyword_secret.encode()),
        audit_secret=settings.audit_secret.encode(),
    )
    protect(intake)
    people = People(intake, personal)
    if args.source == "people":
        directory = Directory(intake, people, personal)
        registered = people_csv.import_people(
            directory, people_csv.DeskLookups(intake, people), args.tenant, args.file, args.organisations,
            dry_run=args.dry_run, console=console,
        )  # fmt: skip
        done = "would register" if args.dry_run else "registered"
        console.print(
            f"{done} {registered.organisations} organisations and {registered.people} people in"
            f" {registered.seconds:.1f} s; {registered.already} registered before; {len(registered.unmapped)} rows"
            " not mapped"
        )
        intake.close()
        return 1 if registered.unmapped else 0
    stored = storing(FileBlobStore(settings.data_dir / "blobs"), args.tenant)  # where intake keeps its files
    fields = set(intake.fields_of(args.tenant).active())
    if args.source == "rt":
        client = RtClient(args.url, args.token)

        def person(user: RtUser) -> str:
            if args.dry_run:
                return f"(person {user.name})"
            if user.email:
                return people.requester_for(args.tenant, "email", user.email, user.real_name)
            return people.requester_for(args.tenant, "rt", f"{client.url}/user/{user.name}", user.real_name)

        console.print(f"reading the tickets of {client.url}")
        keys = client.ticket_ids(args.query)
        links = Links(client.effective_id, keys, partial(intake.was_imported, args.tenant, SYSTEM, client.url))
        mapping = RtMapping(client.url, client.user, person, fields, client.queue_name, links)
        summary = run_import(
            intake, args.tenant, SYSTEM, client.url, keys, lambda key: mapping.ticket(client.ticket(key)),
            dry_run=args.dry_run, console=console, stored=stored,
        )  # fmt: skip
    else:
        source = csv_source.CsvSource(args.file, args.comments, fields, _csv_person(people, args.tenant, args.dry_run))
        summary = run_import(
            intake, args.tenant, csv_source.SYSTEM, source.url, source.keys(), source.ticket,
            dry_run=args.dry_run, console=console,
        )  # fmt: skip
    report(summary, args.dry_run, console)
    intake.close()
    return 1 if summary.failed else 0


def _csv_person(people: People, tenant: str, dry_run: bool) -> Callable[[str, str | None], str]:
    def person(email: str, name: str | None) -> str:
        return f"(person {email})" if dry_run else people.requester_for(tenant, "email", email, name)

    return person


def report(summary: Summary, dry_run: bool, console: Console) -> None:
    tickets, transactions = summary.per_second
    done = "would import" if dry_run else "imported"
    console.print(
        f"{done} {summary.tickets} tickets with {summary.transactions} transactions in {summary.seconds:.1f} s"
        f" ({tickets:.1f} tickets/s, {transactions:.1f} transactions/s); {summary.already} imported before;"
        f" {len(summary.unmapped)} rows not mapped; {len(summary.failed)} tickets failed"
    )


if __name__ == "__main__":
    sys.exit(main())
