"""The people one can sign in as at the development provider: a small desk of tenant `acme`
(an admin, a supervisor, agents of a 1st- and a 2nd-line group, customers of one organisation)
and one person of another tenant, `globex`, whom an acme-only workspace must refuse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Person:
    tenant: str
    subject: str
    name: str
    given_name: str
    locale: str
    roles: tuple[str, ...]
    groups: tuple[str, ...] = ()
    organisation: str | None = None

    @property
    def key(self) -> str:
        """What the sign-in form posts: a subject is unique within its tenant only."""
        return f"{self.tenant}/{self.subject}"

    @property
    def about(self) -> str:
        """Roles, then groups or organisation: `agent, first-line`."""
        return ", ".join([*self.roles, *self.groups, *([self.organisation] if self.organisation else [])])

    @property
    def label(self) -> str:
        """The sign-in button's text, e.g. `Sign in as Ann (agent, first-line)`."""
        return f"Sign in as {self.given_name} ({self.about})"

    def claims(self) -> dict[str, Any]:
        """What the desk reads from a token (services/chassis/http/auth.py)."""
        return {"sub": self.subject, "tenant": self.tenant, "roles": list(self.roles), "groups": list(self.groups),
                "organisation": self.organisation}  # fmt: skip

    def profile(self) -> dict[str, Any]:
        """The OpenID Connect claims of the ID token and /userinfo, beside the desk's own."""
        return self.claims() | {"name": self.name, "given_name": self.given_name, "locale": self.locale}


FIRST_LINE = "first-line"
SECOND_LINE = "second-line"
NORTHWIND = "northwind"

PEOPLE: tuple[Person, ...] = (
    Person("acme", "admin-1", "Ada Lovelace", "Ada", "en", ("admin",)),
    Person("acme", "supervisor-1", "Sofia Kovalevskaya", "Sofia", "ru", ("supervisor",), (FIRST_LINE, SECOND_LINE)),
    Person("acme", "agent-ann", "Ann Archer", "Ann", "en", ("agent",), (FIRST_LINE,)),
    Person("acme", "agent-boris", "Boris Belov", "Boris", "ru", ("agent",), (FIRST_LINE,)),
    Person("acme", "agent-vera", "Vera Volkova", "Vera", "ru", ("agent",), (SECOND_LINE,)),
    Person("acme", "customer-kim", "Kim Nakamura", "Kim", "en", ("customer",), organisation=NORTHWIND),
    Person("acme", "customer-lev", "Lev Lebedev", "Lev", "ru", ("customer",), organisation=NORTHWIND),
    Person("globex", "agent-gus", "Gus Grant", "Gus", "en", ("agent",), ("support",)),
)


def person(key: str) -> Person | None:
    """The seeded person `key` (`<tenant>/<subject>`) names, if any."""
    return next((someone for someone in PEOPLE if someone.key == key), None)


def tenants() -> list[str]:
    """The tenants of the seeded people, in the order they are listed."""
    return list(dict.fromkeys(someone.tenant for someone in PEOPLE))
