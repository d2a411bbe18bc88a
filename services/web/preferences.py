"""Each person's language and time zone: chosen in the header or on /preferences, kept across sign-ins.

The web service keeps them in a small table of its own, keyed by tenant and subject (the identity
provider's `locale` and `zoneinfo` claims are the defaults until the person chooses). A choice
applies to the session at once and to every later sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from eventsourcing.persistence import TrackingRecorder
from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.chassis.storage.views import SqlView
from services.web import forms, i18n
from services.web.i18n import gettext_ as _
from services.web.pages import render
from services.web.queues import queues_of
from services.web.sessions import Session, SessionStore

_TABLE = """CREATE TABLE IF NOT EXISTS web_preferences (
    tenant TEXT NOT NULL,
    subject TEXT NOT NULL,
    language TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    PRIMARY KEY (tenant, subject))"""


@dataclass(frozen=True)
class Preference:
    language: str
    time_zone: str


@cache
def time_zones() -> list[str]:
    """The IANA zones a person may choose (areas and UTC; not the aliases `localtime`, `Factory`...)."""
    return sorted(zone for zone in available_timezones() if "/" in zone or zone == "UTC")


class Preferences:
    def __init__(self, recorder: TrackingRecorder) -> None:
        self.view = SqlView(recorder, [_TABLE], name="web-preferences", version=1)

    def of(self, tenant: str, subject: str) -> Preference | None:
        rows = self.view.query(
            "SELECT language, time_zone FROM web_preferences WHERE tenant = :tenant AND subject = :subject",
            {"tenant": tenant, "subject": subject},
        )
        return Preference(rows[0]["language"], rows[0]["time_zone"]) if rows else None

    def keep(self, tenant: str, subject: str, chosen: Preference) -> None:
        with self.view.transaction() as sql:
            sql.execute(
                "INSERT INTO web_preferences (tenant, subject, language, time_zone)"
                " VALUES (:tenant, :subject, :language, :time_zone) ON CONFLICT (tenant, subject)"
                " DO UPDATE SET language = excluded.language, time_zone = excluded.time_zone",
                {"tenant": tenant, "subject": subject, "language": chosen.language, "time_zone": chosen.time_zone},
            )

    def at_sign_in(self, tenant: str, subject: str, claims: dict[str, Any]) -> Preference:
        """What the person chose before, else what the identity provider says of them, else English and UTC."""
        kept = self.of(tenant, subject)
        if kept is not None:
            return kept
        zone = str(claims.get("zoneinfo") or "UTC")
        return Preference(str(claims.get("locale") or ""), zone if zone in time_zones() else "UTC")


def _errors(language: str, time_zone: str) -> dict[str, str]:
    errors = {}
    if language not in i18n.LANGUAGES:
        errors["language"] = _("Choose English or Russian.")
    if time_zone not in time_zones():
        errors["time_zone"] = _("Choose a time zone of the list, e.g. Europe/Moscow.")
    return errors


def _this_site(back: str) -> str:
    """The page the choice was made on (path and query), never another site's."""
    target = urlsplit(back or "/preferences")
    path = target.path + (f"?{target.query}" if target.query else "")
    return path if not target.netloc and path.startswith("/") and not path.startswith("//") else "/"


def router(sessions: SessionStore, preferences: Preferences, person: Any) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    def page(request: Request, session: Session, errors: dict[str, str], status: int = 200) -> Response:
        return render(
            request,
            "preferences.html",
            session,
            status,
            queues=queues_of(session),
            zones=time_zones(),
            errors=errors,
            now=datetime.now(UTC),
        )

    @pages.get("/preferences")
    async def show(request: Request, session: Session = person) -> Response:
        return page(request, session, {})

    @pages.post("/preferences")
    async def choose(
        request: Request,
        language: Annotated[str, Form()] = "",
        time_zone: Annotated[str, Form()] = "",
        back: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        language = language or i18n.current()
        time_zone = time_zone or session.time_zone
        errors = _errors(language, time_zone)
        if errors:
            return page(request, session, errors, 422)
        chosen = Preference(language, time_zone)
        preferences.keep(session.tenant, session.subject, chosen)
        sessions.replace(replace(session, locale=language, time_zone=time_zone))
        return RedirectResponse(_this_site(back), 303)

    return pages
