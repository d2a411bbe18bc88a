"""The tenant's custom fields as intake defines them, read by the rules service when a trigger with a condition on
a custom field is saved.

As with the SLA calendars (calendars.py): the definitions stay intake's alone, and what was read (the field's kind,
and a choice field's choices) is kept with the condition in the trigger's version, so a firing and a what-if
replay of that version read the field as the admin saw it. A field redefined later applies when the trigger is
next saved.
"""

from __future__ import annotations

from services.rules.peer_reads import PeerCollection


class IntakeFields(PeerCollection):
    service, path, collection, field = "intake", "/v1/fields", "fields", "if"
