"""Answer first: before a chat or Telegram conversation opens a ticket, the knowledge base's best
articles for its first message are offered; how each such conversation ended is told back.

The knowledge service (`/v1/kb/...`, behind the gateway) suggests the articles: for a signed-in
chat customer with their own audience (public articles and their organisation's, through an
internal token the gateway mints for them), for a Telegram sender with the tenant's public one.
Each offer ends once: solved by an article (no ticket) or a ticket opened anyway, recorded as a
deflection (`POST /v1/kb/deflections`, the public one for Telegram), so analytics counts the share
of conversations an article closed. When the knowledge service does not answer, or has nothing
to offer, there is no offer: the ticket opens as it always did, and no message is lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import httpx

log = logging.getLogger(__name__)
OFFERED = 3  # articles in one offer
Outcome = Literal["solved", "ticket_opened"]


@dataclass(frozen=True)
class OfferedArticle:
    id: str
    title: str
    url: str

    def shown(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "url": self.url}


class SelfService:
    """The knowledge service as the channels ask it: short waits, and silence rather than an error."""

    def __init__(self, knowledge_url: str, portal_url: str, client: httpx.Client) -> None:
        """`portal_url`: where customers read an article, `{tenant}` replaced by the tenant
        (`<portal_url>/articles/<id>`)."""
        self.knowledge = knowledge_url.rstrip("/")
        self.portal = portal_url.rstrip("/")
        self.client = client

    def suggest(self, tenant: str, text: str, token: str | None = None) -> list[OfferedArticle]:
        """The best articles for `text`: the customer's audience with their internal `token`, else the
        tenant's public articles; none when the knowledge service does not answer in time."""
        body = {"text": text, "language": None, "limit": OFFERED}
        found = self._post(self._path(tenant, "suggestions", token), body, token)
        hits = found.get("articles", []) if isinstance(found, dict) else []
        portal = self.portal.replace("{tenant}", tenant)
        return [OfferedArticle(str(hit["id"]), str(hit["title"]), f"{portal}/articles/{hit['id']}") for hit in hits]

    def ended(self, tenant: str, channel: str, outcome: Outcome, article_id: str | None, token: str | None) -> None:
        """Record how an offer ended (a deflection); a knowledge service that does not answer loses the count only."""
        body = {"channel": channel, "article_id": article_id, "outcome": outcome}
        self._post(self._path(tenant, "deflections", token), body, token)

    def _path(self, tenant: str, what: str, token: str | None) -> str:
        return f"/v1/kb/{what}" if token is not None else f"/v1/kb/public/{tenant}/{what}"

    def _post(self, path: str, body: dict[str, Any], token: str | None) -> Any:
        headers = {"authorization": f"Bearer {token}"} if token is not None else {}
        try:
            reply = self.client.post(f"{self.knowledge}{path}", json=body, headers=headers)
        except httpx.HTTPError as error:
            log.warning("the knowledge service did not answer %s: %s", path, error)
            return None
        if reply.status_code >= 300:
            log.warning("the knowledge service answered %s with %s", path, reply.status_code)
            return None
        return reply.json() if reply.content else None
