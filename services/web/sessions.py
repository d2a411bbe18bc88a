"""Who is signed in: a server-side session per browser, its id in a signed, HttpOnly cookie.

The row holds what the pages need between requests (the person's access token, name, roles,
locale and time zone, and the form token that guards every POST against cross-site requests);
the cookie holds only the row's id, signed by Starlette's SessionMiddleware. Sessions live in the
web service's own table (SQLite on `make run`, PostgreSQL shared by replicas elsewhere), so a
restart signs nobody out, and signing out deletes the row: a copied cookie opens nothing after.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from eventsourcing.persistence import TrackingRecorder

from services.chassis.storage.views import SqlView

LIFETIME = timedelta(hours=12)

_TABLE = """CREATE TABLE IF NOT EXISTS web_sessions (
    session_id TEXT PRIMARY KEY,
    person TEXT NOT NULL,
    expires TEXT NOT NULL)"""


@dataclass(frozen=True)
class Session:
    """A signed-in person, as the identity provider vouched for them."""

    session_id: str
    tenant: str
    subject: str
    name: str
    roles: list[str]
    groups: list[str]
    access_token: str
    expires: datetime
    locale: str | None = None
    time_zone: str = "UTC"
    organisation: str | None = None
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def is_staff(self) -> bool:
        return bool({"agent", "supervisor", "admin"} & set(self.roles))


class SessionStore:
    def __init__(self, recorder: TrackingRecorder) -> None:
        self.view = SqlView(recorder, [_TABLE], name="web-sessions", version=1)

    def begin(
        self,
        *,
        tenant: str,
        subject: str,
        name: str,
        roles: list[str],
        groups: list[str],
        access_token: str,
        expires: datetime,
        locale: str | None,
        organisation: str | None,
        time_zone: str = "UTC",
    ) -> Session:
        """A new session (a fresh id, never one the browser brought: no session fixation)."""
        session = Session(
            secrets.token_urlsafe(32),
            tenant,
            subject,
            name,
            roles,
            groups,
            access_token,
            min(expires, datetime.now(UTC) + LIFETIME),
            locale,
            time_zone,
            organisation=organisation,
        )
        person = asdict(session) | {"expires": session.expires.isoformat()}
        with self.view.transaction() as sql:
            sql.execute(
                "INSERT INTO web_sessions (session_id, person, expires) VALUES (:id, :person, :expires)",
                {"id": session.session_id, "person": json.dumps(person), "expires": session.expires.isoformat()},
            )
        return session

    def get(self, session_id: str) -> Session | None:
        """The live session of that id; None when unknown, ended or expired."""
        with self.view.transaction() as sql:
            rows = sql.query("SELECT person FROM web_sessions WHERE session_id = :id", {"id": session_id})
        if not rows:
            return None
        person = json.loads(rows[0]["person"])
        session = Session(**person | {"expires": datetime.fromisoformat(person["expires"])})
        if session.expires <= datetime.now(UTC):
            self.end(session_id)
            return None
        return session

    def replace(self, session: Session) -> None:
        """The session as it is now (the person chose another language or time zone)."""
        person = asdict(session) | {"expires": session.expires.isoformat()}
        with self.view.transaction() as sql:
            sql.execute(
                "UPDATE web_sessions SET person = :person WHERE session_id = :id",
                {"id": session.session_id, "person": json.dumps(person)},
            )

    def end(self, session_id: str) -> None:
        with self.view.transaction() as sql:
            sql.execute("DELETE FROM web_sessions WHERE session_id = :id", {"id": session_id})
            sql.execute("DELETE FROM web_sessions WHERE expires < :now", {"now": datetime.now(UTC).isoformat()})
