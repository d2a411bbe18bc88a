"""The triggers admin screen's condition rows for custom fields, the language and business hours: typed as text,
sent to the rules API as its shapes (a custom field's value typed as its kind), and shown again; a refusal naming
`if.custom_fields.<key>` is placed beside the row of that field."""

from __future__ import annotations

from starlette.datastructures import FormData

from services.web.admin.triggers import TriggerForm, placed
from services.web.gateway_client import GatewayError

KINDS = {"product": "choice", "seats": "number", "vip": "boolean"}


def test_an_admin_types_custom_field_language_and_business_hours_conditions_and_sees_them_again() -> None:
    typed = FormData([
        ("name", "Big Russian VPN"), ("when", "ticket.opened"),
        ("if-0-field", "custom_fields.product"), ("if-0-op", "in"), ("if-0-value", "vpn, mail"),
        ("if-1-field", "custom_fields.seats"), ("if-1-op", "greater"), ("if-1-value", "25"),
        ("if-2-field", "custom_fields.vip"), ("if-2-op", "is"), ("if-2-value", "yes"),
        ("if-3-field", "language"), ("if-3-op", "is"), ("if-3-value", "ru"),
        ("if-4-field", "hours_since"), ("if-4-op", "greater"), ("if-4-value", "4"), ("if-4-of", "opened"),
        ("if-4-calendar", "office"),
        ("then-0-action", "tags_add"), ("then-0-value", "big"),
    ])  # fmt: skip
    body = TriggerForm.sent(typed).body(KINDS)
    assert body["if"] == [
        {"field": "custom_fields.product", "op": "in", "value": ["vpn", "mail"]},
        {"field": "custom_fields.seats", "op": "greater", "value": 25.0},
        {"field": "custom_fields.vip", "op": "is", "value": True},
        {"field": "language", "op": "is", "value": "ru"},
        {"field": "hours_since", "op": "greater", "value": 4.0, "of": "opened", "business_hours": True,
         "calendar": "office"},
    ]  # fmt: skip
    shown = TriggerForm.of(body).conditions
    assert [(c["field"], c["value"], c["calendar"]) for c in shown] == [
        ("custom_fields.product", "vpn, mail", ""), ("custom_fields.seats", "25", ""),
        ("custom_fields.vip", "True", ""), ("language", "ru", ""), ("hours_since", "4", "office"),
    ]  # fmt: skip


def test_a_refused_custom_field_is_named_beside_its_row() -> None:
    form = TriggerForm("x", ["ticket.opened"], "all", [
        {"field": "language", "op": "is", "value": "ru", "of": "", "calendar": ""},
        {"field": "custom_fields.product", "op": "is", "value": "vpn", "of": "", "calendar": ""},
    ], [])  # fmt: skip
    problem = {"errors": [{"field": "if.custom_fields.product", "message": "the tenant has no custom field 'product'"}]}
    error = GatewayError(422, problem)
    assert placed(error, form) == {"if-1-field": "the tenant has no custom field 'product'"}
