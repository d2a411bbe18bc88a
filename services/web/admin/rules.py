"""Routing rules: the ordered list routing tries for each new ticket (the first that matches wins),
each rule's conditions, where it sends the ticket and the reason the ticket then shows; added,
changed, moved and retired through routing's API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.admin import changes
from services.web.admin.area import OrderedList, mount_ordering
from services.web.admin.screens import screen
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.sessions import Session

PAGE = "/admin/rules"
HISTORY = "/v1/routing/rules/history"


async def _rule_order(gateway: Gateway, token: str) -> list[str]:
    return [r["rule_id"] for r in await gateway.rules(token)]


ORDERED = OrderedList(
    PAGE, "rule", lambda rule_id: f"/v1/routing/rules/{rule_id}", "/v1/routing/rule-order", "rule_ids", _rule_order
)
TYPES = ("incident", "request", "question", "problem")
PRIORITIES = ("P1", "P2", "P3", "P4")
CHANNELS = ("api", "email", "chat", "messenger", "phone", "portal")
LISTS = ("categories", "tags", "organisations", "words", "skills")  # typed as comma-separated words
CHOICES = ("types", "priorities", "channels")  # ticked
FIELDS = ("rule_id", "group_id", *LISTS, *CHOICES)
# A rule's conditions as the list shows them (skills are what the agent needs, shown with the target).
CONDITIONS: dict[str, Callable[[], str]] = {
    "categories": lambda: _("Category"),
    "types": lambda: _("Type"),
    "priorities": lambda: _("Priority"),
    "channels": lambda: _("Channel"),
    "tags": lambda: _("Tags"),
    "organisations": lambda: _("Organisation"),
    "words": lambda: _("Words"),
}


class RuleForm(BaseModel):
    rule_id: str = ""
    group_id: str = ""
    categories: str = ""
    tags: str = ""
    organisations: str = ""
    words: str = ""
    skills: str = ""
    types: list[str] = []
    priorities: list[str] = []
    channels: list[str] = []
    csrf_token: str = ""
    form_key: str = ""

    def body(self) -> dict[str, Any]:
        """The rule as routing's API takes it (`RuleSpec`)."""
        lists = {name: forms.words(getattr(self, name)) for name in LISTS}
        return {"group_id": self.group_id.strip()} | lists | {name: getattr(self, name) for name in CHOICES}


@dataclass(frozen=True)
class RuleLine:
    rule_id: str
    conditions: list[tuple[str, str]]  # (what, any of these values)
    group_id: str
    skills: list[str]
    reason: str  # in routing's own words, as the ticket page will show it


def line(rule: dict[str, Any]) -> RuleLine:
    conditions = [(label(), ", ".join(rule[name])) for name, label in CONDITIONS.items() if rule.get(name)]
    # The words routing records when this rule places a ticket (services/routing/application.py).
    reason = f"rule {rule['rule_id']!r} matched"
    return RuleLine(rule["rule_id"], conditions, rule["group_id"], list(rule.get("skills", [])), reason)


def typed_of(rule: dict[str, Any]) -> dict[str, Any]:
    """A stored rule as its form shows it."""
    return (
        {name: ", ".join(rule.get(name, [])) for name in LISTS}
        | {
            "rule_id": rule["rule_id"],
            "group_id": rule["group_id"],
        }
        | {name: list(rule.get(name, [])) for name in CHOICES}
    )


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
        rules, changed = await asyncio.gather(
            gateway.rules(session.access_token), gateway.setting_changes(session.access_token, HISTORY)
        )
        being_changed = next((r for r in rules if r["rule_id"] == editing), None)
        if typed is None and being_changed is not None:
            typed = typed_of(being_changed)
        return screen(
            request,
            "admin_rules.html",
            session,
            status_code,
            rules=[line(r) for r in rules],
            editing=being_changed["rule_id"] if being_changed else None,
            types=TYPES,
            priorities=PRIORITIES,
            channels=CHANNELS,
            errors=errors or {},
            typed=typed or {},
            key=forms.form_key(),
            changes=changes.lines(changed),
        )

    async def refused(
        request: Request, session: Session, error: GatewayError, form: RuleForm, editing: str | None
    ) -> Response:
        errors = forms.beside(error, FIELDS, "group_id" if editing else "rule_id")
        return await show(request, session, editing, errors, form.model_dump(), 422)

    @pages.get(PAGE)
    async def rules(request: Request, edit: str | None = None, session: Session = admin) -> Response:
        return await show(request, session, edit)

    @pages.post(PAGE)
    async def add(request: Request, form: Annotated[RuleForm, Form()], session: Session = admin) -> Response:
        forms.check_form_token(session, form.csrf_token)
        if not form.rule_id.strip():
            return await show(request, session, None, {"rule_id": _("Name the rule.")}, form.model_dump(), 422)
        body = {"rule_id": form.rule_id.strip()} | form.body()
        try:
            await gateway.add(session.access_token, "/v1/routing/rules", body, form.form_key or forms.form_key())
        except GatewayError as error:
            return await refused(request, session, error, form, None)
        return RedirectResponse(PAGE, status_code=303)

    @pages.post(PAGE + "/{rule_id}")
    async def change(
        request: Request, rule_id: str, form: Annotated[RuleForm, Form()], session: Session = admin
    ) -> Response:
        forms.check_form_token(session, form.csrf_token)
        form.rule_id = rule_id
        try:
            await gateway.put(session.access_token, f"/v1/routing/rules/{rule_id}", form.body())
        except GatewayError as error:
            return await refused(request, session, error, form, rule_id)
        return RedirectResponse(PAGE, status_code=303)

    mount_ordering(pages, gateway, admin, ORDERED)

    return pages
