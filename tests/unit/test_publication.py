"""What a service publishes of its store: the stored events of one kind, each on its topic."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from schemas.envelope import EnvelopeFields
from services.chassis.messaging.relay import published_on


class Note(Aggregate):
    class Written(Aggregate.Created):
        text: str

    @event(Written)
    def __init__(self, text: str) -> None:
        self.text = text

    @event("Struck")
    def strike(self) -> None:
        self.text = ""


def envelope(written: Note.Written, position: int) -> EnvelopeFields | None:
    if written.text == "private":
        return None
    return {
        "id": "1", "type": "note.written", "version": 1, "source": "desk", "subject": written.text, "tenant": "acme",
        "actor": "a", "occurred_at": written.timestamp, "sequence": 1, "position": position, "correlation_id": "c",
        "causation_id": "c", "data": {},
    }  # fmt: skip


def published(*notes: Note) -> list[tuple[str, str, int] | None]:
    app = Application[Any]()
    app.save(*notes)
    publish = published_on("desk.notes", Note.Written, envelope, app)
    records = [publish(notification) for notification in app.notification_log.select(start=1, limit=10)]
    return [None if r is None else (r[0], r[1]["subject"], r[1]["position"]) for r in records]


def test_the_stored_events_of_one_kind_are_published_on_its_topic_with_their_position() -> None:
    note = Note("hello")
    note.strike()
    assert published(note) == [("desk.notes", "hello", 1), None]


def test_an_event_its_envelope_declines_stays_private() -> None:
    assert published(Note("private"), Note("public")) == [None, ("desk.notes", "public", 2)]
