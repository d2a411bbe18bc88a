"""What a text about a ticket may name: `ticket.*`, `requester.name`, `agent.name`, `sla.due`, `kb`.

The same names for a macro's reply, a trigger's note and a preview, built in one place. Every value is
plain (strings, or None when the desk does not know it), so the sandbox renders nothing but data; the
knowledge base's links are made by `kb.link(article_id)` (or `kb_url`, the base of the tenant's portal).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True)
class KnowledgeLinks:
    """Links into the tenant's knowledge base as its requesters see it (the portal), or None unknown."""

    base: str | None

    def link(self, article_id: object) -> str:
        if self.base is None:
            return ""
        return f"{self.base.rstrip('/')}/articles/{quote(str(article_id), safe='')}"


@dataclass(frozen=True)
class TicketFacts:
    """The facts about one ticket a text may use, its words already opened."""

    number: str
    title: str
    status: str
    priority: str
    requester_name: str | None
    agent_name: str | None
    sla_due: datetime | None
    kb_base: str | None


def ticket_context(facts: TicketFacts) -> dict[str, Any]:
    """The names a text renders with (`{{ ticket.number }}`, `{{ sla.due }}`, `{{ kb.link('…') }}` …)."""
    ticket = {key: value for key, value in asdict(facts).items() if key in ("number", "title", "status", "priority")}
    due = facts.sla_due.strftime("%Y-%m-%d %H:%M %Z").strip() if facts.sla_due is not None else None
    return {
        "ticket": ticket,
        "requester": {"name": facts.requester_name},
        "agent": {"name": facts.agent_name},
        "sla": {"due": due},
        "kb": KnowledgeLinks(facts.kb_base),
        "kb_url": facts.kb_base,
    }


SAMPLE = TicketFacts(
    number="SD-2026-000001",
    title="A sample ticket",
    status="open",
    priority="P3",
    requester_name="Sample Requester",
    agent_name="Sample Agent",
    sla_due=None,
    kb_base="https://desk.example/t/sample",
)


def sample_context() -> dict[str, Any]:
    """A context with every name a text may use: a text that renders with it renders for any ticket."""
    return ticket_context(SAMPLE)
