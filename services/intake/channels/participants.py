"""Who may write into a ticket from a channel: its participants, and nobody else.

A ticket number in a subject, an `In-Reply-To` naming the desk's mail, a reply in a Telegram
thread: each only *names* a ticket, and anyone can copy one. A message lands on the ticket it
names only when its sender takes part in that ticket:

- the requester (the person the channel knows the sender as is the ticket's requester), or an
  address the requester's thread already used (one of the ticket's reply routes, past or
  present, on the same channel): the *requester's side*, whose messages may move where the
  desk answers;
- the tenant's staff, as configured (`SERVICEDESK_STAFF_ADDRESSES`): their words land, but the
  desk keeps answering the requester where it did.

Anyone else is an outsider: their message opens a ticket of their own. The addresses compared
are personal data: the reply routes are unsealed here, in the application, never stored in clear.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.intake.people.conversations import Conversations
from services.intake.tickets.domain import Ticket


class Standing(StrEnum):
    REQUESTER = "requester"  # the requester's side: answers follow them
    STAFF = "staff"
    OUTSIDER = "outsider"


@dataclass(frozen=True)
class Sender:
    """Who wrote, as the channel knows them."""

    requester_id: str  # the person the channel's address belongs to (a chat customer's token subject)
    channel: str  # the route channel: email, telegram, chat
    address: str  # their address there: an e-mail address, a Telegram user id, a chat customer's subject


class StaffDirectory:
    """The tenant's staff on the channels, as configured: an e-mail address, `@domain` for every
    address of a domain, or `telegram:<user id>` (`{"acme": ["@acme.example", "telegram:4711"]}`)."""

    def __init__(self, staff: Mapping[str, Sequence[str]]) -> None:
        self.staff = {tenant: frozenset(entry.strip().lower() for entry in listed) for tenant, listed in staff.items()}

    def includes(self, tenant: str, channel: str, address: str) -> bool:
        listed = self.staff.get(tenant, frozenset())
        address = address.strip().lower()
        if channel == "email":
            domain = address.rpartition("@")[2]
            return address in listed or (bool(domain) and f"@{domain}" in listed)
        return f"{channel}:{address}" in listed


class Participants:
    """Tells the requester's side, staff and outsiders apart on a ticket."""

    def __init__(self, conversations: Conversations, staff: StaffDirectory) -> None:
        self.conversations = conversations
        self.staff = staff

    def standing(self, ticket: Ticket, sender: Sender) -> Standing:
        if sender.requester_id == ticket.requester_id or self.conversations.has_used(
            ticket.tenant, ticket.id, sender.channel, sender.address
        ):
            return Standing.REQUESTER
        if self.staff.includes(ticket.tenant, sender.channel, sender.address):
            return Standing.STAFF
        return Standing.OUTSIDER
