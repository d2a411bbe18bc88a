"""What-if: an admin tries draft rules on the desk's last days before they go live. The kind (triggers for
now), the draft as JSON (a new trigger, or an existing one picked to revise), the days; the job runs at the
API (`/v1/what-if`), its page shows the progress (htmx polling) and then the report, with the example tickets
linked to their pages."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.admin.screens import screen
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.sessions import Session

PAGE = "/admin/what-if"
FIELDS = ("kind", "days", "candidate")
SPEC_KEYS = ("name", "when", "match", "if", "then")
EXAMPLE = {
    "name": "Urgent e-mail",
    "when": ["ticket.opened"],
    "match": "all",
    "if": [{"field": "priority", "op": "is", "value": "P1"}, {"field": "channel", "op": "is", "value": "email"}],
    "then": {"tags_add": ["urgent-mail"]},
}
FINISHED = ("done", "failed", "interrupted")


def draft_of(trigger: dict[str, Any]) -> str:
    """An existing trigger as a draft revising it."""
    return json.dumps({"trigger_id": trigger["id"]} | {k: trigger[k] for k in SPEC_KEYS if k in trigger}, indent=2)


def shown(report: dict[str, Any]) -> dict[str, Any]:
    """The report with each example's actions in words (`tags_add: urgent; priority: P2`)."""
    for part in ("touched", "differed", "reproduces_history"):
        for example in report.get(part, {}).get("examples", []):
            example["shown_actions"] = "; ".join(
                f"{kind}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
                for kind, value in example.get("actions", {}).items()
            )
    return report


def router(gateway: Gateway, person: Any) -> APIRouter:
    """`person`: the admin's session (area.admin_only)."""
    pages = APIRouter(include_in_schema=False)

    async def show(
        request: Request,
        session: Session,
        typed: dict[str, str],
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        triggers = await gateway.triggers(session.access_token)
        return screen(request, "admin_what_if.html", session, status_code, triggers=triggers, typed=typed,
                      errors=errors or {})  # fmt: skip

    @pages.get(PAGE)
    async def what_if(request: Request, trigger: str = "", session: Session = person) -> Response:
        typed = {"kind": "trigger", "days": "30", "candidate": json.dumps(EXAMPLE, indent=2), "trigger": trigger}
        if trigger:
            found = [t for t in await gateway.triggers(session.access_token) if t["id"] == trigger]
            typed["candidate"] = draft_of(found[0]) if found else typed["candidate"]
        return await show(request, session, typed)

    @pages.post(PAGE)
    async def start(
        request: Request,
        kind: Annotated[str, Form()] = "trigger",
        days: Annotated[str, Form()] = "",
        candidate: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = person,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        typed = {"kind": kind, "days": days, "candidate": candidate}
        errors = {}
        if not days.strip().isdigit():
            errors["days"] = _("Give the days as a whole number, e.g. 30.")
        try:
            draft = json.loads(candidate)
        except ValueError as error:
            errors["candidate"] = _("The draft is not JSON: %(error)s") % {"error": str(error)}
        else:
            if not isinstance(draft, dict):
                errors["candidate"] = _("The draft is a JSON object, in braces.")
        if errors:
            return await show(request, session, typed, errors, 422)
        body = {"kind": kind, "days": int(days), "candidate": draft}
        try:
            job = await gateway.start_what_if(session.access_token, body)
        except GatewayError as error:
            return await show(request, session, typed, forms.beside(error, FIELDS, "candidate"), 422)
        return RedirectResponse(f"{PAGE}/{job['job_id']}", status_code=303)

    @pages.get(PAGE + "/{job_id}")
    async def job(request: Request, job_id: str, session: Session = person) -> Response:
        found = await gateway.what_if_job(session.access_token, job_id)
        report = shown(found.get("report") or {})
        progress = found["progress"]
        share = round(100 * progress["done"] / progress["total"]) if progress["total"] else None
        return screen(request, "admin_what_if_job.html", session, job=found, share=share,
                      finished=found["status"] in FINISHED, report=report,
                      blocks=("job",))  # fmt: skip

    return pages
