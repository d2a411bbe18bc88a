"""Business calendars: the hours of each weekday in a time zone, minus holidays, that SLA targets
count in; defined and changed through the SLA service's API (a calendar is set whole each time)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.admin import changes
from services.web.admin.screens import screen
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.sessions import Session

PAGE = "/admin/calendars"
HISTORY = "/v1/sla/calendars/history"
WEEKDAYS: dict[str, Callable[[], str]] = {
    "mon": lambda: _("Monday"),
    "tue": lambda: _("Tuesday"),
    "wed": lambda: _("Wednesday"),
    "thu": lambda: _("Thursday"),
    "fri": lambda: _("Friday"),
    "sat": lambda: _("Saturday"),
    "sun": lambda: _("Sunday"),
}
FIELDS = ("calendar_id", "time_zone", *WEEKDAYS, "holidays", "country", "subdivision")
# A new calendar's form starts at office hours, Monday to Friday.
NEW_CALENDAR = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-17:00") | {"time_zone": "UTC"}
_HOURS = re.compile(r"^\s*(\S+)\s*[-\u2013]\s*(\S+)\s*$")  # a hyphen or an en dash


class CalendarForm(BaseModel):
    calendar_id: str = ""
    time_zone: str = ""
    mon: str = ""
    tue: str = ""
    wed: str = ""
    thu: str = ""
    fri: str = ""
    sat: str = ""
    sun: str = ""
    holidays: str = ""
    country: str = ""
    subdivision: str = ""
    csrf_token: str = ""


@dataclass(frozen=True)
class CalendarLine:
    calendar_id: str
    time_zone: str
    hours: list[tuple[str, str]]  # (weekday, its hours): open days only
    holidays: list[str]
    country: str


def hours_of(typed: str) -> list[list[str]] | None:
    """`09:00-13:00, 14:00-18:00` as the API's pairs (the times it checks itself); None when not of that shape."""
    pairs = []
    for part in filter(None, (p.strip() for p in typed.replace(";", ",").split(","))):
        found = _HOURS.match(part)
        if found is None:
            return None
        pairs.append([found[1], found[2]])
    return pairs


def shown(pairs: list[list[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in pairs)


def spec_of(form: CalendarForm) -> tuple[dict[str, Any], dict[str, str]]:
    """The calendar as the API takes it, and what is wrong beside which field before asking it."""
    weekly: dict[str, list[list[str]]] = {}
    errors: dict[str, str] = {}
    for day in WEEKDAYS:
        pairs = hours_of(getattr(form, day))
        if pairs is None:
            errors[day] = _("Write hours as 09:00-17:00; several separated by commas; empty when closed.")
        elif pairs:
            weekly[day] = pairs
    spec: dict[str, Any] = {"time_zone": form.time_zone.strip(), "weekly": weekly}
    spec["holidays"] = forms.words(form.holidays)
    spec |= {name: value for name in ("country", "subdivision") if (value := getattr(form, name).strip())}
    if not form.calendar_id.strip():
        errors["calendar_id"] = _("Name the calendar.")
    if not spec["time_zone"]:
        errors["time_zone"] = _("Give a time zone, such as Europe/Berlin.")
    return spec, errors


def line(calendar_id: str, spec: dict[str, Any]) -> CalendarLine:
    weekly = spec.get("weekly", {})
    hours = [(name(), shown(weekly[day])) for day, name in WEEKDAYS.items() if weekly.get(day)]
    return CalendarLine(calendar_id, spec["time_zone"], hours, list(spec.get("holidays", [])), spec.get("country", ""))


def typed_of(calendar_id: str, spec: dict[str, Any]) -> dict[str, str]:
    """A stored calendar as its form shows it."""
    weekly = spec.get("weekly", {})
    return {day: shown(weekly.get(day, [])) for day in WEEKDAYS} | {
        "calendar_id": calendar_id,
        "time_zone": spec["time_zone"],
        "holidays": ", ".join(spec.get("holidays", [])),
        "country": spec.get("country") or "",
        "subdivision": spec.get("subdivision") or "",
    }


def router(gateway: Gateway, admin: Any) -> APIRouter:
    """`admin`: the admin's session (area.admin_only)."""
    pages = APIRouter(include_in_schema=False)

    async def show(
        request: Request,
        session: Session,
        editing: str | None = None,
        errors: dict[str, str] | None = None,
        typed: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        calendars, changed = await asyncio.gather(
            gateway.calendars(session.access_token), gateway.setting_changes(session.access_token, HISTORY)
        )
        if typed is None and editing is not None and editing in calendars:
            typed = typed_of(editing, calendars[editing])
        return screen(
            request,
            "admin_calendars.html",
            session,
            status_code,
            calendars=[line(c, spec) for c, spec in sorted(calendars.items())],
            editing=editing if editing in calendars else None,
            weekdays=[(day, name()) for day, name in WEEKDAYS.items()],
            errors=errors or {},
            typed=typed or NEW_CALENDAR,
            changes=changes.lines(changed),
        )

    @pages.get(PAGE)
    async def calendars(request: Request, edit: str | None = None, session: Session = admin) -> Response:
        return await show(request, session, edit)

    @pages.post(PAGE)
    async def define(request: Request, form: Annotated[CalendarForm, Form()], session: Session = admin) -> Response:
        forms.check_form_token(session, form.csrf_token)
        typed = form.model_dump(exclude={"csrf_token"})
        spec, errors = spec_of(form)
        if errors:
            return await show(request, session, None, errors, typed, 422)
        try:
            await gateway.put(session.access_token, f"/v1/sla/calendars/{form.calendar_id.strip()}", spec)
        except GatewayError as error:
            return await show(request, session, None, forms.beside(error, FIELDS, "calendar_id"), typed, 422)
        return RedirectResponse(PAGE, status_code=303)

    return pages
