"""Rendering a page, or only the block of it htmx asked for, in the person's language.

A route prepares a small view model and calls `render`; on an htmx request naming a target
(`HX-Request` and `HX-Target`) only that block of the same template is rendered
(jinja2-fragments), so one template serves the first load, a reload and a partial update.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta, get_timezone
from fastapi import Request
from jinja2 import Environment, FileSystemLoader
from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.responses import Response

from services.web import i18n
from services.web.sessions import Session

_ENVIRONMENT = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True, extensions=["jinja2.ext.i18n"]
)
_ENVIRONMENT.install_gettext_callables(i18n.gettext_, i18n.ngettext_, newstyle=True)  # type: ignore[attr-defined]
TEMPLATES = Jinja2Blocks(env=_ENVIRONMENT)


def when(instant: str | datetime | None, session: Session | None = None) -> str:
    """An instant in the person's language and time zone (`4 Dec 2026, 22:07`)."""
    if instant is None:
        return ""
    moment = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    zone = session.time_zone if session else "UTC"
    return format_datetime(moment, "medium", tzinfo=get_timezone(zone), locale=_locale(i18n.current()))


@lru_cache(maxsize=32)
def _locale(language: str) -> Locale:
    """Parsed once a language: Babel parses a locale given by name on every call, 50 times for a queue page."""
    return Locale.parse(language)


def duration(seconds: float | None) -> str:
    """A span of time in the person's language (`2 hours`, `2 часа`); a dash when there is none."""
    if seconds is None:
        return "—"
    return format_timedelta(timedelta(seconds=seconds), locale=_locale(i18n.current()))


def day(value: str | date) -> str:
    """A calendar day in the person's language (`23 Nov 2026`, in Russian the same in its words)."""
    moment = date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(moment, "medium", locale=_locale(i18n.current()))


TEMPLATES.env.filters["when"] = when
TEMPLATES.env.filters["duration"] = duration
TEMPLATES.env.filters["day"] = day


def render(request: Request, template: str, session: Session | None, status_code: int = 200, **view: Any) -> Response:
    """The page, or the block named by the htmx request's target (`HX-Target` = the block's name)."""
    target = request.headers.get("HX-Target") if request.headers.get("HX-Request") else None
    context = {"session": session, "language": i18n.current(), **view}
    blocks = view.get("blocks", ())
    block = target if target and target in blocks else None
    page: Response = TEMPLATES.TemplateResponse(request, template, context, block_name=block, status_code=status_code)
    # One address, two answers (the page, or a block of it for htmx): a browser keeps them apart, so a block
    # never stands in for the page in its cache (going back to a ticket would show the block alone).
    page.headers["Vary"] = "HX-Request, HX-Target"
    return page
