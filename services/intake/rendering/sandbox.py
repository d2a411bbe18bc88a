"""The one Jinja2 environment of every text a tenant writes: sandboxed, strict, plain text.

Tenants write notification templates and macro bodies, so they run in Jinja's sandbox (no attribute
of Python's internals, no unsafe call), and a name the text uses but the context lacks is an error,
never a silent blank (`StrictUndefined`). Notifications (services/intake/notifications/templates.py)
load templates from folders; macros and triggers render a stored text (`render_text`), and a tenant's
text is tried against a sample context when it is saved, so a broken one is refused then.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import BaseLoader, StrictUndefined
from jinja2 import TemplateError as JinjaError
from jinja2.sandbox import SandboxedEnvironment

# What a tenant's text may raise while it renders (a division by zero, a bad format): never a crash.
RENDER_ERRORS = (JinjaError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError)


class RenderError(ValueError):
    """A tenant's text that does not render (bad syntax, an unknown name, a failing expression)."""


def _blank_none(value: Any) -> Any:
    """`None` prints as nothing: an unknown SLA due time leaves a blank, not the word "None"."""
    return "" if value is None else value


def sandboxed(loader: BaseLoader | None = None, *, blank_none: bool = False) -> SandboxedEnvironment:
    """A new sandboxed, strict environment for plain text (no HTML escaping: mail and comments are text)."""
    return SandboxedEnvironment(
        loader=loader,
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        finalize=_blank_none if blank_none else None,
    )


@cache
def _texts() -> SandboxedEnvironment:
    return sandboxed(blank_none=True)


def render_text(source: str, context: dict[str, Any]) -> str:
    """`source` rendered with `context`; RenderError saying why when it does not render."""
    try:
        return _texts().from_string(source).render(context)
    except RENDER_ERRORS as error:
        raise RenderError(str(error) or type(error).__name__) from None
