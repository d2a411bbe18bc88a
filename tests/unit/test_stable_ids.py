"""Stored aggregates are found by ids derived from names: these ids must never change."""

from __future__ import annotations

from uuid import UUID

from services.chassis.storage.idempotency import KeyedRequest
from services.chassis.storage.ids import stable_id, stable_uuid, url_uuid5
from services.intake.people.people import Person
from services.intake.tickets.domain import Ticket
from services.routing.domain import Queue
from services.sla.policies import SlaSetup


def test_a_ticket_opened_with_a_key_keeps_the_id_it_was_stored_under() -> None:
    assert Ticket.id_for_request("acme", "order-7") == UUID("a252b549-2bcf-54c7-ba7d-97fe8e86abcb")


def test_a_tenants_routing_queue_and_sla_setup_keep_their_ids() -> None:
    assert Queue.create_id("acme", "billing") == UUID("1aee2a45-4072-5601-a2d7-5a72c175158b")
    assert SlaSetup.create_id("acme") == UUID("d9a15aae-562b-5db6-b5a7-a54986a38bc7")


def test_a_person_keeps_the_id_of_their_blind_index_and_generation() -> None:
    assert Person.create_id("acme", "b1ind", 2) == UUID("1de19c6d-001a-559a-94c0-9e89ae84f452")


def test_a_keyed_request_and_what_it_makes_keep_their_ids() -> None:
    request = KeyedRequest.of("acme", "alice", "k1", "fingerprint")
    assert request.id == UUID("b943af48-628a-51ac-bc1f-5afb5a4fae28")
    assert request.derived("ticket") == UUID("83d994d8-8814-538e-a34d-f79c88f1e695")


def test_an_envelope_id_names_its_source_subject_and_version() -> None:
    subject = UUID("12345678-1234-5678-1234-567812345678")
    assert stable_id("intake", subject, 3) == "132a4e51-ed0b-5b3f-ab60-11ed4a0d6352"
    assert stable_uuid("channels", "acme", "<m1@example.com>") == UUID("524127fd-359e-5d4f-ad21-9685b375ff8d")


def test_a_webhook_delivery_id_is_named_without_the_desk_prefix() -> None:
    name = "00000000-0000-0000-0000-000000000001/00000000-0000-0000-0000-000000000002"
    assert url_uuid5(name) == "a6c7b494-cbea-5d15-acf0-20b0b795ec18"
