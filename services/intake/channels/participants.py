"""Who may write into a ticket from a channel: its participants, and nobody else.

A ticket number in a subject, an `In-Reply-To` naming the desk's mail, a reply in a Telegram
thread: each only *names* a ticket, and anyone can copy one. A message lands on the ticket it
names only when its sender takes part in that ticket:

- the requester (the person the channel knows the sender as is the ticket's requester), or an
  address the requester's thread already used (one of the ticket's reply routes, past or
  present, on the same channel): the *requester's side*;
- the tenant's staff, as configured (`SERVICEDESK_STAFF_ADDRESSES`), and only when the channel
  authenticated them (`Sender.authenticated`): their words land as staff's, but the desk keeps
  answering the requester where it did. An `@domain` entry makes everyone with an address there
  staff on every ticket of the tenant: on an internal desk, whose requesters are employees too,
  list addresses instead (a requester is still the requester's side on their own ticket).

Anyone else is an outsider: their message opens a ticket of their own. So is an unauthenticated
mail from a staff address: a `From` is only a claim, and a staff comment meets response targets
and is mailed to the requester from the desk's own address.

An unauthenticated mail from the requester's side still lands as the requester's (and reopens a
resolved ticket): most requesters' mail carries no DMARC pass, and refusing it would lose their
replies, while a forger gains little: the words are shown as the requester's, the desk answers
the requester, not the forger. It does not move where the desk answers (`may_reroute`): only the
message it answers advances, when the mail came from the address the desk already answers at.
The addresses compared are personal data: the reply routes are unsealed here, in the
application, never stored in clear.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.intake.people.conversations import Conversations
from services.intake.people.people import normalised
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
    authenticated: bool  # the channel vouches for the address (a token, Telegram; mail only with DMARC/DKIM)


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
        if sender.authenticated and self.staff.includes(ticket.tenant, sender.channel, sender.address):
            return Standing.STAFF
        return Standing.OUTSIDER

    def may_reroute(self, ticket: Ticket, sender: Sender) -> bool:
        """Whether the requester's side may make `sender`'s address where the desk answers on its
        channel: when authenticated, or when that changes no address (the channel has no route
        yet, or has it at this very address: then only the message answered advances)."""
        if sender.authenticated:
            return True
        routes = [
            route for route in self.conversations.routes(ticket.tenant, ticket.id) if route.channel == sender.channel
        ]
        return all(
            normalised(route.channel, route.address) == normalised(sender.channel, sender.address) for route in routes
        )
