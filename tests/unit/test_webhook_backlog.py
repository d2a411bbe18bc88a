"""A backlog of webhook deliveries goes to each target a few requests at a time (services/intake/webhooks/delivery.py
PER_TARGET), and a busy target does not hold up another's."""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from typing import Any, ClassVar

import httpx

from services.intake.webhooks.delivery import PER_TARGET, Deliverer

SECRET = "whsec_" + base64.b64encode(b"a webhook secret of 32 bytes!!!!").decode()
TARGETS = {"billing": "https://billing.example.com/hooks", "crm": "https://crm.example.com:8443/in"}


class Hooks:
    """A tenant's subscriptions as the deliverer reads them."""

    allow_private = True
    subscriptions: ClassVar[dict[str, dict[str, Any]]] = {
        name: {"active": True, "secret": SECRET, "url": url} for name, url in TARGETS.items()
    }


def delivery(n: int, subscription: str) -> dict[str, Any]:
    return {"id": f"{subscription}-{n}", "subscription_id": subscription, "event_id": f"evt-{subscription}-{n}",
            "payload": '{"type":"ticket.opened"}', "attempts": 0}  # fmt: skip


async def test_a_backlog_goes_to_each_target_a_few_requests_at_a_time_and_to_all_targets_at_once() -> None:
    in_flight: Counter[str] = Counter()
    most: Counter[str] = Counter()
    most_in_all = 0

    async def receiver(request: httpx.Request) -> httpx.Response:
        nonlocal most_in_all
        in_flight[request.url.host] += 1
        most[request.url.host] = max(most[request.url.host], in_flight[request.url.host])
        most_in_all = max(most_in_all, sum(in_flight.values()))
        await asyncio.sleep(0.005)
        in_flight[request.url.host] -= 1
        return httpx.Response(204)

    deliverer = Deliverer(intake=None, deliveries=None)  # type: ignore[arg-type]  # only its sending is used
    backlog = [delivery(n, name) for n in range(60) for name in TARGETS]
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        outcomes = await asyncio.gather(*(deliverer._send({True: client}, d, Hooks()) for d in backlog))  # type: ignore[arg-type]

    assert all(outcome.ok for outcome in outcomes)
    assert most == {"billing.example.com": PER_TARGET, "crm.example.com": PER_TARGET}
    assert most_in_all == 2 * PER_TARGET
