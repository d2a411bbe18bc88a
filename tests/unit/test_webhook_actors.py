"""Every change an admin makes to the tenant's webhooks is recorded with the admin as its actor; the
events recorded before the actor joined them still load."""

from __future__ import annotations

from services.intake.webhooks.subscriptions import Webhooks


def test_each_change_to_a_webhook_records_the_admin_who_made_it() -> None:
    hooks = Webhooks("acme")
    hooks.allow_private_targets(True, by="admin-1")
    made = hooks.subscribe("http://127.0.0.1:9/hooks", ["ticket.opened"], by="admin-1")
    hooks.change(made, None, ["ticket.resolved"], None, by="admin-2")
    hooks.remove(made, by="admin-2")
    events = hooks.collect_events()
    assert [(type(e).__name__, getattr(e, "by", None)) for e in events[1:]] == [
        ("PrivateTargetsAllowed", "admin-1"),
        ("Subscribed", "admin-1"),
        ("Changed", "admin-2"),
        ("Removed", "admin-2"),
    ]
    assert hooks.subscriptions == {}


def test_a_subscription_recorded_without_its_admin_still_loads() -> None:
    hooks = Webhooks("acme")
    hooks.allow_private_targets(True)
    made = hooks.subscribe("http://127.0.0.1:9/hooks", [])
    events = hooks.collect_events()
    for recorded in events:
        recorded.__dict__.pop("by", None)  # as stored before `by` was recorded
    replayed = None
    for recorded in events:
        replayed = recorded.mutate(replayed)
    assert isinstance(replayed, Webhooks)
    assert replayed.subscriptions[made]["created_by"] == ""
