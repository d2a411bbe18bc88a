"""What intake publishes of a ticket's language and custom fields: the values of choice, number and boolean fields
(each field's kind recorded when it is set), never a text or date field's (they may hold personal data); a ticket
or a change stored before the kinds were recorded is published as it was then."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent

from schemas.tickets import TicketCustomFieldsChangedV1, TicketOpenedV3, TicketOpenedV4
from services.intake.tickets.application import Intake
from services.intake.tickets.cause import Cause
from services.intake.tickets.domain import Ticket
from services.intake.tickets.form import TicketForm, spoken
from services.intake.tickets.publication import public_data
from tests.privacy import memory_intake

ADMIN = Cause("acme", "admin-1", "corr", "cause")


def a_desk() -> Intake:
    intake = memory_intake()
    intake.define_field("acme", "product", "Product", "choice", False, ["vpn", "mail"], "admin-1")
    intake.define_field("acme", "seats", "Seats", "number", False, [], "admin-1")
    intake.define_field("acme", "vip", "VIP", "boolean", False, [], "admin-1")
    intake.define_field("acme", "notes", "Notes", "text", False, [], "admin-1")
    intake.define_field("acme", "since", "Customer since", "date", False, [], "admin-1")
    return intake


def opened(intake: Intake, **fields: Any) -> UUID:
    form = TicketForm("VPN drops", "", "c-1", "api", "network", "incident", "P3", **fields)
    return intake.open_ticket(uuid4(), form, ADMIN).ticket.id


def test_a_ticket_opened_carries_its_language_and_only_its_choice_number_and_boolean_fields() -> None:
    intake = a_desk()
    values = {"product": "vpn", "seats": 12, "vip": True, "notes": "Call Jolanta at home", "since": "2020-01-02"}
    ticket_id = opened(intake, language="ru", custom_fields=values)
    data = public_data(next(iter(intake.events.get(ticket_id))))
    assert isinstance(data, TicketOpenedV4)
    assert data.language == "ru"
    assert data.custom_fields == {"product": "vpn", "seats": 12, "vip": True}
    assert "Jolanta" not in data.model_dump_json()


def test_a_change_of_custom_fields_publishes_the_public_kinds_and_a_text_only_change_nothing() -> None:
    intake = a_desk()
    ticket_id = opened(intake)
    intake.change_custom_fields(ticket_id, ADMIN, {"product": "mail", "notes": "secret"}, [], "set")
    intake.change_custom_fields(ticket_id, ADMIN, {"notes": "another secret"}, [], "noted")
    intake.change_custom_fields(ticket_id, ADMIN, {}, ["product"], "cleared")
    changes = [e for e in intake.events.get(ticket_id) if isinstance(e, Ticket.CustomFieldsChanged)]
    published = [public_data(e) for e in changes]
    assert published[0] == TicketCustomFieldsChangedV1(ticket_id=str(ticket_id), values={"product": "mail"})
    assert published[1] is None
    assert published[2] == TicketCustomFieldsChangedV1(ticket_id=str(ticket_id), unset=["product"])


def test_a_field_redefined_later_keeps_the_kind_it_had_when_it_was_set() -> None:
    intake = a_desk()
    ticket_id = opened(intake, custom_fields={"seats": 3})
    intake.define_field("acme", "seats", "Seats", "text", False, [], "admin-1")
    intake.change_custom_fields(ticket_id, ADMIN, {"seats": "three, said Jolanta"}, [], "as text")
    events = list(intake.events.get(ticket_id))
    assert public_data(events[0]).custom_fields == {"seats": 3}  # type: ignore[union-attr]
    assert public_data(events[-1]) is None


def test_a_ticket_opened_before_kinds_were_recorded_is_published_as_v3() -> None:
    intake = a_desk()
    ticket_id = opened(intake, custom_fields={"product": "vpn"})
    stored = intake.mapper.to_stored_event(next(iter(intake.events.get(ticket_id))))
    state = intake.mapper.transcoder.decode(stored.state)
    del state["language"], state["custom_field_kinds"]
    state["class_version"] = 4
    old = StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                      intake.mapper.transcoder.encode(state))  # fmt: skip
    assert type(public_data(intake.mapper.to_domain_event(old))) is TicketOpenedV3


def test_a_channels_language_tag_is_read_as_two_letters() -> None:
    assert [spoken(tag) for tag in ("ru-RU", "en_GB", "RU", "", None, "x-klingon", "rus")] == [
        "ru", "en", "ru", None, None, None, None,
    ]  # fmt: skip
