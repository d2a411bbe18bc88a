"""The SLA service's business calendars, read by the rules service when a trigger with business-hours conditions
is saved.

Why read them then, over the SLA API, rather than learn them from an event: the calendars stay the SLA service's
alone (one source of truth, one copy of the calendar code in services/chassis/domain/calendar.py), no new public
event is needed, and the spec read is kept in the trigger's version, so a firing, a timer and a what-if replay
of that version always count the hours the admin saw when saving it. The price: a calendar changed later
applies to a trigger when the trigger is next saved (`PATCH /v1/triggers/{id}` with no change reads it again).
"""

from __future__ import annotations

from services.rules.peer_reads import PeerCollection


class SlaCalendars(PeerCollection):
    service, path, collection, field = "the SLA service", "/v1/sla/calendars", "calendars", "calendar"
