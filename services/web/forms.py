"""What every form of the pages shares: the session's form token it must carry (no cross-site posts),
an idempotency key minted when the form is shown, and the API's refusal placed beside the field it names."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from services.web.gateway_client import GatewayError
from services.web.sessions import Session


class ForgedFormError(Exception):
    """A form came without the session's form token: another site may have sent it."""


def check_form_token(session: Session, sent: str) -> None:
    if not sent or not secrets.compare_digest(sent, session.csrf_token):
        raise ForgedFormError


def form_key() -> str:
    """An idempotency key for one showing of a form: the same form sent twice is one change."""
    return secrets.token_urlsafe(16)


def beside(error: GatewayError, fields: Iterable[str], default: str) -> dict[str, str]:
    """The API's message beside the field its problem names (`body.tier` → `tier`), else beside `default`."""
    problem = error.problem
    named = problem.get("field") or next((e.get("field") for e in problem.get("errors", []) if e.get("field")), None)
    parts = str(named).split(".") if named else []  # `types.0` (an item of a list) → `types`
    return {next((part for part in reversed(parts) if part in set(fields)), default): str(error)}


def words(text: str) -> list[str]:
    """A comma- or space-separated list as typed (`billing, ru`)."""
    return [word for word in text.replace(",", " ").split() if word]
