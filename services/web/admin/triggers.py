"""Triggers: the tenant's automation rules in the order they run (moved up or down), each with its state
(enabled, or disabled and why: an admin's reason or the refusal that disabled it), a form to make one and an
editor to revise it (when: events; if: condition rows of field, operator and value; then: action rows), enable,
disable and retire, and the trigger's recent firings. A group to notify is typed `tier2: ann@acme.test, ...` (the
desk knows no agent's address), webhooks to call as their subscription ids. Everything through the rules API
behind the gateway; a refused form comes back with the API's message beside the row and part it names
(`if[2].value`, `if.custom_fields.<key>`). A condition may name the ticket's language, or a custom field of the
tenant of a kind the desk publishes (choice, number, boolean: `custom_fields.<key>`); an hours-since condition
counts business hours when it names one of the SLA service's calendars."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from services.web import forms
from services.web.admin.area import moved
from services.web.admin.screens import screen
from services.web.gateway_client import Gateway, GatewayError
from services.web.i18n import gettext_ as _
from services.web.sessions import Session

PAGE = "/admin/triggers"
EVENTS = (
    "ticket.opened", "ticket.commented", "ticket.status_changed", "ticket.priority_changed", "ticket.assigned",
    "ticket.custom_fields_changed", "ticket.rated", "sla.warning", "sla.breached", "sla.customer_reminded", "time",
)  # fmt: skip
CONDITION_FIELDS = (
    "status", "priority", "type", "channel", "category", "group", "assignee", "organisation", "tags",
    "replied_last", "language", "hours_since",
)  # fmt: skip
CUSTOM = "custom_fields."
PUBLIC_KINDS = ("choice", "number", "boolean")  # the custom fields the desk publishes, so triggers can read
YES, NO = ("yes", "true"), ("no", "false")
OPERATORS = ("is", "is_not", "in", "contains", "changed_to", "greater", "less")
MOMENTS = ("opened", "status_changed", "customer_replied", "agent_replied", "assigned")
ACTIONS = (
    "status", "status_reason", "pending_hours", "priority", "tags_add", "tags_remove", "group_id", "agent_id",
    "note", "macro_id", "custom_field", "notify_group", "webhook_ids",
)  # fmt: skip
LISTED_ACTIONS = ("tags_add", "tags_remove", "webhook_ids")  # typed as comma-separated words
SPARE_ROWS = 2  # empty rows under a form's conditions and actions, to add one without a script


def event_names() -> dict[str, str]:
    return {
        "ticket.opened": _("Ticket opened"), "ticket.commented": _("Customer commented"),
        "ticket.status_changed": _("Status changed"), "ticket.priority_changed": _("Priority changed"),
        "ticket.assigned": _("Ticket assigned"), "ticket.custom_fields_changed": _("Custom fields changed"),
        "ticket.rated": _("Rating received"),
        "sla.warning": _("SLA warning"), "sla.breached": _("SLA breached"),
        "sla.customer_reminded": _("Pending reminder sent"), "time": _("Time passes (hours since a moment)"),
    }  # fmt: skip


def action_names() -> dict[str, str]:
    return {
        "status": _("Set status"), "status_reason": _("Reason for the status"),
        "pending_hours": _("Pending for hours"), "priority": _("Set priority"), "tags_add": _("Add tags"),
        "tags_remove": _("Remove tags"), "group_id": _("Assign to group"), "agent_id": _("Assign to agent"),
        "note": _("Add an internal note"), "macro_id": _("Reply with macro (id)"),
        "custom_field": _("Set custom field (key=value)"),
        "notify_group": _("Notify a group by e-mail (group: addresses)"),
        "webhook_ids": _("Call webhooks (subscription ids)"),
    }  # fmt: skip


@dataclass(frozen=True)
class TriggerForm:
    """A trigger as its form holds it: every value text, conditions and actions as rows."""

    name: str
    when: list[str]
    match: str
    conditions: list[dict[str, str]]  # field, op, value, of, calendar
    actions: list[dict[str, str]]  # action, value

    @classmethod
    def of(cls, trigger: Mapping[str, Any]) -> TriggerForm:
        conditions = [
            {
                "field": str(c["field"]),
                "op": str(c["op"]),
                "value": _text(c.get("value")),
                "of": str(c.get("of") or ""),
                "calendar": str(c.get("calendar") or "") if c.get("business_hours") else "",
            }
            for c in trigger.get("if", [])
        ]
        actions: list[dict[str, str]] = []
        for action, value in trigger.get("then", {}).items():
            if action == "custom_fields":
                actions += [{"action": "custom_field", "value": f"{k}={_text(v)}"} for k, v in value.items()]
            elif action == "notify_group":
                actions.append({"action": action, "value": f"{value['group_id']}: {_text(value['addresses'])}"})
            else:
                actions.append({"action": action, "value": _text(value)})
        return cls(str(trigger["name"]), list(trigger["when"]), str(trigger.get("match", "all")), conditions, actions)

    @classmethod
    def sent(cls, form: FormData) -> TriggerForm:
        def rows(prefix: str, parts: tuple[str, ...]) -> list[dict[str, str]]:
            count = max((int(m[1]) + 1 for k in form if (m := re.fullmatch(rf"{prefix}-(\d+)-\w+", k))), default=0)
            found = [{p: str(form.get(f"{prefix}-{i}-{p}", "")).strip() for p in parts} for i in range(count)]
            return [row for row in found if row[parts[0]]]

        when = [str(w) for w in form.getlist("when")]
        return cls(
            str(form.get("name", "")).strip(), when, str(form.get("match") or "all"),
            rows("if", ("field", "op", "value", "of", "calendar")), rows("then", ("action", "value")),
        )  # fmt: skip

    def body(self, kinds: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The trigger as the API takes it (its own checks name what is wrong); `kinds`: the tenant's custom fields'
        kinds, which say how a custom field's value is typed (a number, yes or no, a choice)."""
        return {"name": self.name, "when": self.when, "match": self.match,
                "if": [_condition(c, kinds or {}) for c in self.conditions], "then": _then(self.actions)}  # fmt: skip

    def shown(self) -> dict[str, Any]:
        """The rows the form shows: the trigger's own and a few empty ones."""
        blank_condition = {"field": "", "op": "is", "value": "", "of": "", "calendar": ""}
        return {
            "name": self.name, "when": self.when, "match": self.match,
            "conditions": [*self.conditions, *[blank_condition] * SPARE_ROWS],
            "actions": [*self.actions, *[{"action": "", "value": ""}] * SPARE_ROWS],
        }  # fmt: skip


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _condition(row: Mapping[str, str], kinds: Mapping[str, str]) -> dict[str, Any]:
    value: Any = row["value"] or None
    if row["field"] == "hours_since":
        since = {"field": "hours_since", "op": "greater", "value": _number(row["value"]), "of": row["of"] or None}
        calendar = row.get("calendar") or ""
        return since | ({"business_hours": True, "calendar": calendar} if calendar else {})
    kind = kinds.get(row["field"].removeprefix(CUSTOM)) if row["field"].startswith(CUSTOM) else None
    if row["op"] == "in":
        value = [_typed(word, kind) for word in forms.words(row["value"])]
    elif value is not None:
        value = _typed(value, kind)
    return {"field": row["field"], "op": row["op"], "value": value}


def _typed(text: str, kind: str | None) -> Any:
    """A custom field's value as its kind takes it (the API says what is wrong with one that is not)."""
    if kind == "number":
        return _number(text)
    if kind == "boolean" and text.lower() in (*YES, *NO):
        return text.lower() in YES
    return text


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text  # the API says what is wrong with it, beside the row


def _then(rows: list[dict[str, str]]) -> dict[str, Any]:
    then: dict[str, Any] = {}
    for row in rows:
        action, value = row["action"], row["value"]
        if action == "custom_field":
            key, _sep, field_value = value.partition("=")
            then.setdefault("custom_fields", {})[key.strip()] = field_value.strip()
        elif action == "notify_group":  # `tier2: ann@acme.test, bob@acme.test`
            group, _sep, addresses = value.partition(":")
            then[action] = {"group_id": group.strip(), "addresses": forms.words(addresses)}
        elif action in LISTED_ACTIONS:
            then[action] = [*then.get(action, []), *forms.words(value)]
        elif action == "pending_hours":
            then[action] = int(value) if value.isdigit() else value
        else:
            then[action] = value
    return then


def placed(error: GatewayError, form: TriggerForm) -> dict[str, str]:
    """The API's messages beside the part of the form they name: `if[2].op` (or `if.2.op`) beside that row's
    operator, `then.status` beside the action row setting the status; the rest beside the name."""
    problem = error.problem
    named = [(str(e["field"]), str(e.get("message") or error)) for e in problem.get("errors", []) if e.get("field")]
    named += [(str(problem["field"]), str(error))] if problem.get("field") else []
    errors: dict[str, str] = {}
    for path, message in named:
        parts = re.sub(r"\[(\d+)\]", r".\1", path).split(".")
        where = "name"
        if parts[:2] == ["if", "custom_fields"] and len(parts) > 2:  # `if.custom_fields.<key>`: its row's field
            field = CUSTOM + ".".join(parts[2:])
            row = next((i for i, c in enumerate(form.conditions) if c["field"] == field), None)
            where = f"if-{row}-field" if row is not None else "if"
        elif parts[0] == "if" and len(parts) > 1 and parts[1].isdigit():
            part = parts[2] if len(parts) > 2 and parts[2] in ("field", "op", "value", "of", "calendar") else "field"
            where = f"if-{parts[1]}-{part}"
        elif parts[0] == "if":
            where = "if"
        elif parts[0] == "then" and len(parts) > 1:
            action = "custom_field" if parts[1] == "custom_fields" else parts[1]
            row = next((i for i, a in enumerate(form.actions) if a["action"] == action), None)
            where = f"then-{row}-value" if row is not None else "then"
        elif parts[0] in ("then", "when", "match", "name"):
            where = parts[0]
        errors.setdefault(where, message.removeprefix("Value error, "))
    return errors or {"name": str(error)}


def _checked(form: TriggerForm) -> dict[str, str]:
    """What the form misses before asking the API."""
    errors = {}
    if not form.name:
        errors["name"] = _("Name the trigger.")
    if not form.when:
        errors["when"] = _("Choose at least one event.")
    if not form.actions:
        errors["then"] = _("Choose at least one action.")
    return errors


def router(gateway: Gateway, admin: Any) -> APIRouter:
    """`admin`: the admin's session (area.admin_only)."""
    pages = APIRouter(include_in_schema=False)

    async def custom_kinds(session: Session) -> dict[str, str]:
        """The tenant's custom fields a trigger may read (choice, number, boolean), key -> kind."""
        fields = await gateway.fields(session.access_token)
        return {key: str(spec["kind"]) for key, spec in fields.items() if spec.get("kind") in PUBLIC_KINDS}

    async def choices(session: Session) -> dict[str, Any]:
        custom = tuple(CUSTOM + key for key in sorted(await custom_kinds(session)))
        return {"events": event_names(), "condition_fields": (*CONDITION_FIELDS, *custom), "operators": OPERATORS,
                "moments": MOMENTS, "actions": action_names()}  # fmt: skip

    async def listing(
        request: Request, session: Session, errors: dict[str, str] | None = None,
        typed: TriggerForm | None = None, status_code: int = 200,
    ) -> Response:  # fmt: skip
        triggers = await gateway.triggers(session.access_token)
        typed = typed or TriggerForm("", ["ticket.opened"], "all", [], [])
        return screen(
            request, "admin_triggers.html", session, status_code, triggers=triggers, errors=errors or {},
            typed=typed.shown(), key=forms.form_key(), **await choices(session),
        )  # fmt: skip

    async def editor(
        request: Request, session: Session, trigger_id: str, errors: dict[str, str] | None = None,
        typed: TriggerForm | None = None, status_code: int = 200,
    ) -> Response:  # fmt: skip
        trigger = await gateway.trigger(session.access_token, trigger_id)
        firings = await gateway.trigger_firings(session.access_token, trigger_id)
        typed = typed or TriggerForm.of(trigger)
        return screen(
            request, "admin_trigger.html", session, status_code, trigger=trigger, firings=firings,
            errors=errors or {}, typed=typed.shown(), **await choices(session),
        )  # fmt: skip

    @pages.get(PAGE)
    async def triggers(request: Request, session: Session = admin) -> Response:
        return await listing(request, session)

    @pages.post(PAGE)
    async def make(request: Request, session: Session = admin) -> Response:
        sent = await request.form()
        forms.check_form_token(session, str(sent.get("csrf_token", "")))
        form = TriggerForm.sent(sent)
        if errors := _checked(form):
            return await listing(request, session, errors, form, 422)
        try:
            body = form.body(await custom_kinds(session))
            made = await gateway.make_trigger(session.access_token, body, str(sent.get("form_key") or ""))
        except GatewayError as error:
            return await listing(request, session, placed(error, form), form, 422)
        return RedirectResponse(f"{PAGE}#trigger-{made['id']}", status_code=303)

    @pages.get(PAGE + "/{trigger_id}")
    async def edit(request: Request, trigger_id: str, session: Session = admin) -> Response:
        return await editor(request, session, trigger_id)

    @pages.post(PAGE + "/{trigger_id}")
    async def revise(request: Request, trigger_id: str, session: Session = admin) -> Response:
        sent = await request.form()
        forms.check_form_token(session, str(sent.get("csrf_token", "")))
        form = TriggerForm.sent(sent)
        if errors := _checked(form):
            return await editor(request, session, trigger_id, errors, form, 422)
        version = int(str(sent.get("version") or 0)) or None
        try:
            body = form.body(await custom_kinds(session))
            await gateway.revise_trigger(session.access_token, trigger_id, body, version)
        except GatewayError as error:
            message = _("Someone changed this trigger meanwhile: reload it to see their version.")
            errors = {"name": message} if error.status == 412 else placed(error, form)
            return await editor(request, session, trigger_id, errors, form, 422)
        return RedirectResponse(f"{PAGE}/{trigger_id}", status_code=303)

    @pages.post(PAGE + "/{trigger_id}/state")
    async def state(
        trigger_id: str,
        change: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
        back: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        session: Session = admin,
    ) -> Response:
        """Enable, disable (with the reason typed, or a default) or retire."""
        forms.check_form_token(session, csrf_token)
        if change == "retire":
            await gateway.retire_trigger(session.access_token, trigger_id)
            return RedirectResponse(PAGE, status_code=303)
        if change == "disable":
            body = {"reason": reason.strip() or _("disabled by an admin")}
            await gateway.trigger_state(session.access_token, trigger_id, "disable", body)
        else:
            await gateway.trigger_state(session.access_token, trigger_id, "enable", {})
        where = f"{PAGE}/{trigger_id}" if back == "editor" else f"{PAGE}#trigger-{trigger_id}"
        return RedirectResponse(where, status_code=303)

    @pages.post(PAGE + "/{trigger_id}/move")
    async def move(
        trigger_id: str,
        step: Annotated[int, Form()] = 0,
        csrf_token: Annotated[str, Form()] = "",
        session: Session = admin,
    ) -> Response:
        forms.check_form_token(session, csrf_token)
        order = [str(t["id"]) for t in await gateway.triggers(session.access_token)]
        await gateway.order_triggers(session.access_token, moved(order, trigger_id, step))
        # no fragment: a page opened at one focuses no autofocus button (the focus follows the moved trigger)
        return RedirectResponse(f"{PAGE}?moved={trigger_id}&step={step}", status_code=303)

    return pages
