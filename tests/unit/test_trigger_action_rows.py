"""The triggers admin screen's action rows for a group to notify and webhooks to call: typed as text, sent to the
rules API as its shapes, and shown again as the same text."""

from __future__ import annotations

from starlette.datastructures import FormData

from services.web.admin.triggers import TriggerForm


def test_an_admin_types_a_group_to_notify_and_webhooks_to_call_and_sees_them_again() -> None:
    typed = FormData([
        ("name", "Tell tier 2"), ("when", "ticket.opened"),
        ("then-0-action", "notify_group"), ("then-0-value", "tier2: ann@acme.test, bob@acme.test"),
        ("then-1-action", "webhook_ids"), ("then-1-value", "hook-1, hook-2"),
    ])  # fmt: skip
    body = TriggerForm.sent(typed).body()
    assert body["then"] == {
        "notify_group": {"group_id": "tier2", "addresses": ["ann@acme.test", "bob@acme.test"]},
        "webhook_ids": ["hook-1", "hook-2"],
    }
    shown = TriggerForm.of(body | {"match": "all"}).actions
    assert shown == [
        {"action": "notify_group", "value": "tier2: ann@acme.test, bob@acme.test"},
        {"action": "webhook_ids", "value": "hook-1, hook-2"},
    ]
