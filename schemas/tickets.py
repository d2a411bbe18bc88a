"""Ticket events published by intake on `intake.tickets`.

Public events carry ids and classifications, never personal data: the title,
description and the requester's name stay in intake's store.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class TicketType(StrEnum):
    INCIDENT = "incident"
    REQUEST = "request"
    QUESTION = "question"
    PROBLEM = "problem"


class Channel(StrEnum):
    API = "api"
    EMAIL = "email"
    CHAT = "chat"
    MESSENGER = "messenger"
    PHONE = "phone"
    PORTAL = "portal"


class EventData(BaseModel):
    """Base of every event's `data`: the (type, version) it is published under."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    event_type: ClassVar[str]
    event_version: ClassVar[int]


class TicketOpenedV1(EventData):
    """A ticket was opened: the desk now owes the requester an answer."""

    event_type: ClassVar[str] = "ticket.opened"
    event_version: ClassVar[int] = 1

    ticket_id: str
    number: str = Field(description="Human-readable ticket number, e.g. SD-2026-000123.")
    requester_id: str
    channel: Channel
    category: str
    type: TicketType
    priority: Priority
    tags: list[str] = Field(default_factory=list)
