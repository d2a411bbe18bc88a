"""The consumers apply what Kafka has ready as one transaction per batch, on real Kafka and PostgreSQL:
a consumer killed with SIGKILL in the middle of batches loses and duplicates nothing, no agent goes
over capacity, and a malformed message in a batch goes to the dead-letter topic while the others apply."""

from __future__ import annotations

import asyncio
import time

from schemas.topics import TICKETS, dead_letter
from tests.client import eventually, open_tickets
from tests.desk_invariants import Stores, never_over_capacity
from tests.harness import Desk
from tests.integration.test_faults import Chaos, kill_and_restart
from tests.integration.test_poison_and_rebuild import POISON, publish_poison, read_dead_letters
from tests.integration.test_routing_faults import TENANT, form, set_up

TICKETS_OPENED = 240
STRIKES = 3  # kills at least; tickets keep coming until then (batches make short work of a fixed number)


def test_consumers_killed_in_the_middle_of_batches_assign_each_ticket_once_within_capacity(desk: Desk) -> None:
    desk.service("routing", "api").start()
    desk.service("routing", "relay").start()
    desk.service("intake", "relay").start()
    api = desk.service("intake", "api").start()
    set_up(api.url)
    stores = Stores(desk.settings)
    # Opened while nobody routes: the consumers start on a backlog, so their first batches are full.
    backlog = asyncio.run(open_tickets(api.url, TENANT, TICKETS_OPENED // 2, concurrency=4, form=form))
    victims = [desk.service("routing", "consumer").start(), desk.service("intake", "consumer").start()]
    with Chaos(kill_and_restart(*victims), pause=(0.5, 2.0), seed=22) as chaos:
        opened, deadline = list(backlog), time.monotonic() + 180
        while len(opened) < TICKETS_OPENED or (chaos.strikes < STRIKES and time.monotonic() < deadline):
            opened += asyncio.run(open_tickets(api.url, TENANT, 20, concurrency=4, form=form))
        eventually(lambda: stores.undecided(opened), lambda undecided: not undecided, timeout=240, every=1.0)
    for victim in victims:
        victim.wait_ready()
    assert chaos.strikes >= STRIKES, f"only {chaos.strikes} kills: the test proved little"
    time.sleep(2.0)  # what a last restart redelivers is applied (as duplicates) before the stores are read

    for ticket_id in opened:
        decided = [e for e in stores.events(stores.routing, ticket_id) if type(e).__name__ == "Decided"]
        assert len(decided) == 1, f"{ticket_id} decided {len(decided)} times"
        assigned = [e for e in stores.events(stores.intake, ticket_id) if type(e).__name__ == "Assigned"]
        assert len(assigned) == 1, f"{ticket_id} assigned {len(assigned)} times"
        assert assigned[0].decision_id == f"{ticket_id}/2"
    never_over_capacity(stores)


def test_a_malformed_message_in_a_batch_goes_to_the_dead_letter_topic_and_the_others_apply(desk: Desk) -> None:
    desk.service("routing", "api").start()
    desk.service("routing", "relay").start()
    desk.service("intake", "relay").start()
    desk.service("intake", "consumer").start()
    api = desk.service("intake", "api").start()
    set_up(api.url)
    stores = Stores(desk.settings)
    tickets = desk.settings.kafka_name(TICKETS)
    before = asyncio.run(open_tickets(api.url, TENANT, 10, concurrency=2, form=form))
    eventually(lambda: stores.undecided(before), lambda undecided: len(undecided) == 10, timeout=10)
    asyncio.run(publish_poison(desk.settings.kafka_bootstrap_servers, tickets))
    after = asyncio.run(open_tickets(api.url, TENANT, 10, concurrency=2, form=form))
    time.sleep(1.0)  # relayed: the routing consumer starts on good and bad messages fetched together
    routing = desk.service("routing", "consumer").start()

    eventually(lambda: stores.undecided(before + after), lambda undecided: not undecided, timeout=60)
    group = desk.settings.kafka_name("routing")
    dead = asyncio.run(
        read_dead_letters(desk.settings.kafka_bootstrap_servers, dead_letter(tickets), len(POISON), group)
    )
    assert len(dead) == len(POISON)
    assert all(headers["dlq_topic"] == tickets for headers in dead)
    for ticket_id in before + after:
        decided = [e for e in stores.events(stores.routing, ticket_id) if type(e).__name__ == "Decided"]
        assert len(decided) == 1, ticket_id
    assert routing.process is not None
    assert routing.process.poll() is None, "the consumer is still running"
