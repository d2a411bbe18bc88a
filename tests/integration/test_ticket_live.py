"""A ticket live, at the API on real processes and PostgreSQL: its stream says what each reader may see
of it (a customer never an internal note), resumes after the last event id, and names who of the staff
has the ticket open, on every gateway replica, until their beat stops."""

from __future__ import annotations

import contextlib
import json
import queue
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.client import eventually, open_ticket
from tests.harness import Desk
from tests.tokens import token

TENANT = "acme"
ANN = {"Authorization": f"Bearer {token(TENANT, 'agent-ann', roles=('agent',), name='Ann Archer')}"}
BORIS = {"Authorization": f"Bearer {token(TENANT, 'agent-boris', roles=('agent',))}"}
KIM = {"Authorization": f"Bearer {token(TENANT, 'customer-kim', roles=('customer',), organisation='northwind')}"}


@pytest.fixture
def gateways(desk: Desk) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two gateway replicas of one desk (one also relays and consumes)."""
    first = desk.service("intake").start()  # creates the tables
    second = desk.service("intake", "api").start(wait=False)
    second.wait_ready(timeout=180.0)  # a busy machine may take more than a minute
    with httpx.Client(base_url=first.url, timeout=30.0) as one, httpx.Client(base_url=second.url, timeout=30.0) as two:
        yield one, two


class Listener:
    """A ticket's stream read on a thread: each event as (id, type, data)."""

    def __init__(self, client: httpx.Client, ticket_id: str, auth: dict[str, str], **headers: str) -> None:
        self.events: queue.Queue[tuple[str | None, str, dict[str, Any]]] = queue.Queue()
        self.args = (client, f"/v1/tickets/{ticket_id}/stream", auth | headers)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        """On a client of its own, until the desk stops (the end of the test)."""
        gateway, path, headers = self.args
        timeout = httpx.Timeout(30.0, read=60.0)
        with (
            contextlib.suppress(httpx.HTTPError),
            httpx.Client(base_url=gateway.base_url, timeout=timeout) as client,
            client.stream("GET", path, headers=headers) as stream,
        ):
            assert stream.status_code == 200, stream.read()
            event_id, kind = None, ""
            for line in stream.iter_lines():
                if line.startswith("id: "):
                    event_id = line.removeprefix("id: ")
                elif line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    self.events.put((event_id, kind, json.loads(line.removeprefix("data: "))))
                    event_id = None

    def until(self, wanted: str, seconds: float = 20.0) -> list[tuple[str | None, str, dict[str, Any]]]:
        """Every event up to and including the first of type `wanted`."""
        seen: list[tuple[str | None, str, dict[str, Any]]] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                seen.append(self.events.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                break
            if seen[-1][1] == wanted:
                return seen
        raise AssertionError(f"no {wanted} within {seconds} s; saw {[kind for _, kind, _ in seen]}")


def comment(client: httpx.Client, ticket_id: str, body: str, public: bool) -> None:
    answer = client.post(f"/v1/tickets/{ticket_id}/comments", json={"body": body, "public": public}, headers=ANN)
    assert answer.status_code < 300, answer.text


def test_a_customer_follows_their_ticket_live_without_ever_receiving_an_internal_note(
    gateways: tuple[httpx.Client, httpx.Client],
) -> None:
    one, two = gateways
    ticket_id = open_ticket(one, TENANT, requester_id="customer-kim")
    kim = Listener(two, ticket_id, KIM)
    ann = Listener(one, ticket_id, ANN)
    comment(one, ticket_id, "Toner supplier late again", public=False)
    comment(one, ticket_id, "We are on it.", public=True)

    staff = ann.until("ticket.comment_added") + ann.until("ticket.comment_added")
    assert [e[2]["change"]["changes"]["public"] for e in staff if e[1] == "ticket.comment_added"] == [False, True]
    seen = kim.until("ticket.comment_added")
    said = [data for _, kind, data in seen if kind == "ticket.comment_added"]
    assert [d["change"]["changes"]["body"] for d in said] == ["We are on it."]
    assert "Toner" not in json.dumps([data for _, _, data in seen])
    assert not [kind for _, kind, _ in seen if kind == "viewers"], "a customer sees no viewers"


def test_the_stream_resumes_after_the_last_event_id(gateways: tuple[httpx.Client, httpx.Client]) -> None:
    one, two = gateways
    ticket_id = open_ticket(one, TENANT, requester_id="customer-kim")
    comment(one, ticket_id, "first", public=True)
    comment(one, ticket_id, "second", public=True)
    replayed = Listener(two, ticket_id, ANN, **{"Last-Event-ID": "1"}).until("ticket.comment_added")
    first = next((i, d) for i, kind, d in replayed if kind == "ticket.comment_added")
    assert first[1]["change"]["changes"]["body"] == "first"
    after_first = Listener(one, ticket_id, ANN, **{"Last-Event-ID": str(first[0])}).until("ticket.comment_added")
    bodies = [d["change"]["changes"]["body"] for _, kind, d in after_first if kind == "ticket.comment_added"]
    assert bodies == ["second"], "nothing before the last event id again"


def test_a_viewer_beating_on_one_replica_shows_on_the_other_and_expires_when_the_beat_stops(
    gateways: tuple[httpx.Client, httpx.Client],
) -> None:
    one, two = gateways
    ticket_id = open_ticket(one, TENANT, requester_id="customer-kim")
    boris = Listener(two, ticket_id, BORIS)
    assert boris.until("viewers")[-1][2]["viewers"] == []

    beat = one.put(f"/v1/tickets/{ticket_id}/viewers/me", json={"activity": "replying"}, headers=ANN)
    assert beat.status_code == 204, beat.text
    started = time.monotonic()
    assert boris.until("viewers", 2.0)[-1][2]["viewers"] == [
        {"subject": "agent-ann", "name": "Ann Archer", "activity": "replying"}
    ]
    assert time.monotonic() - started < 1.5, "within about a second"
    assert two.get(f"/v1/tickets/{ticket_id}/viewers", headers=KIM).json() == {"viewers": []}

    assert boris.until("viewers", 10.0)[-1][2]["viewers"] == [], "gone a few seconds after the last beat"
    assert two.get(f"/v1/tickets/{ticket_id}/viewers", headers=BORIS).json() == {"viewers": []}


def test_only_the_staff_beat_and_a_bad_activity_is_named(gateways: tuple[httpx.Client, httpx.Client]) -> None:
    one, _ = gateways
    ticket_id = open_ticket(one, TENANT, requester_id="customer-kim")
    refused = one.put(f"/v1/tickets/{ticket_id}/viewers/me", json={"activity": "viewing"}, headers=KIM)
    assert refused.status_code == 403
    wrong = one.put(f"/v1/tickets/{ticket_id}/viewers/me", json={"activity": "dancing"}, headers=ANN)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "activity"
    gone = one.put("/v1/tickets/00000000-0000-0000-0000-000000000000/viewers/me", json={"activity": "viewing"},
                   headers=ANN)  # fmt: skip
    assert gone.status_code == 404
    eventually(lambda: one.delete(f"/v1/tickets/{ticket_id}/viewers/me", headers=ANN), lambda r: r.status_code == 204)


def test_a_gateway_stopping_ends_its_open_streams_and_stops_at_once(desk: Desk) -> None:
    """Told to stop, a gateway ends the streams it holds open (their browsers reconnect to another replica)
    and exits gracefully within seconds, instead of waiting on them until it is killed."""
    gateway = desk.service("intake").start()
    with httpx.Client(base_url=gateway.url, timeout=30.0) as client:
        ticket_id = open_ticket(client, TENANT, requester_id="customer-kim")
        ann = Listener(client, ticket_id, ANN)
        ann.until("viewers")
    started = time.monotonic()
    gateway.stop()
    took = time.monotonic() - started
    assert gateway.process is not None
    # uvicorn, once shut down, raises the signal it was stopped with again: -SIGTERM; a kill would be -SIGKILL.
    assert gateway.process.returncode in (0, -signal.SIGTERM), "a graceful exit, not a kill"
    assert took < 10.0, f"stopped in {took:.1f} s"
    ann.thread.join(timeout=5.0)
    assert not ann.thread.is_alive(), "the open stream ended"
