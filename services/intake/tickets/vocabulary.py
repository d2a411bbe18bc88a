"""The words a ticket is described in: its statuses, what a pending ticket waits for, who wrote a
comment, how two tickets relate, and which status each status-changing command may start from."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class WaitingFor(StrEnum):
    CUSTOMER = "customer"
    THIRD_PARTY = "third_party"


class AuthorKind(StrEnum):
    """Who wrote a comment: only the desk's staff answer the requester (meet a response target)."""

    STAFF = "staff"
    REQUESTER = "requester"
    OTHER = "other"


class LinkKind(StrEnum):
    RELATED = "related"
    PARENT_OF = "parent_of"
    CHILD_OF = "child_of"
    DUPLICATE_OF = "duplicate_of"
    DUPLICATED_BY = "duplicated_by"
    FOLLOW_UP_OF = "follow_up_of"

    @property
    def inverse(self) -> LinkKind:
        return _INVERSE_LINKS[self]


_INVERSE_LINKS = {
    LinkKind.RELATED: LinkKind.RELATED,
    LinkKind.PARENT_OF: LinkKind.CHILD_OF,
    LinkKind.CHILD_OF: LinkKind.PARENT_OF,
    LinkKind.DUPLICATE_OF: LinkKind.DUPLICATED_BY,
    LinkKind.DUPLICATED_BY: LinkKind.DUPLICATE_OF,
    LinkKind.FOLLOW_UP_OF: LinkKind.FOLLOW_UP_OF,
}

# Which states each status-changing command may start from.
TRANSITIONS: dict[Status, set[Status]] = {
    Status.OPEN: {Status.NEW},  # start work; resume and reopen have their own rules below
    Status.PENDING: {Status.NEW, Status.OPEN, Status.PENDING},
    Status.RESOLVED: {Status.NEW, Status.OPEN, Status.PENDING},
    Status.CLOSED: {Status.RESOLVED},
}
