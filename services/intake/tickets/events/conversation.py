"""A ticket's conversation: comments (public replies and internal notes) and attachments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.intake.tickets.events.base import TicketEvent

if TYPE_CHECKING:
    from services.intake.tickets.domain import Ticket


class CommentAdded(TicketEvent):
    """v2 adds `author_kind` (an `AuthorKind`), decided when it was written; None on a comment
    recorded before v2 (nobody recorded then whether its author was staff)."""

    comment_id: str
    body: str
    public: bool
    author_id: str
    channel: str
    author_kind: str | None

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("author_kind", None)

    def apply(self, ticket: Ticket) -> None:
        fields = ("body", "public", "author_id", "channel", "author_kind")
        ticket.comments[self.comment_id] = {name: getattr(self, name) for name in fields}


class AttachmentAdded(TicketEvent):
    attachment_id: str
    sha256: str
    filename: str
    content_type: str
    size: int
    comment_id: str | None

    def apply(self, ticket: Ticket) -> None:
        fields = ("sha256", "filename", "content_type", "size", "comment_id")
        ticket.attachments[self.attachment_id] = {name: getattr(self, name) for name in fields}
