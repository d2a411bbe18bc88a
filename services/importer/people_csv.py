"""People and organisations from plain exports (docs/import.md): a file of organisations and one of people,
each row keyed by its id in the old system.

Each becomes one registration in the directory, under an id derived from the tenant and that key, so a second
run finds what the first registered and a run killed halfway goes on where it stopped. A dry run prints what
it would register and every row it cannot map, with the line and the column; so does a real run, which then
registers the rest. A person whose address another person of the desk already holds (someone who wrote in
before the import) is not registered: the row says who holds it, to merge them once imported.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from services.chassis.storage.ids import stable_uuid
from services.chassis.storage.processing import find
from services.intake.people.directory import Address, DirectoryError
from services.intake.people.finder import People
from services.intake.people.organisations import Organisation, domain_of
from services.intake.people.people import is_time_zone
from services.intake.tickets.form import spoken

SYSTEM = "csv"
IMPORTER = "importer"  # who registered them, in their history
CHANNELS = ("email", "telegram", "chat")


class Directory(Protocol):
    """What the import needs of intake's directory of people and organisations."""

    def register_person(
        self, tenant: str, details: dict[str, str | None], addresses: list[Address], by: str, person_id: UUID | None
    ) -> str: ...

    def register_organisation(
        self, tenant: str, details: dict[str, Any], by: str, organisation_id: UUID | None
    ) -> str: ...


class Lookups(Protocol):
    """What is there already: a registration by id, the holder of an address, an organisation of the desk."""

    def registered(self, aggregate_id: UUID) -> bool: ...

    def holder(self, tenant: str, address: Address) -> str | None: ...

    def has_organisation(self, tenant: str, organisation_id: str) -> bool: ...


@dataclass(frozen=True)
class DeskLookups:
    """`Lookups` in intake's store: `app` is intake, `people` its finder of people."""

    app: Application[UUID]
    people: People

    def registered(self, aggregate_id: UUID) -> bool:
        return find(self.app, aggregate_id, Aggregate) is not None

    def holder(self, tenant: str, address: Address) -> str | None:
        held = self.people.holder_of(tenant, self.people.blind(tenant, address.channel, address.address))
        return None if held is None else str(held.id)

    def has_organisation(self, tenant: str, organisation_id: str) -> bool:
        try:
            found = find(self.app, UUID(organisation_id), Organisation)
        except ValueError:
            return False
        return found is not None and found.tenant == tenant


@dataclass
class PeopleSummary:
    organisations: int = 0  # registered by this run (a dry run: would be)
    people: int = 0
    already: int = 0  # registered before: nothing recorded
    unmapped: list[str] = field(default_factory=list)  # "<file> line <n>: reason"
    seconds: float = 0.0


class RowError(ValueError):
    """A row that cannot be registered, naming the column."""


def organisation_id(tenant: str, key: str) -> UUID:
    return stable_uuid("imported-organisation", tenant, SYSTEM, key)


def person_id(tenant: str, key: str) -> UUID:
    return stable_uuid("imported-person", tenant, SYSTEM, key)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as file:
        for line, row in enumerate(csv.DictReader(file), start=2):
            yield line, {name: (value or "").strip() for name, value in row.items() if name is not None}


def _listed(value: str) -> list[str]:
    return [part.strip() for part in value.replace(",", ";").split(";") if part.strip()]


def organisation_details(row: dict[str, str]) -> dict[str, Any]:
    """The row as an organisation's details: RowError naming the column when it cannot be one."""
    if not row.get("id"):
        raise RowError("column 'id' is empty")
    if not row.get("name"):
        raise RowError("column 'name' is empty")
    domains = [domain.lower() for domain in _listed(row.get("domains", ""))]
    for domain in domains:
        if domain_of(f"x@{domain}") is None or "." not in domain:
            raise RowError(f"column 'domains': {domain!r} is not a domain")
    custom = {name.removeprefix("cf."): value for name, value in row.items() if name.startswith("cf.") and value}
    return {
        "name": row["name"][:200],
        "domains": list(dict.fromkeys(domains)),
        "sla_calendar_id": row.get("sla_calendar_id") or None,
        "sla_policy_id": row.get("sla_policy_id") or None,
        "custom_fields": custom,
    }


def person_details(
    row: dict[str, str], organisations: Callable[[str], str | None]
) -> tuple[dict[str, str | None], list[Address]]:
    """The row as a person's details and addresses; `organisations`: the desk's id of the organisation a row
    names (a key of the organisations file, or an id in the desk), None when there is none. RowError naming
    the column otherwise."""
    if not row.get("id"):
        raise RowError("column 'id' is empty")
    addresses = [Address(channel, value) for channel in CHANNELS for value in _listed(row.get(channel, ""))]
    for address in addresses:
        if address.channel == "email" and domain_of(address.address) is None:
            raise RowError(f"column 'email': {address.address!r} is not an e-mail address")
    if not addresses and not row.get("name"):
        raise RowError("neither a name nor an address (columns 'name', 'email', 'telegram', 'chat')")
    language = row.get("language") or None
    if language is not None and spoken(language) != language:
        raise RowError(f"column 'language': {language!r} is no ISO 639-1 code (`ru`)")
    zone = row.get("time_zone") or None
    if zone is not None and not is_time_zone(zone):
        raise RowError(f"column 'time_zone': {zone!r} is not an IANA time zone")
    named = row.get("organisation") or None
    organisation = organisations(named) if named is not None else None
    if named is not None and organisation is None:
        raise RowError(f"column 'organisation': {named!r} is neither a row of the organisations file nor in the desk")
    details: dict[str, str | None] = {
        "name": (row.get("name") or None) and row["name"][:200],
        "language": language,
        "time_zone": zone,
        "organisation_id": organisation,
        "notes": (row.get("notes") or None) and row["notes"][:5000],
    }
    return details, addresses


def import_people(
    directory: Directory,
    lookups: Lookups,
    tenant: str,
    people: Path,
    organisations: Path | None,
    *,
    dry_run: bool,
    console: Console,
) -> PeopleSummary:
    """Register the organisations of `organisations`, then the people of `people` (see the module's docstring)."""
    summary = PeopleSummary()
    started = time.monotonic()
    org_rows = list(_rows(organisations)) if organisations is not None else []
    people_rows = list(_rows(people))
    ids: dict[str, str] = {}  # the organisations file's keys, to their ids in the desk
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("would register" if dry_run else "registering", total=len(org_rows) + len(people_rows))
        for line, row in org_rows:
            where = f"{organisations.name if organisations else ''} line {line}"
            _organisation(directory, lookups, tenant, row, where, ids, dry_run, summary, progress.console)
            progress.advance(task)
        for line, row in people_rows:
            _person(
                directory, lookups, tenant, row, f"{people.name} line {line}", ids, dry_run, summary, progress.console
            )
            progress.advance(task)
    summary.seconds = time.monotonic() - started
    return summary


def _organisation(
    directory: Directory, lookups: Lookups, tenant: str, row: dict[str, str], where: str, ids: dict[str, str],
    dry_run: bool, summary: PeopleSummary, console: Console,
) -> None:  # fmt: skip
    try:
        details = organisation_details(row)
    except RowError as error:
        return _unmapped(summary, console, f"{where}: {error}")
    chosen = organisation_id(tenant, row["id"])
    ids[row["id"]] = str(chosen)
    if lookups.registered(chosen):
        summary.already += 1
        return None
    if dry_run:
        console.print(f"{where}: would register the organisation {details['name']!r}")
    else:
        try:
            directory.register_organisation(tenant, details, IMPORTER, chosen)
        except DirectoryError as error:
            del ids[row["id"]]
            return _unmapped(summary, console, f"{where}: {error.field}: {error.message}")
    summary.organisations += 1
    return None


def _person(
    directory: Directory, lookups: Lookups, tenant: str, row: dict[str, str], where: str, ids: dict[str, str],
    dry_run: bool, summary: PeopleSummary, console: Console,
) -> None:  # fmt: skip
    def organisation(named: str) -> str | None:
        return ids.get(named) or (named if lookups.has_organisation(tenant, named) else None)

    try:
        details, addresses = person_details(row, organisation)
    except RowError as error:
        return _unmapped(summary, console, f"{where}: {error}")
    chosen = person_id(tenant, row["id"])
    if lookups.registered(chosen):
        summary.already += 1
        return None
    for address in addresses:
        if (holder := lookups.holder(tenant, address)) is not None:
            reason = f"the {address.channel} address {address.address!r} is held by the person {holder}: merge them"
            return _unmapped(summary, console, f"{where}: {reason}")
    if dry_run:
        console.print(f"{where}: would register {details['name'] or addresses[0].address!r}")
    else:
        try:
            directory.register_person(tenant, details, addresses, IMPORTER, chosen)
        except DirectoryError as error:
            return _unmapped(summary, console, f"{where}: {error.field}: {error.message}")
    summary.people += 1
    return None


def _unmapped(summary: PeopleSummary, console: Console, reason: str) -> None:
    summary.unmapped.append(reason)
    console.print(f"[yellow]{reason}")
