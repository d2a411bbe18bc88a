"""Notification texts: Jinja2 templates per kind and language, a tenant's own over the defaults.

A template is `<language>/<kind>.txt`: its first line `Subject: ...`, a blank line, the body.
The defaults ship in `templates/` beside this module (English and Russian); a tenant's own are
`<folder>/<tenant>/<language>/<kind>.txt` in the configured folder, and win. A language with no
template of a kind falls back to English. Tenants write their own templates, so they run in
Jinja's sandbox, and a name the template uses but the message lacks is an error, not a blank: the
environment is the one every tenant's text renders in (services/intake/rendering/sandbox.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, TemplateNotFound

from services.intake.rendering.sandbox import RENDER_ERRORS, sandboxed

DEFAULTS = Path(__file__).parent / "templates"
FALLBACK = "en"


class TemplateError(Exception):
    """No template for the message, or one that does not render: the message cannot be sent."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


class Templates:
    def __init__(self, tenant_folder: Path | None = None) -> None:
        folders = [str(tenant_folder)] if tenant_folder is not None else []
        self.env = sandboxed(FileSystemLoader([*folders, str(DEFAULTS)]))
        self.tenant_folder = tenant_folder

    def render(self, tenant: str, language: str, kind: str, context: dict[str, Any]) -> Rendered:
        names = [f"{tenant}/{language}/{kind}.txt"] if self.tenant_folder is not None else []
        names += [f"{language}/{kind}.txt"]
        if language != FALLBACK:
            names += [f"{tenant}/{FALLBACK}/{kind}.txt"] if self.tenant_folder is not None else []
            names += [f"{FALLBACK}/{kind}.txt"]
        try:
            text = self.env.select_template([n for n in names if _safe(n)]).render(context)
        except TemplateNotFound:
            raise TemplateError(f"no template {kind!r} for {tenant}/{language}") from None
        except RENDER_ERRORS as error:  # a tenant's template
            raise TemplateError(f"template {kind!r} of {tenant}/{language} does not render: {error}") from None
        head, _, body = text.partition("\n\n")
        if not head.startswith("Subject:"):
            raise TemplateError(f"template {kind!r} of {tenant}/{language} does not start with 'Subject:'")
        return Rendered(subject=" ".join(head.removeprefix("Subject:").split()), body=body.strip() + "\n")


def _safe(name: str) -> bool:
    """A tenant or language naming a folder outside the template folders is no template."""
    return all(part not in ("", ".", "..") for part in name.split("/"))
