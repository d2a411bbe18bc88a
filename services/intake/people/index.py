"""The list of a tenant's people and organisations, and people found by name and address.

A person's row holds no word of theirs: their name and addresses become keyed tokens
(privacy/search_tokens.py), as a ticket's words do, so `GET /v1/people?q=` finds "Лебедев" or
"lev@northwind.example" (by its words) without the index keeping either. A row is written
again from the person as stored whenever one of their events is applied, so it converges on
their newest state; an erased person's row keeps no token. People merged into another are
left out of the list: they are the survivor now.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking

from services.chassis.storage.catching_up import view_holds_its_topics
from services.chassis.storage.processing import find
from services.chassis.storage.projector import SqlProjection
from services.chassis.storage.views import Sql
from services.intake.people.organisations import Organisation
from services.intake.people.people import Person
from services.intake.privacy.personal_data import PersonalData
from services.intake.privacy.search_tokens import SearchTokens
from services.intake.stored_topics import topics_of

VIEW = "people-index"
PATIENCE = 5.0  # seconds a read waits for the list to hold the writes acknowledged before it (then 503)
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS intake_people_index (
        tenant TEXT NOT NULL, person_id TEXT NOT NULL, organisation_id TEXT, merged_into TEXT,
        erased INTEGER NOT NULL, tokens TEXT NOT NULL, registered_at TEXT NOT NULL,
        PRIMARY KEY (tenant, person_id))""",
    """CREATE TABLE IF NOT EXISTS intake_organisations_index (
        tenant TEXT NOT NULL, organisation_id TEXT NOT NULL, name TEXT NOT NULL,
        PRIMARY KEY (tenant, organisation_id))""",
]
PERSON_EVENTS = ("Registered", "AddressAdded", "AddressRemoved", "Changed", "MergedInto", "Absorbed", "Erased")
TOPICS = [
    *(topic for name in PERSON_EVENTS for topic in topics_of(Person, name)),
    *(topic for name in ("Registered", "Changed") for topic in topics_of(Organisation, name)),
]


class PeopleIndex(SqlProjection):
    name = VIEW
    schema = SCHEMA

    def __init__(self, recorder: Any, app: Application[UUID], personal: PersonalData, tokens: SearchTokens) -> None:
        super().__init__(recorder)
        self.app, self.personal, self.tokens = app, personal, tokens

    async def holding_the_store(self) -> None:
        """Return once the list holds every person and organisation written before (a SCIM client reads
        the group it just changed, an admin the list after a save); 503 with Retry-After past PATIENCE."""
        await view_holds_its_topics(self.position, self.app, TOPICS, PATIENCE, "the people list")

    def apply(self, events: Sequence[tuple[Any, int]], tracking: Sequence[Tracking]) -> None:
        """The people and organisations the batch's events are about, read as stored now (before the
        view's transaction: on SQLite a read of the store inside it waits on a writer that waits on it),
        then their rows written again, with the batch's tracking rows."""
        people = {e.originator_id for e, _ in events if isinstance(e, Person.Event)}
        organisations = {e.originator_id for e, _ in events if isinstance(e, Organisation.Event)}
        found_people = [p for i in people if (p := find(self.app, i, Person)) is not None]
        found_organisations = [o for i in organisations if (o := find(self.app, i, Organisation)) is not None]
        with self.view.transaction(*tracking) as sql:
            for person in found_people:
                self._person(sql, person)
            for organisation in found_organisations:
                self._organisation(sql, organisation)

    def _organisation(self, sql: Sql, organisation: Organisation) -> None:
        row = {"tenant": organisation.tenant, "id": str(organisation.id), "name": organisation.name}
        sql.execute("DELETE FROM intake_organisations_index WHERE tenant = :tenant AND organisation_id = :id", row)
        sql.execute("INSERT INTO intake_organisations_index VALUES (:tenant, :id, :name)", row)

    def _person(self, sql: Sql, person: Person) -> None:
        tenant = person.tenant
        words = [] if person.erased_at else [person.name or "", *(a["address"] for a in person.addresses)]
        tokens = " ".join(self.tokens.document(tenant, self.personal.unseal(tenant, w)) for w in words if w)
        row = {"tenant": tenant, "id": str(person.id), "organisation_id": person.organisation_id,
               "merged_into": person.merged_into, "erased": int(person.erased_at is not None),
               "tokens": f" {tokens} ", "at": person.registered_at}  # fmt: skip
        sql.execute("DELETE FROM intake_people_index WHERE tenant = :tenant AND person_id = :id", row)
        sql.execute(
            "INSERT INTO intake_people_index VALUES (:tenant, :id, :organisation_id, :merged_into, :erased,"
            " :tokens, :at)",
            row,
        )

    def people(
        self, tenant: str, q: str | None = None, organisation_id: str | None = None, limit: int = 50
    ) -> list[str]:
        """The ids of the tenant's people (those `q` finds: every word, in any form, of their name or an
        address; `a or b`; `-word` not), oldest first."""
        conditions = ["tenant = :tenant", "merged_into IS NULL"]
        params: dict[str, Any] = {"tenant": tenant, "limit": limit}
        if organisation_id is not None:
            conditions.append("organisation_id = :organisation_id")
            params["organisation_id"] = organisation_id
        for g, group in enumerate(self.tokens.query(tenant, q or "")):
            alternatives = []
            for t, term in enumerate(group):
                likes = []
                for n, token in enumerate(term.tokens):
                    params[f"t{g}_{t}_{n}"] = f"% {token} %"
                    likes.append(f"tokens LIKE :t{g}_{t}_{n}")
                found = " AND ".join(likes)
                alternatives.append(f"NOT ({found})" if term.negated else f"({found})")
            conditions.append(f"({' OR '.join(alternatives)})")
        rows = self.view.query(
            f"SELECT person_id FROM intake_people_index WHERE {' AND '.join(conditions)}"
            " ORDER BY registered_at, person_id LIMIT :limit",
            params,
        )
        return [row["person_id"] for row in rows]

    def organisations(self, tenant: str) -> list[str]:
        rows = self.view.query(
            "SELECT organisation_id FROM intake_organisations_index WHERE tenant = :tenant"
            " ORDER BY name, organisation_id",
            {"tenant": tenant},
        )
        return [row["organisation_id"] for row in rows]

    def organisation_named(self, tenant: str, name: str) -> str | None:
        """The id of the tenant's one organisation of that name (any case); None when none has it, or several."""
        rows = self.view.query(
            "SELECT organisation_id FROM intake_organisations_index WHERE tenant = :tenant"
            " AND lower(name) = lower(:name) LIMIT 2",
            {"tenant": tenant, "name": name},
        )
        return rows[0]["organisation_id"] if len(rows) == 1 else None
