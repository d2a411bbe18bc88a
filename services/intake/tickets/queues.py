"""The queues an agent works from, by name: each a filter of the ticket list for the person asking.

The API keeps their definitions so the list (`GET /v1/tickets?queue=…`) and the counts
(`GET /v1/tickets/counts?queue=…`) always agree, whoever the client is. "My groups" are the groups of
the caller's token (its `groups` claim): the same groups the list's visibility rule already reads, so
a queue needs no call to routing and never shows more or less than the person may see.
"""

from __future__ import annotations

from enum import StrEnum

from services.chassis.http.auth import Principal
from services.intake.tickets.ticket_filters import TicketFilter
from services.intake.tickets.vocabulary import Status

UNFINISHED = (Status.NEW.value, Status.OPEN.value, Status.PENDING.value)


class QueueName(StrEnum):
    MINE = "mine"
    MY_GROUPS = "my_groups"
    UNASSIGNED = "unassigned"
    WAITING = "waiting"
    BREACHING_SOON = "breaching_soon"
    ALL = "all"


def queue_filter(name: QueueName, who: Principal) -> TicketFilter:
    """What the queue `name` holds for `who`: their unfinished tickets; their groups' unfinished tickets (none
    when the token names no group); the unfinished nobody has taken; those waiting on the customer; those whose
    SLA clock runs (nearest due first, when ordered so); everything they may see."""
    if name is QueueName.MINE:
        return TicketFilter(statuses=UNFINISHED, agent_id=who.subject)
    if name is QueueName.MY_GROUPS:
        return TicketFilter(statuses=UNFINISHED, group_ids=tuple(sorted(who.groups)) or ("",))
    if name is QueueName.UNASSIGNED:
        return TicketFilter(statuses=UNFINISHED, unassigned=True)
    if name is QueueName.WAITING:
        return TicketFilter(statuses=(Status.PENDING.value,))
    if name is QueueName.BREACHING_SOON:
        return TicketFilter(sla_running=True)
    return TicketFilter()
