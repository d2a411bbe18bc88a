"""A macro's bodies: checked when saved (each renders against a sample ticket), picked and rendered when used."""

from __future__ import annotations

from typing import Any

from services.intake.rendering.context import sample_context
from services.intake.rendering.sandbox import RenderError, render_text


class MacroTextError(ValueError):
    """The body in `language` does not render: the macro is refused when saved, never fails when applied."""

    def __init__(self, language: str, message: str) -> None:
        super().__init__(f"body.{language}: {message}")
        self.language = language
        self.message = message


def check_bodies(bodies: dict[str, str]) -> None:
    """Each body renders for a sample ticket (every name a macro may use is in it)."""
    context = sample_context()
    for language, body in bodies.items():
        try:
            render_text(body, context)
        except RenderError as error:
            raise MacroTextError(language, f"does not render: {error}") from None


def pick_language(bodies: dict[str, str], wanted: list[str | None]) -> str:
    """The first of `wanted` the macro has a body in, else English, else its first."""
    for language in [*wanted, "en"]:
        if language and language in bodies:
            return language
    return next(iter(bodies))


def render_body(bodies: dict[str, str], language: str, context: dict[str, Any]) -> str:
    """The body in `language` (checked when saved, so a RenderError here is a bug, or data changed since)."""
    return render_text(bodies[language], context)
