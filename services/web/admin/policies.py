"""SLA policies: the ordered list the SLA service tries for each ticket (the first whose conditions
hold sets its targets), each with its calendar, targets per metric and warning thresholds; added,
changed, moved and retired through the SLA service's API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.admin import changes, durations
from services.web.admin.area import OrderedList, mount_ordering
from services.web.admin.screens import screen
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.sessions import Session

PAGE = "/admin/policies"
HISTORY = "/v1/sla/policies/history"


async def _policy_order(gateway: Gateway, token: str) -> list[str]:
    return [p["policy_id"] for p in await gateway.policies(token)]


ORDERED = OrderedList(
    PAGE,
    "policy",
    lambda policy_id: f"/v1/sla/policies/{policy_id}",
    "/v1/sla/policy-order",
    "policy_ids",
    _policy_order,
)
ALWAYS = "24x7"  # the SLA service's built-in calendar
PRIORITIES = ("P1", "P2", "P3", "P4")
METRICS: dict[str, Callable[[], str]] = {
    "first_response": lambda: _("First response"),
    "next_response": lambda: _("Next response"),
    "resolution": lambda: _("Resolution"),
}
CONDITIONS: dict[str, Callable[[], str]] = {
    "priorities": lambda: _("Priority"),
    "categories": lambda: _("Category"),
    "organisations": lambda: _("Organisation"),
}
# `every` and `count` are the reminders' (the API's `reminders.every`), `targets` the set of them.
FIELDS = ("policy_id", "calendar", *CONDITIONS, *METRICS, "targets", "warn_at", "every", "count")


class PolicyForm(BaseModel):
    policy_id: str = ""
    priorities: list[str] = []
    categories: str = ""
    organisations: str = ""
    calendar: str = ALWAYS
    first_response: str = ""
    next_response: str = ""
    resolution: str = ""
    warn_at: str = "75, 90"
    every: str = ""
    count: str = ""
    csrf_token: str = ""


@dataclass(frozen=True)
class PolicyLine:
    policy_id: str
    conditions: list[tuple[str, str]]
    calendar: str
    targets: list[tuple[str, str]]  # (metric, business time)
    warn_at: list[int]


def body_of(form: PolicyForm) -> tuple[dict[str, Any], dict[str, str]]:
    """The policy as the API takes it (`PolicySpec`), and what is wrong beside which field before asking it."""
    errors: dict[str, str] = {}
    targets: dict[str, int] = {}
    for metric in METRICS:
        typed = getattr(form, metric).strip()
        seconds = durations.seconds_of(typed)
        if typed and seconds is None:
            errors[metric] = _("Write business time as 4h, 30m or 1d 2h.")
        elif seconds is not None:
            targets[metric] = seconds
    warn_at = forms.words(form.warn_at)
    if not all(w.isdigit() for w in warn_at):
        errors["warn_at"] = _("Write percentages of the target, such as 75, 90.")
    match = {"priorities": form.priorities, "categories": forms.words(form.categories)}
    match["organisations"] = forms.words(form.organisations)
    body: dict[str, Any] = {"match": match, "calendar": form.calendar or ALWAYS, "targets": targets}
    body["warn_at"] = [int(w) for w in warn_at if w.isdigit()]
    if form.every.strip() or form.count.strip():
        every = durations.seconds_of(form.every)
        if every is None:
            errors["every"] = _("Write business time as 4h, 30m or 1d 2h.")
        if not form.count.strip().isdigit():
            errors["count"] = _("Give a number of reminders.")
        body["reminders"] = {"every": every, "count": int(form.count) if form.count.strip().isdigit() else 0}
    if not form.policy_id.strip():
        errors["policy_id"] = _("Name the policy.")
    return body, errors


def line(policy: dict[str, Any]) -> PolicyLine:
    match = policy.get("match", {})
    conditions = [(label(), ", ".join(match[name])) for name, label in CONDITIONS.items() if match.get(name)]
    given = policy["targets"]
    targets = [(label(), durations.typed_of(given[m])) for m, label in METRICS.items() if m in given]
    return PolicyLine(policy["policy_id"], conditions, policy["calendar"], targets, list(policy.get("warn_at", [])))


def typed_of(policy: dict[str, Any]) -> dict[str, Any]:
    """A stored policy as its form shows it."""
    match, reminders = policy.get("match", {}), policy.get("reminders") or {}
    return {
        "policy_id": policy["policy_id"],
        "priorities": list(match.get("priorities", [])),
        "categories": ", ".join(match.get("categories", [])),
        "organisations": ", ".join(match.get("organisations", [])),
        "calendar": policy["calendar"],
        "warn_at": ", ".join(str(w) for w in policy.get("warn_at", [])),
        "every": durations.typed_of(reminders.get("every_seconds")),
        "count": str(reminders.get("count", "")),
    } | {metric: durations.typed_of(policy["targets"].get(metric)) for metric in METRICS}


def router(gateway: Gateway, admin: Any) -> APIRouter:
    """`admin`: the admin's session (area.admin_only)."""
    pages = APIRouter(include_in_schema=False)

    async def show(
        request: Request,
        session: Session,
        editing: str | None = None,
        errors: dict[str, str] | None = None,
        typed: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> Response:
        policies, calendars, changed = await asyncio.gather(
            gateway.policies(session.access_token),
            gateway.calendars(session.access_token),
            gateway.setting_changes(session.access_token, HISTORY),
        )
        being_changed = next((p for p in policies if p["policy_id"] == editing), None)
        if typed is None and being_changed is not None:
            typed = typed_of(being_changed)
        return screen(
            request,
            "admin_policies.html",
            session,
            status_code,
            policies=[line(p) for p in policies],
            editing=being_changed["policy_id"] if being_changed else None,
            calendars=[ALWAYS, *sorted(calendars)],
            priorities=PRIORITIES,
            metrics=[(metric, label()) for metric, label in METRICS.items()],
            errors=errors or {},
            typed=typed or PolicyForm().model_dump(),
            changes=changes.lines(changed),
        )

    @pages.get(PAGE)
    async def policies(request: Request, edit: str | None = None, session: Session = admin) -> Response:
        return await show(request, session, edit)

    @pages.post(PAGE)
    async def define(request: Request, form: Annotated[PolicyForm, Form()], session: Session = admin) -> Response:
        """Add a policy (tried after the others) or change the one it names, in place."""
        forms.check_form_token(session, form.csrf_token)
        editing = request.query_params.get("edit")
        typed = form.model_dump(exclude={"csrf_token"})
        body, errors = body_of(form)
        if errors:
            return await show(request, session, editing, errors, typed, 422)
        try:
            await gateway.put(session.access_token, f"/v1/sla/policies/{form.policy_id.strip()}", body)
        except GatewayError as error:
            return await show(request, session, editing, forms.beside(error, FIELDS, "policy_id"), typed, 422)
        return RedirectResponse(PAGE, status_code=303)

    mount_ordering(pages, gateway, admin, ORDERED)

    return pages
