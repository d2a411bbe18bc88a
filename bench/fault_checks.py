"""bench/faults.py's checks after a run, each one of tests/desk_invariants.py, on what the run did: the
tickets it opened and the commands acknowledged, and what the stores, topics and feeds hold after where
they stood when the run began (its `Mark`). Each check answers the failures it found, as sentences."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from eventsourcing.application import Application

from bench.fault_desk import TENANT, FaultDesk
from bench.fault_load import Load
from services.chassis.storage.store import store_env
from services.routing.application import Routing
from services.sla.application import Sla
from tests.client import headers
from tests.desk_invariants import (
    Stores,
    analytics_rebuilt_differs,
    assigned_more_than_once,
    load_view_and_aggregates,
    mailed_twice,
    mails_by_ticket,
    positions_skipped,
    unrecorded_commands,
    webhooks_undelivered,
)  # fmt: skip
from tests.privacy import desk_intake
from tests.sla_load import outcomes

SETTLE = 30.0  # seconds the desk has, after it drained, to mail and deliver what the run did


@dataclass(frozen=True)
class Mark:
    positions: dict[str, int]  # service -> its store's last position when the run began
    since: datetime  # a little before the run began

    @classmethod
    def taken(cls, faults: FaultDesk) -> Mark:
        settings = faults.desk.settings
        apps: list[Application[Any]] = [desk_intake(settings), Routing(env=store_env(settings, Routing.name)),
                Sla(env=store_env(settings, Sla.name))]  # fmt: skip
        positions = {app.name.lower(): app.recorder.max_notification_id() or 0 for app in apps}
        for app in apps:
            app.close()
        return cls(positions, datetime.now(UTC) - timedelta(seconds=5))

    def check(
        self, faults: FaultDesk, load: Load, ledger: CapacityLedger, took: dict[str, float]
    ) -> dict[str, list[str]]:
        """Every invariant's failures; `took` gets the seconds each check took."""
        settings = faults.desk.settings
        stores = Stores(settings, TENANT)
        checks: dict[str, Callable[[], list[str]]] = {
            "acknowledged commands in the store": lambda: unrecorded_commands(stores, load.acknowledged),
            "one assignment per ticket": lambda: assigned_more_than_once(stores, load.opened),
            "no agent over capacity": lambda: ledger.over_capacity(stores),
            "one SLA warning/breach per target": lambda: sla_duplicates(faults),
            "one mail per notification": lambda: self.mails(faults, load),
            "webhooks delivered once per id": lambda: self.webhooks(faults),
            "no position skipped": lambda: positions_skipped(
                settings, faults.feeds, ("intake", "sla"), self.positions, self.since
            ),
            "projections equal their rebuild": lambda: load_view_differs(stores) + analytics_differs(faults),
        }
        failures = {}
        try:
            for name, check in checks.items():
                began = time.monotonic()
                failures[name] = check()
                took[f"check: {name}"] = round(time.monotonic() - began, 2)
        finally:
            stores.close()
        return failures

    def mails(self, faults: FaultDesk, load: Load) -> list[str]:
        """Every ticket opened has its acknowledgement mailed, and no mail went out twice."""
        mails = settle(lambda: mails_by_ticket(faults.sink, load.opened), lambda found: all(found.values()))
        return mailed_twice(mails) + [f"{ticket_id}: nothing mailed" for ticket_id, ids in mails.items() if not ids]

    def webhooks(self, faults: FaultDesk) -> list[str]:
        """Every event of the tenant's feed since the mark delivered, each webhook-id with one payload."""
        ids = feed_since(faults.gateway, self.positions)
        failures: list[str] = settle(lambda: webhooks_undelivered(faults.receiver, ids), lambda found: not found)
        if any("never delivered" in failure for failure in failures):  # what the desk's delivery log says of it
            told = delivery_log(faults.gateway)
            failures = [told_of(failure, told) for failure in failures]
        return failures


def delivery_log(gateway: str) -> dict[str, str]:
    """What the desk's delivery log says of each event it took for the tenant's webhooks, and of a
    subscription disabled (after failed deliveries in a row it takes no more events): a receiver that did
    not answer on a loaded machine, told apart from an event the desk lost."""
    told: dict[str, str] = {}
    with httpx.Client(base_url=gateway, timeout=30.0, headers=headers(TENANT)) as client:
        for hook in client.get("/v1/webhooks").json()["webhooks"]:
            if not hook["active"]:
                told["subscription"] = f"the subscription was disabled: {hook['disabled_reason']}"
            log = client.get(f"/v1/webhooks/{hook['id']}/deliveries", params={"limit": 1000}).json()["deliveries"]
            for delivery in log:
                told[delivery["event_id"]] = (
                    f"{delivery['status']} after {delivery['attempts']} attempts"
                    f" (last answer {delivery['last_status']}: {delivery['last_error']})"
                )
    return told


def enable_webhooks_again(gateway: str) -> list[str]:
    """Enable again each of the tenant's subscriptions the desk disabled (after failed deliveries in a row), so
    that the next kind's runs are checked whole; the ids enabled."""
    enabled = []
    with httpx.Client(base_url=gateway, timeout=30.0, headers=headers(TENANT)) as client:
        for hook in client.get("/v1/webhooks").json()["webhooks"]:
            if not hook["active"]:
                client.patch(f"/v1/webhooks/{hook['id']}", json={"active": True}).raise_for_status()
                enabled.append(hook["id"])
    return enabled


def told_of(failure: str, told: dict[str, str]) -> str:
    """`failure` ("event E never delivered") with what the delivery log says of E."""
    event_id = failure.split()[1] if failure.startswith("event ") else ""
    said = told.get(event_id) or told.get("subscription") or "no delivery recorded"
    return f"{failure}: {said}" if "never delivered" in failure else failure


def settle(probe: Callable[[], Any], until: Callable[[Any], bool]) -> Any:
    """`probe()` once `until` holds of it, or as it is after SETTLE seconds."""
    deadline = time.monotonic() + SETTLE
    while not until(found := probe()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return found


def feed_since(gateway: str, positions: dict[str, int]) -> list[str]:
    """The ids of the tenant's events in the gateway's feed after `positions` (service -> store position)."""
    after = "-".join(f"{name}.{position}" for name, position in positions.items())
    ids: list[str] = []
    with httpx.Client(base_url=gateway, timeout=30.0, headers=headers(TENANT)) as client:
        while True:
            reply = client.get("/v1/events", params={"after": after, "limit": 1000})
            reply.raise_for_status()
            page = reply.json()
            if not page["events"]:  # the end (a source of no event here, knowledge's, never answers)
                return ids
            ids += [event["id"] for event in page["events"]]
            after = page["next_after"]


class CapacityLedger:
    """No agent above capacity at any moment (tests/desk_invariants.py's `never_over_capacity`), checked
    on what each agent's stream recorded since the last check: the tickets each agent held then are kept,
    so a run reads its own events, not the whole history again."""

    def __init__(self) -> None:
        self.read: dict[UUID, int] = {}  # agent -> the version of its stream read up to
        self.holding: defaultdict[UUID, set[str]] = defaultdict(set)

    def over_capacity(self, stores: Stores) -> list[str]:
        failures = []
        for agent in stores.agents():
            events: list[Any] = list(stores.routing.events.get(agent.id, gt=self.read.get(agent.id)))
            for event in events:
                self.read[agent.id] = event.originator_version
                name = type(event).__name__
                if name == "TicketTaken":
                    self.holding[agent.id].add(event.ticket_id)
                    if len(self.holding[agent.id]) > agent.capacity:
                        failures.append(f"{agent.agent_id} held {len(self.holding[agent.id])} > {agent.capacity}")
                elif name == "TicketReleased":
                    self.holding[agent.id].discard(event.ticket_id)
        return failures


def sla_duplicates(faults: FaultDesk) -> list[str]:
    sla = Sla(env=store_env(faults.desk.settings, Sla.name))
    try:
        duplicates = outcomes(sla).duplicates
    finally:
        sla.close()
    return [f"{duplicates} warnings or breaches recorded twice"] if duplicates else []


def load_view_differs(stores: Stores) -> list[str]:
    """Routing's load view equals what the agents' aggregates say (once its projector caught up)."""
    view, aggregates = settle(lambda: load_view_and_aggregates(stores), lambda pair: pair[0] == pair[1])
    return [] if view == aggregates else [f"routing's load view {view} differs from the agents {aggregates}"]


def analytics_differs(faults: FaultDesk) -> list[str]:
    """Analytics rebuilt from the feeds, its consumer stopped meanwhile, equals the live projection."""
    consumer = faults.processes[("analytics", "consumer")]
    consumer.stop()
    try:
        feeds = {name: url for name, url in faults.feeds.items() if name in ("intake", "sla")}
        return analytics_rebuilt_differs(faults.desk.settings, feeds)
    finally:
        consumer.start(wait=False)  # the next run finds it ready, or started again (FaultDesk.supervise)
