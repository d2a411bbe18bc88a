"""Whether the article an agent links as a ticket's solution exists, asked of the knowledge service
behind the gateway (as the agent: an article they may not read is not theirs to link).

Only a definite "no such article" (404) refuses the link; a knowledge service that does not
answer leaves it unchecked, so linking never waits on it for long.
"""

from __future__ import annotations

import httpx

WAIT_SECONDS = 2.0


class SolutionArticles:
    def __init__(self, knowledge_url: str, client: httpx.AsyncClient) -> None:
        self.knowledge = knowledge_url.rstrip("/")
        self.client = client

    async def missing(self, article_id: str, as_caller: dict[str, str]) -> bool:
        """True when the knowledge service says there is no such article for the caller (`as_caller`: the
        headers of a call for them, `Identity.to_peer`)."""
        try:
            reply = await self.client.get(
                f"{self.knowledge}/v1/kb/articles/{article_id}", timeout=WAIT_SECONDS,
                headers=as_caller,
            )  # fmt: skip
        except httpx.HTTPError:
            return False
        return reply.status_code == 404
