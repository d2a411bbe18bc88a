"""Where intake's stored classes lived before intake was split into folders by area.

eventsourcing stores every event and snapshot with its class's topic, `module:Class.Event`, and
imports that module to load it. Events stored before the split name the old flat modules
(`services.intake.domain:Ticket.Opened`): `register()` points each old module at the module that
now holds its classes, so such a store still loads. Events stored since carry the new topics; a
query that selects notifications by topic asks for both (`topics_of`). `main` registers them
before it opens intake's store.
"""

from __future__ import annotations

import importlib

from eventsourcing.utils import register_topic

MOVED = {
    "services.intake.api_keys": "services.intake.gateway.api_keys",
    "services.intake.checkpoints": "services.intake.audit.checkpoints",
    "services.intake.conversations": "services.intake.people.conversations",
    "services.intake.domain": "services.intake.tickets.domain",
    "services.intake.erasure": "services.intake.people.erasure",
    "services.intake.fields": "services.intake.tickets.fields",
    "services.intake.numbering": "services.intake.tickets.numbering",
    "services.intake.people": "services.intake.people.people",
    "services.intake.webhooks": "services.intake.webhooks.subscriptions",
}
"""Old module -> new module, for every module whose classes (aggregates and their events) are stored."""


def register() -> None:
    """Resolve the topics of events stored before the split to the classes where they live now.

    Each class is registered under its old topic (its events, nested in it, resolve through it); not
    the old module as a whole, since `services.intake.people` names a folder now, not a module."""
    for old, new in MOVED.items():
        for value in vars(importlib.import_module(new)).values():
            if isinstance(value, type) and value.__module__ == new:
                register_topic(f"{old}:{value.__qualname__}", value)


def topics_of(owner: type, event: str) -> list[str]:
    """The topics under which events `owner.<event>` are stored: today's, and the one before the split."""
    topics = [f"{owner.__module__}:{owner.__qualname__}.{event}"]
    topics += [f"{old}:{owner.__qualname__}.{event}" for old, new in MOVED.items() if new == owner.__module__]
    return topics
