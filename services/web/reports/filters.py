"""A report's filters as the page's form holds them, as analytics' API takes them, and as the ticket
search that finds the tickets behind a number (services/web/search.py's fields)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from fastapi import Request

PRIORITIES = ("P1", "P2", "P3", "P4")
CHANNELS = ("api", "email", "chat", "messenger", "phone", "portal")
KB_CHANNELS = ("portal", "web", "chat", "telegram")  # where the knowledge base is read (its report's filter)
OPEN = "new,open,pending"  # the statuses a backlog counts


@dataclass(frozen=True)
class ReportFilters:
    start: str = ""  # days, ISO (`2026-11-01`): the form's `from` and `to`
    end: str = ""
    group: str = ""
    agent: str = ""
    priority: str = ""
    channel: str = ""
    group_by: str = ""  # the time report's dimensions, comma-separated (the form's checkboxes, one a dimension)

    @classmethod
    def of(cls, request: Request) -> ReportFilters:
        asked = request.query_params
        chosen = ",".join(dict.fromkeys(value.strip()[:40] for value in asked.getlist("group_by") if value.strip()))
        start, end, group, agent, priority, channel = (
            asked.get(name, "").strip()[:100] for name in ("from", "to", "group", "agent", "priority", "channel")
        )
        return cls(start, end, group, agent, priority, channel, chosen[:200])

    def api(self, period: bool) -> dict[str, str | None]:
        """The report's query parameters (the period only for the reports that take one)."""
        chosen = asdict(self)
        days = {"from": chosen.pop("start"), "to": chosen.pop("end")}
        if not period:
            days = {}
        return {name: value or None for name, value in (days | chosen).items()}

    def search(self, *, opened: str | None = None, **fields: str) -> str:
        """The ticket search that lists the tickets behind a number: these filters and `fields`."""
        terms = {"group": self.group, "agent": self.agent, "priority": self.priority, "channel": self.channel}
        terms |= fields | ({"opened": opened} if opened else {})
        return "/search?" + urlencode({"q": " ".join(f"{name}:{value}" for name, value in terms.items() if value)})
