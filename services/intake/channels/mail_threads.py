"""How the desk's e-mail threads: what it puts in the mail it sends, and finds again in replies.

Every message the desk sends has a Message-ID that names its ticket,
`<ticket-<ticket id>-<n>@<mail domain>>`, and a subject tagged with the ticket's number,
`[SD-2026-000123] ...`. A reply carries our Message-ID in `In-Reply-To` or `References`
(or at least the tag in its subject, when the customer's client dropped the headers), so the
ticket of a reply is found without any lookup table.
"""

from __future__ import annotations

import re
from uuid import UUID

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_OURS = re.compile(rf"<ticket-({_UUID})-[^@<>\s]+@([^<>\s]+)>", re.I)
_TAG = re.compile(r"\[(SD-\d{4}-\d{6})\]")


def message_id(ticket_id: UUID, n: str, domain: str) -> str:
    """The Message-ID of the desk's message `n` (unique per ticket, e.g. its store position) on a ticket."""
    return f"<ticket-{ticket_id}-{n}@{domain}>"


def tickets_in(headers: str, domain: str) -> list[UUID]:
    """The tickets named by our Message-IDs in `headers` (In-Reply-To and References), newest last."""
    return [UUID(found) for found, at in _OURS.findall(headers) if at.lower() == domain.lower()]


def is_ours(message_id_header: str, domain: str) -> bool:
    """Whether a Message-ID is one the desk made (a message of ours come back: a loop)."""
    return bool(tickets_in(message_id_header, domain))


def tagged(subject: str, number: str) -> str:
    """The subject with the ticket's number tag in front, once."""
    tag = f"[{number}]"
    return subject if tag in subject else f"{tag} {subject}"


def number_in(subject: str) -> str | None:
    """The ticket number tagged in a subject, if any."""
    found = _TAG.search(subject)
    return found.group(1) if found else None
