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


def named(error: GatewayError) -> list[tuple[str, str]]:
    """The fields the API's problem names, each with its message (`candidate.rules.0.group_id`, `Field required`)."""
    problem = error.problem
    found = [(str(problem["field"]), str(error))] if problem.get("field") else []
    found += [(str(e["field"]), str(e.get("message") or error)) for e in problem.get("errors", []) if e.get("field")]
    return found


def beside(error: GatewayError, fields: Iterable[str], default: str) -> dict[str, str]:
    """The API's messages beside the fields its problem names (`tier`, `body.tier`, `words.0` → `tier`, `words`;
    `targets.resolution` → `resolution` where that is a field of the form), the rest beside `default`."""
    known = set(fields)
    placed: dict[str, str] = {}
    for path, message in named(error):
        where = next((part for part in reversed(path.split(".")) if part in known), default)
        placed.setdefault(where, message)
    return placed or {default: str(error)}


def words(text: str) -> list[str]:
    """A comma- or space-separated list as typed (`billing, ru`)."""
    return [word for word in text.replace(",", " ").split() if word]
