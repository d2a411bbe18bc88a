"""Moving people and organisations in from plain exports, written by the test, through `python -m
services.importer people` into a desk on real Kafka and PostgreSQL."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from services.importer.people_csv import organisation_id, person_id
from tests.harness import Desk
from tests.imports import TENANT, admin_gateway


@pytest.fixture
def gateway(desk: Desk) -> httpx.Client:
    return admin_gateway(desk)


def written(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def export(tmp_path: Path, gateway: httpx.Client) -> tuple[Path, Path, str, str]:
    """Two organisations (one with a bad domain) and five people: three good, one in an unknown organisation,
    one whose address a person who wrote in before holds."""
    run = uuid4().hex[:6]
    before = gateway.post("/v1/people", json={"name": "Walk-in", "addresses": [
        {"channel": "email", "address": f"bo-{run}@example.com"}]})  # fmt: skip
    assert before.status_code == 201, before.text
    organisations = written(tmp_path / "organisations.csv", ["id", "name", "domains", "cf.tier"], [
        {"id": "O-1", "name": "Initech", "domains": f"initech-{run}.example", "cf.tier": "gold"},
        {"id": "O-2", "name": "Nowhere", "domains": "not a domain"},
    ])  # fmt: skip
    people = written(tmp_path / "people.csv", ["id", "name", "email", "telegram", "language", "time_zone",
                                               "organisation", "notes"], [
        {"id": "P-1", "name": "Ana Lima", "email": f"ana-{run}@initech-{run}.example", "language": "ru",
         "time_zone": "Europe/Moscow", "organisation": "O-1", "notes": "Prefers calls"},
        {"id": "P-2", "name": "Li Wei", "telegram": f"47{run}", "email": f"li-{run}@example.com"},
        {"id": "P-3", "name": "Max", "time_zone": "Mars/Olympus"},
        {"id": "P-4", "name": "Kim", "organisation": "O-9"},
        {"id": "P-5", "name": "Bo", "email": f"bo-{run}@example.com"},
    ])  # fmt: skip
    return people, organisations, run, str(before.json()["id"])


def import_people(desk: Desk, people: Path, organisations: Path, *extra: str) -> tuple[int, str]:
    command = [sys.executable, "-m", "services.importer", "people", str(people), "--organisations",
               str(organisations), "--tenant", TENANT, *extra]  # fmt: skip
    done = subprocess.run(command, env=desk.env, capture_output=True, text=True, timeout=300)
    return done.returncode, " ".join(done.stderr.split())


def test_a_dry_run_of_people_says_what_it_would_register_and_every_row_it_cannot(
    desk: Desk, export: tuple[Path, Path, str, str], gateway: httpx.Client
) -> None:
    people, organisations, run, walk_in = export
    code, said = import_people(desk, people, organisations, "--dry-run")
    assert code == 1, said
    assert "organisations.csv line 3: column 'domains': 'not a domain' is not a domain" in said, said
    assert "people.csv line 4: column 'time_zone': 'Mars/Olympus' is not an IANA time zone" in said, said
    assert "people.csv line 5: column 'organisation': 'O-9' is neither a row" in said, said
    assert f"people.csv line 6: the email address 'bo-{run}@example.com' is held by the person {walk_in}" in said
    assert "would register 1 organisations and 2 people" in said, said
    assert gateway.get(f"/v1/people/{person_id(TENANT, 'P-1')}").status_code == 404


def test_people_and_organisations_move_in_once_however_often_the_import_runs(
    desk: Desk, export: tuple[Path, Path, str, str], gateway: httpx.Client
) -> None:
    people, organisations, run, _ = export
    code, said = import_people(desk, people, organisations)
    assert code == 1, said  # the rows it cannot map, as in the dry run
    assert "registered 1 organisations and 2 people" in said, said

    initech = str(organisation_id(TENANT, "O-1"))
    organisation: dict[str, Any] = gateway.get(f"/v1/organisations/{initech}").json()
    assert (organisation["name"], organisation["domains"]) == ("Initech", [f"initech-{run}.example"])
    assert organisation["custom_fields"] == {"tier": "gold"}
    ana: dict[str, Any] = gateway.get(f"/v1/people/{person_id(TENANT, 'P-1')}").json()
    assert (ana["name"], ana["language"], ana["time_zone"], ana["notes"]) == (
        "Ana Lima", "ru", "Europe/Moscow", "Prefers calls"
    )  # fmt: skip
    assert ana["organisation_id"] == initech
    assert ana["addresses"] == [{"channel": "email", "address": f"ana-{run}@initech-{run}.example"}]
    li: dict[str, Any] = gateway.get(f"/v1/people/{person_id(TENANT, 'P-2')}").json()
    assert sorted((a["channel"], a["address"]) for a in li["addresses"]) == [
        ("email", f"li-{run}@example.com"), ("telegram", f"47{run}")
    ]  # fmt: skip

    code, said = import_people(desk, people, organisations)  # again: nothing twice
    assert "registered 0 organisations and 0 people" in said, said
    assert "3 registered before" in said, said
