"""What-if: an admin tries draft rules on the desk's last days before they go live. The kind (a trigger, a
routing rule set or SLA policies), the draft as JSON (a new trigger or an existing one picked to revise; the
tenant's current routing rules and group strategies, or its current SLA policies and calendars, to edit), the
days; the job runs at the API (`/v1/what-if`), its page shows the progress (htmx polling) and then the report,
with the example tickets linked to their pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import TypeAdapter
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.admin.policies import METRICS
from services.web.admin.screens import screen
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.sessions import Session

PAGE = "/admin/what-if"
FIELDS = ("kind", "days", "candidate")
KINDS: dict[str, Callable[[], str]] = {
    "trigger": lambda: _("Trigger"),
    "routing": lambda: _("Routing rules"),
    "sla": lambda: _("SLA policies"),
}
SPEC_KEYS = ("name", "when", "match", "if", "then")
EXAMPLE = {
    "name": "Urgent e-mail",
    "when": ["ticket.opened"],
    "match": "all",
    "if": [{"field": "priority", "op": "is", "value": "P1"}, {"field": "channel", "op": "is", "value": "email"}],
    "then": {"tags_add": ["urgent-mail"]},
}
FINISHED = ("done", "failed", "interrupted")
POLICY_KEYS = ("policy_id", "match", "calendar", "warn_at")
_DURATION = TypeAdapter(timedelta)


def draft_of(trigger: dict[str, Any]) -> str:
    """An existing trigger as a draft revising it."""
    return json.dumps({"trigger_id": trigger["id"]} | {k: trigger[k] for k in SPEC_KEYS if k in trigger}, indent=2)


def _iso(seconds: int) -> Any:
    return _DURATION.dump_python(timedelta(seconds=seconds), mode="json")


def routing_draft(rules: list[dict[str, Any]], groups: list[dict[str, Any]]) -> str:
    """The tenant's routing rules (in order) and its groups' strategies, as the routing what-if takes them."""
    strategies = {g["group_id"]: g["strategy"] for g in groups if g.get("strategy")}
    return json.dumps({"rules": rules, "strategies": strategies}, indent=2)


def sla_draft(policies: list[dict[str, Any]], calendars: dict[str, dict[str, Any]]) -> str:
    """The tenant's SLA policies (in order, targets as ISO durations) and calendars, as the SLA what-if takes
    them: the API keeps targets and the reminders' interval in seconds."""
    drafts = []
    for policy in policies:
        draft = {k: policy[k] for k in POLICY_KEYS if k in policy}
        draft["targets"] = {metric: _iso(seconds) for metric, seconds in policy.get("targets", {}).items()}
        if reminders := policy.get("reminders"):
            draft["reminders"] = {"every": _iso(reminders["every_seconds"]), "count": reminders["count"]}
        drafts.append(draft)
    return json.dumps({"policies": drafts, "calendars": calendars}, indent=2)


def candidate_errors(error: GatewayError) -> dict[str, str]:
    """The API's refusal beside the draft, each message led by the part of the draft it names
    (`rules.0.group_id: Field required`); a refusal naming another field beside that field."""
    named = forms.named(error)
    inside = [f"{path.removeprefix('candidate.')}: {m}" for path, m in named if path.startswith("candidate.")]
    if inside:
        return {"candidate": "; ".join(inside)}
    return forms.beside(error, FIELDS, "candidate")


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
        triggers = await gateway.triggers(session.access_token) if typed["kind"] == "trigger" else []
        return screen(request, "admin_what_if.html", session, status_code, triggers=triggers, typed=typed,
                      errors=errors or {}, kinds={k: name() for k, name in KINDS.items()})  # fmt: skip

    async def current(token: str, kind: str) -> str:
        """The draft a kind starts from: the rules in force (an example trigger for a new one)."""
        if kind == "routing":
            return routing_draft(await gateway.rules(token), (await gateway.groups(token))["groups"])
        if kind == "sla":
            return sla_draft(await gateway.policies(token), await gateway.calendars(token))
        return json.dumps(EXAMPLE, indent=2)

    @pages.get(PAGE)
    async def what_if(
        request: Request, kind: str = "trigger", trigger: str = "", session: Session = person
    ) -> Response:
        kind = kind if kind in KINDS else "trigger"
        typed = {"kind": kind, "days": "30", "candidate": await current(session.access_token, kind), "trigger": trigger}
        if kind == "trigger" and trigger:
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
        typed = {"kind": kind if kind in KINDS else "trigger", "days": days, "candidate": candidate}
        errors = {}
        if kind not in KINDS:
            errors["kind"] = _("Choose a kind of rules.")
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
            return await show(request, session, typed, candidate_errors(error), 422)
        return RedirectResponse(f"{PAGE}/{job['job_id']}", status_code=303)

    @pages.get(PAGE + "/{job_id}")
    async def job(request: Request, job_id: str, session: Session = person) -> Response:
        found = await gateway.what_if_job(session.access_token, job_id)
        report = shown(found.get("report") or {})
        progress = found["progress"]
        share = round(100 * progress["done"] / progress["total"]) if progress["total"] else None
        return screen(request, "admin_what_if_job.html", session, job=found, share=share,
                      finished=found["status"] in FINISHED, report=report,
                      metrics={k: name() for k, name in METRICS.items()}, blocks=("job",))  # fmt: skip

    return pages
