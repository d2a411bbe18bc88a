"""A resolved ticket as the start of an article: its title and the agents' public replies go into
the draft; the requester's words (the description, their messages) are only shown beside it.

Personal data stays sealed: nothing the requester wrote reaches the draft unless an agent types it
there themselves.
"""

from __future__ import annotations

from typing import Any

from services.web.kb.common import Draft


def ticket_draft(ticket: dict[str, Any]) -> Draft:
    """The draft's title and body: the ticket's title, and the staff's public replies in order."""
    replies = [
        str(c["body"]).strip()
        for c in ticket.get("comments") or []
        if c.get("public") and c.get("author_kind") == "staff" and str(c.get("body") or "").strip()
    ]
    return Draft(
        title=str(ticket.get("title") or ""),
        body="\n\n".join(replies),
        source_ticket=str(ticket["id"]),
    )


def requester_words(ticket: dict[str, Any]) -> list[str]:
    """What anyone but the staff wrote on the ticket (its description first): for reference only."""
    words = [str(ticket.get("description") or "")]
    words += [str(c["body"]) for c in ticket.get("comments") or [] if c.get("author_kind") != "staff"]
    return [w for w in words if w.strip()]
