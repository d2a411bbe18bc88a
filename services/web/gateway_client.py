"""The gateway API, as the pages call it: with the signed-in person's token, one typed method a need.

The web service reads no store and no topic; whatever a page shows comes through here, so it sees
exactly what the person may see through the API (a customer never gets an internal note).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from services.chassis.http.tls import trusted_roots


@dataclass(frozen=True)
class KbReader:
    """Who reads the knowledge base: a signed-in person (their token: their organisation's articles
    too), else anyone, through the tenant's anonymous public API, limited per reader's `address`."""

    tenant: str
    token: str | None
    address: str = ""

    def url(self, path: str) -> str:
        return f"/v1/kb/{path}" if self.token else f"/v1/kb/public/{quote(self.tenant, safe='')}/{path}"

    def headers(self) -> dict[str, str]:
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        return {"X-Forwarded-For": self.address} if self.address else {}


class GatewayError(Exception):
    """The API refused: its problem+json, to show beside the field it names."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        self.status = status
        self.problem = problem


class SignedOutError(Exception):
    """The person's token is no longer accepted (expired, revoked): they must sign in again."""


class Gateway:
    def __init__(self, base_url: str, client: httpx.AsyncClient | None = None) -> None:
        self.client = client or httpx.AsyncClient(base_url=base_url, timeout=10.0, verify=trusted_roots())
        # Open ticket pages' streams, each a line held open: apart, so they never use up the pages' connections.
        self.streams = httpx.AsyncClient(
            base_url=self.client.base_url, limits=httpx.Limits(max_connections=None), verify=trusted_roots()
        )

    async def close(self) -> None:
        await self.client.aclose()
        await self.streams.aclose()

    async def tickets(self, token: str, **filters: str | int | list[str] | None) -> dict[str, Any]:
        """A page of the tenant's tickets the person may see (GET /v1/tickets)."""
        params = {name: value for name, value in filters.items() if value is not None}
        return await self._get(token, "/v1/tickets", params)

    async def search(self, token: str, words: str, limit: int = 50) -> dict[str, Any]:
        """The tickets whose words match, best first (GET /v1/tickets/search)."""
        return await self._get(token, "/v1/tickets/search", {"q": words, "limit": limit})

    async def ticket(self, token: str, ticket_id: str, as_of: str | None = None) -> dict[str, Any]:
        """The ticket now, or exactly as it was at `as_of` (an ISO 8601 instant)."""
        return await self._get(token, f"/v1/tickets/{ticket_id}", {"as_of": as_of} if as_of else {})

    async def profile(self, token: str, person_id: str) -> dict[str, Any]:
        """A customer's profile (GET /v1/people/{id}): addresses, organisation, notes."""
        return await self._get(token, f"/v1/people/{quote(person_id, safe='')}", {})

    async def agent(self, token: str, agent_id: str) -> dict[str, Any]:
        """An agent as routing knows them (GET /v1/people/agents/{id}): groups, skills, capacity, presence."""
        return await self._get(token, f"/v1/people/agents/{quote(agent_id, safe='')}", {})

    async def person_tickets(self, token: str, person_id: str) -> list[dict[str, Any]]:
        """The customer's tickets on every channel, with those of everyone merged with them, newest first."""
        return list((await self._get(token, f"/v1/people/{quote(person_id, safe='')}/tickets", {}))["tickets"])

    async def organisation(self, token: str, organisation_id: str) -> dict[str, Any]:
        return await self._get(token, f"/v1/organisations/{quote(organisation_id, safe='')}", {})

    async def history(self, token: str, ticket_id: str) -> list[dict[str, Any]]:
        return list((await self._get(token, f"/v1/tickets/{ticket_id}/history", {}))["events"])

    async def verification(self, token: str, ticket_id: str) -> dict[str, Any]:
        return await self._get(token, f"/v1/tickets/{ticket_id}/verify", {})

    async def attachments(self, token: str, ticket_id: str) -> list[dict[str, Any]]:
        return list((await self._get(token, f"/v1/tickets/{ticket_id}/attachments", {}))["attachments"])

    async def clock(self, token: str, ticket_id: str) -> dict[str, Any] | None:
        """The ticket's SLA clock; None when no policy applies, SLA is not set up, or it does not answer now
        (the ticket page shows the rest)."""
        return await self._optional(token, f"/v1/sla/tickets/{ticket_id}", unanswered=True)

    async def routing_reason(self, token: str, ticket_id: str) -> str | None:
        """Why routing placed the ticket where it is, in its own words (its newest decision); None when
        routing has decided nothing about it, or does not answer now."""
        found = await self._optional(token, f"/v1/routing/tickets/{ticket_id}", unanswered=True) or {}
        decisions = found.get("decisions") or []
        return str(decisions[-1]["reason"]) if decisions and decisions[-1].get("reason") else None

    async def download(self, token: str, ticket_id: str, attachment_id: str) -> httpx.Response:
        """An attachment's bytes, with the API's headers (type, disposition, length)."""
        path = f"/v1/tickets/{ticket_id}/attachments/{attachment_id}"
        answer = await self.client.get(path, headers={"Authorization": f"Bearer {token}"})
        if answer.status_code >= 400:
            _checked(answer)
        return answer

    async def attach(
        self, token: str, ticket_id: str, filename: str, content_type: str, content: bytes, key: str
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key, "Content-Type": content_type}
        answer = await self.client.post(
            f"/v1/tickets/{ticket_id}/attachments", params={"filename": filename}, content=content, headers=headers
        )
        return _checked(answer)

    async def change(self, token: str, ticket_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Priority, category, type, tags or custom fields (PATCH /v1/tickets/{id})."""
        answer = await self.client.patch(
            f"/v1/tickets/{ticket_id}", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        return _checked(answer)

    async def assign(self, token: str, ticket_id: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self.client.put(
            f"/v1/tickets/{ticket_id}/assignment", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        return _checked(answer)

    async def comment(
        self, token: str, ticket_id: str, body: str, public: bool, key: str, time_entry: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A reply (public) or an internal note, with the time worked on it (`time_entry`, the staff's); `key`
        makes a form sent twice one comment."""
        sent: dict[str, Any] = {"body": body, "public": public} | ({"time_entry": time_entry} if time_entry else {})
        return await self._post(token, f"/v1/tickets/{ticket_id}/comments", sent, key)

    async def time_sheet(self, token: str, ticket_id: str) -> dict[str, Any]:
        """The ticket's time entries and the minutes that count (GET /v1/tickets/{id}/time-entries; staff)."""
        return await self._get(token, f"/v1/tickets/{ticket_id}/time-entries", {})

    async def log_time(self, token: str, ticket_id: str, entry: dict[str, Any], key: str) -> dict[str, Any]:
        """Time worked logged alone, or a correction of an entry (`corrects`)."""
        return await self._post(token, f"/v1/tickets/{ticket_id}/time-entries", entry, key)

    async def activity_types(self, token: str) -> dict[str, dict[str, Any]]:
        """The tenant's activity types for time entries, by key (GET /v1/time-activity-types)."""
        return dict((await self._get(token, "/v1/time-activity-types", {}))["activity_types"])

    async def act(self, token: str, ticket_id: str, action: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        """A lifecycle move (`start-work`, `pending`, `resume`, `resolve`, `reopen`, `close`)."""
        return await self._post(token, f"/v1/tickets/{ticket_id}/{action}", body, key)

    async def presence(self, token: str, agent_id: str) -> str | None:
        """The agent's presence (online, away, offline); None when routing knows no such agent."""
        agent = await self._optional(token, f"/v1/routing/agents/{agent_id}")
        return None if agent is None else str(agent["presence"])

    async def agents(self, token: str) -> list[dict[str, Any]]:
        """Every agent's presence and load (GET /v1/routing/agents); none while routing knows none."""
        found = await self._optional(token, "/v1/routing/agents")
        return [] if found is None else list(found["agents"])

    async def report(self, token: str, name: str, **filters: str | None) -> dict[str, Any]:
        """One of analytics' reports (GET /v1/reports/<name>), for supervisors and admins."""
        return await self._get(token, f"/v1/reports/{name}", {k: v for k, v in filters.items() if v})

    async def report_csv(self, token: str, name: str, **filters: str | None) -> str:
        """One of analytics' reports as CSV (`format=csv`), the text as the API wrote it."""
        params = {k: v for k, v in filters.items() if v}
        answer = await self.client.get(
            f"/v1/reports/{name}", params=params, headers={"Authorization": f"Bearer {token}"}
        )
        if answer.status_code >= 400:
            _checked(answer)
        return answer.text

    async def groups(self, token: str) -> dict[str, Any]:
        """The tenant's groups (none while routing has nothing set up for it)."""
        return await self._optional(token, "/v1/routing/groups") or {"groups": [], "default_group": None}

    async def put(self, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """An admin's change of a setting (PUT), answered with the setting as it is now."""
        answer = await self.client.put(path, json=body, headers={"Authorization": f"Bearer {token}"})
        return _checked(answer)

    async def set_presence(self, token: str, agent_id: str, presence: str) -> str:
        answer = await self.client.put(
            f"/v1/routing/agents/{agent_id}/presence",
            json={"presence": presence},
            headers={"Authorization": f"Bearer {token}"},
        )
        return str(_checked(answer)["presence"])

    # admin settings: custom fields, webhooks, API keys, the erasure register
    async def fields(self, token: str) -> dict[str, dict[str, Any]]:
        """The tenant's custom ticket fields in force, by key (GET /v1/fields)."""
        return dict((await self._get(token, "/v1/fields", {}))["fields"])

    async def delete(self, token: str, path: str) -> None:
        """The removal of a setting or a view (DELETE), answered with nothing or what is left."""
        _sent(await self.client.delete(path, headers={"Authorization": f"Bearer {token}"}))

    async def webhooks(self, token: str) -> dict[str, Any]:
        """The tenant's webhook subscriptions (never their secrets) and whether private targets are allowed."""
        return await self._get(token, "/v1/webhooks", {})

    async def subscribe(self, token: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        """A new webhook subscription, with its signing secret (shown to this caller only)."""
        return await self._post(token, "/v1/webhooks", body, key)

    async def deliveries(self, token: str, webhook_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """A webhook's newest deliveries, with their status and last answer."""
        found = await self._get(token, f"/v1/webhooks/{webhook_id}/deliveries", {"limit": limit})
        return list(found["deliveries"])

    async def api_keys(self, token: str) -> list[dict[str, Any]]:
        """The tenant's API keys, live and revoked (never the keys themselves)."""
        return list((await self._get(token, "/v1/api-keys", {}))["api_keys"])

    async def issue_api_key(self, token: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        """A new API key, with the key itself when issued now (not when this form was sent before)."""
        return await self._post(token, "/v1/api-keys", body, key)

    async def revoke_api_key(self, token: str, key_id: str, reason: str) -> None:
        path = f"/v1/api-keys/{key_id}/revoke"
        _sent(await self.client.post(path, json={"reason": reason}, headers={"Authorization": f"Bearer {token}"}))

    async def erasures(self, token: str) -> list[dict[str, Any]]:
        """The tenant's erasure register: who asked, why, when, and when it completed."""
        return list((await self._get(token, "/v1/audit/erasures", {}))["erasures"])

    async def person(self, token: str, requester_id: str) -> dict[str, Any] | None:
        """Everything held about a person (their subject access export); None when nothing is."""
        return await self._optional(token, f"/v1/people/{quote(requester_id, safe='')}/export")

    async def erase(self, token: str, requester_id: str, reason: str, key: str) -> dict[str, Any]:
        """Erase the person: their words read `[erased]` from now on; the register records it."""
        return await self._post(token, f"/v1/people/{quote(requester_id, safe='')}/erasure", {"reason": reason}, key)

    # admin: routing rules, SLA calendars and policies
    async def rules(self, token: str) -> list[dict[str, Any]]:
        """The routing rules in the order they are tried (none while routing has nothing set up)."""
        found = await self._optional(token, "/v1/routing/rules")
        return [] if found is None else list(found["rules"])

    async def calendars(self, token: str) -> dict[str, dict[str, Any]]:
        """The SLA business calendars by id (none while SLA has nothing set up)."""
        found = await self._optional(token, "/v1/sla/calendars")
        return {} if found is None else dict(found["calendars"])

    async def policies(self, token: str) -> list[dict[str, Any]]:
        """The SLA policies in the order they are tried (none while SLA has nothing set up)."""
        found = await self._optional(token, "/v1/sla/policies")
        return [] if found is None else list(found["policies"])

    async def add(self, token: str, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        """An admin's new setting (POST); `key` makes a form sent twice one setting."""
        return await self._post(token, path, body, key)

    # queues, counts and saved views
    async def counts(self, token: str, queues: list[str], views: list[str]) -> dict[str, Any]:
        """How many tickets each named queue and saved view holds (GET /v1/tickets/counts)."""
        return await self._get(token, "/v1/tickets/counts", {"queue": queues, "view": views})

    async def saved_views(self, token: str) -> list[dict[str, Any]]:
        """The person's own views and the shared ones (GET /v1/views)."""
        return list((await self._get(token, "/v1/views", {})).get("views") or [])

    async def saved_view(self, token: str, view_id: str) -> dict[str, Any]:
        return await self._get(token, f"/v1/views/{view_id}", {})

    async def save_view(self, token: str, view_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create or change a view under the id given (PUT /v1/views/{id})."""
        return await self.put(token, f"/v1/views/{view_id}", body)

    async def delete_view(self, token: str, view_id: str) -> None:
        await self.delete(token, f"/v1/views/{quote(view_id, safe='')}")

    # live
    async def ticket_stream(self, token: str, ticket_id: str, after: int, last_event_id: str | None) -> httpx.Response:
        """The ticket's live stream (GET /v1/tickets/{id}/stream), open: its lines are read as they come,
        and the caller closes it (`aclose`); `last_event_id` resumes after a reconnect."""
        headers = {"Authorization": f"Bearer {token}"} | ({"Last-Event-ID": last_event_id} if last_event_id else {})
        request = self.streams.build_request(
            "GET",
            f"/v1/tickets/{ticket_id}/stream",
            params={"after": after},
            headers=headers,
            timeout=httpx.Timeout(10.0, read=60.0),  # a comment comes every 15 s at the latest
        )
        return await self.streams.send(request, stream=True)

    async def beat(self, token: str, ticket_id: str, activity: str, name: str) -> None:
        """The person has the ticket open (`viewing` or `replying`) for the next few seconds."""
        answer = await self.client.put(
            f"/v1/tickets/{ticket_id}/viewers/me",
            json={"activity": activity, "name": name},
            headers={"Authorization": f"Bearer {token}"},
        )
        if answer.status_code != 204:
            _checked(answer)

    async def leave(self, token: str, ticket_id: str) -> None:
        await self.delete(token, f"/v1/tickets/{ticket_id}/viewers/me")

    # ticket actions: merge, link, split, escalate, custom fields

    async def visible_ticket(self, token: str, ticket_id: str) -> dict[str, Any] | None:
        """The ticket, or None when the person may not see it (or there is none)."""
        return await self._optional(token, f"/v1/tickets/{ticket_id}", unanswered=True)

    async def numbered(self, token: str, number: str) -> dict[str, Any] | None:
        """The ticket of this number the person may see (its list summary), or None."""
        found = await self._get(token, "/v1/tickets", {"number": number, "limit": 1})
        return found["tickets"][0] if found["tickets"] else None

    async def link(self, token: str, ticket_id: str, other_id: str, kind: str, reason: str, key: str) -> dict[str, Any]:
        body = {"ticket_id": other_id, "kind": kind, "reason": reason}
        return await self._post(token, f"/v1/tickets/{ticket_id}/links", body, key)

    async def split(self, token: str, ticket_id: str, comment_id: str, title: str, key: str) -> dict[str, Any]:
        """A new ticket made of one comment, linked to this one."""
        path = f"/v1/tickets/{ticket_id}/comments/{comment_id}/split"
        return await self._post(token, path, {"title": title}, key)

    async def escalate(self, token: str, ticket_id: str, reason: str, key: str) -> dict[str, Any]:
        """To the next tier's group (routing decides which); answers where routing placed it."""
        return await self._post(token, f"/v1/routing/tickets/{ticket_id}/escalations", {"reason": reason}, key)

    # i20b: who changed the admin settings
    async def setting_changes(self, token: str, path: str) -> list[dict[str, Any]]:
        """The newest changes of an admin list (`/v1/routing/rules/history`...), each with when, who and what;
        none while nothing is set up."""
        found = await self._optional(token, path)
        return [] if found is None else list(found["changes"])

    # knowledge base: articles, their versions, categories, attachments, suggestions; a ticket's solution
    async def kb_articles(self, token: str, **filters: str | int | None) -> dict[str, Any]:
        """A page of the articles (GET /v1/kb/articles): without body, filtered, `next_after` the next page."""
        return await self._get(token, "/v1/kb/articles", {k: v for k, v in filters.items() if v not in (None, "")})

    async def kb_search(self, token: str, words: str, **filters: str | int | None) -> list[dict[str, Any]]:
        """Published articles whose words match, best first, with highlighted snippets."""
        params = {"q": words} | {k: v for k, v in filters.items() if v not in (None, "")}
        return list((await self._get(token, "/v1/kb/search", params))["hits"])

    async def kb_article(self, token: str, article_id: str, as_of: str | None = None) -> dict[str, Any]:
        """The article now, or as it was at `as_of` (an ISO 8601 instant)."""
        return await self._get(
            token, f"/v1/kb/articles/{quote(article_id, safe='')}", {"as_of": as_of} if as_of else {}
        )

    async def kb_history(self, token: str, article_id: str) -> list[dict[str, Any]]:
        """The article's versions: who, when, which fields changed, and its status then."""
        return list((await self._get(token, f"/v1/kb/articles/{quote(article_id, safe='')}/history", {}))["versions"])

    async def kb_draft(self, token: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        """A new draft article (POST /v1/kb/articles)."""
        return await self._post(token, "/v1/kb/articles", body, key)

    async def kb_revise(self, token: str, article_id: str, body: dict[str, Any], version: int | None) -> dict[str, Any]:
        """A new version of the article; `version` the one the editor showed (a newer one is refused)."""
        headers = {"Authorization": f"Bearer {token}"} | ({"If-Match": f'"{version}"'} if version else {})
        return _checked(
            await self.client.patch(f"/v1/kb/articles/{quote(article_id, safe='')}", json=body, headers=headers)
        )

    async def kb_move(self, token: str, article_id: str, action: str, key: str) -> dict[str, Any]:
        """`publish` or `archive` the article."""
        return await self._post(token, f"/v1/kb/articles/{quote(article_id, safe='')}/{action}", {}, key)

    async def kb_categories(self, token: str) -> list[dict[str, Any]]:
        """Every category (slug, names, parent, position); none while the knowledge base has none."""
        found = await self._optional(token, "/v1/kb/categories")
        return [] if found is None else list(found["categories"])

    async def kb_attach(
        self, token: str, article_id: str, filename: str, content_type: str, content: bytes
    ) -> dict[str, Any]:
        answer = await self.client.post(
            f"/v1/kb/articles/{quote(article_id, safe='')}/attachments",
            files={"file": (filename, content, content_type)},
            headers={"Authorization": f"Bearer {token}"},
        )
        return _checked(answer)

    # portal: the knowledge base as the public (no token) or a signed-in person sees it, requests, ratings
    async def kb_get(self, reader: KbReader, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A knowledge base read (`categories`, `articles`, `articles/<id>`, `search`)."""
        query = {name: value for name, value in (params or {}).items() if value not in (None, "")}
        answer = await self.client.get(reader.url(path), params=query, headers=reader.headers())
        return _checked(answer)

    async def kb_post(self, reader: KbReader, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A knowledge base write a reader may make (`suggestions`, feedback, `views`, `deflections`)."""
        answer = await self.client.post(reader.url(path), json=body, headers=reader.headers())
        if answer.status_code in (202, 204) or not answer.content:
            _sent(answer)
            return {}
        return _checked(answer)

    async def kb_download(self, reader: KbReader, article_id: str, attachment_id: str) -> httpx.Response:
        """A file of an article (an image it shows, a download), with the API's headers."""
        path = reader.url(f"articles/{quote(article_id, safe='')}/attachments/{quote(attachment_id, safe='')}")
        answer = await self.client.get(path, headers=reader.headers())
        if answer.status_code >= 400:
            _checked(answer)
        return answer

    async def kb_suggestions(
        self, token: str, text: str, language: str | None = None, limit: int = 5
    ) -> dict[str, Any]:
        """The best articles and the most similar resolved tickets for a text (a ticket's title and description)."""
        body = {"text": text, "language": language, "limit": limit}
        answer = await self.client.post("/v1/kb/suggestions", json=body, headers={"Authorization": f"Bearer {token}"})
        return _checked(answer)

    async def kb_viewed(self, token: str, article_id: str, channel: str) -> None:
        """Someone read the article (POST views): counted in analytics."""
        path = f"/v1/kb/articles/{quote(article_id, safe='')}/views"
        _sent(await self.client.post(path, json={"channel": channel}, headers={"Authorization": f"Bearer {token}"}))

    async def solve(self, token: str, ticket_id: str, article_id: str, key: str) -> None:
        """Link the article to the ticket as its solution (POST /v1/tickets/{id}/solution)."""
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        path = f"/v1/tickets/{ticket_id}/solution"
        _sent(await self.client.post(path, json={"article_id": article_id}, headers=headers))

    async def open_ticket(self, token: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        """A new ticket (POST /v1/tickets); a customer's is theirs and their organisation's whatever is sent."""
        return await self._post(token, "/v1/tickets", body, key)

    # macros
    async def macros(self, token: str, **filters: str | None) -> list[dict[str, Any]]:
        """The macros the person may use (GET /v1/macros: `q`, `group`, `language`)."""
        params = {k: v for k, v in filters.items() if v}
        return list((await self._get(token, "/v1/macros", params))["macros"])

    async def macro(self, token: str, macro_id: str) -> dict[str, Any]:
        return await self._get(token, f"/v1/macros/{quote(macro_id, safe='')}", {})

    async def make_macro(self, token: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        return await self._post(token, "/v1/macros", body, key)

    async def revise_macro(self, token: str, macro_id: str, body: dict[str, Any], version: int | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} | ({"If-Match": f'"{version}"'} if version else {})
        path = f"/v1/macros/{quote(macro_id, safe='')}"
        _sent(await self.client.patch(path, json=body, headers=headers))

    async def retire_macro(self, token: str, macro_id: str) -> None:
        await self.delete(token, f"/v1/macros/{quote(macro_id, safe='')}")

    async def preview_macro(self, token: str, ticket_id: str, macro_id: str) -> dict[str, Any]:
        path = f"/v1/tickets/{ticket_id}/macros/{quote(macro_id, safe='')}/preview"
        return _checked(await self.client.post(path, headers={"Authorization": f"Bearer {token}"}))

    async def apply_macro(self, token: str, ticket_id: str, macro_id: str, key: str) -> dict[str, Any]:
        """Apply the macro to the ticket: its reply and its actions, once for `key`."""
        return await self._post(token, f"/v1/tickets/{ticket_id}/macros/{quote(macro_id, safe='')}", {}, key)

    # what-if
    async def start_what_if(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        """Start a what-if job (POST /v1/what-if: kind, days, candidate); the job, queued."""
        return _checked(await self.client.post("/v1/what-if", json=body, headers={"Authorization": f"Bearer {token}"}))

    async def what_if_job(self, token: str, job_id: str) -> dict[str, Any]:
        """A what-if job: status, progress and, once done, its report."""
        return await self._get(token, f"/v1/what-if/{quote(job_id, safe='')}", {})

    # triggers: the rules service's automation (/v1/triggers)
    async def triggers(self, token: str) -> list[dict[str, Any]]:
        """The tenant's live triggers in the order they run."""
        return list((await self._get(token, "/v1/triggers", {}))["triggers"])

    async def trigger(self, token: str, trigger_id: str) -> dict[str, Any]:
        return await self._get(token, f"/v1/triggers/{quote(trigger_id, safe='')}", {})

    async def trigger_firings(self, token: str, trigger_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The trigger's last firings, newest first."""
        path = f"/v1/triggers/{quote(trigger_id, safe='')}/firings"
        return list((await self._get(token, path, {"limit": limit}))["firings"])

    async def make_trigger(self, token: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        return await self._post(token, "/v1/triggers", body, key)

    async def revise_trigger(self, token: str, trigger_id: str, body: dict[str, Any], version: int | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} | ({"If-Match": f'"{version}"'} if version else {})
        _sent(await self.client.patch(f"/v1/triggers/{quote(trigger_id, safe='')}", json=body, headers=headers))

    async def trigger_state(self, token: str, trigger_id: str, change: str, body: dict[str, Any]) -> None:
        """Enable or disable (`change`) the trigger."""
        path = f"/v1/triggers/{quote(trigger_id, safe='')}/{change}"
        _sent(await self.client.post(path, json=body, headers={"Authorization": f"Bearer {token}"}))

    async def retire_trigger(self, token: str, trigger_id: str) -> None:
        await self.delete(token, f"/v1/triggers/{quote(trigger_id, safe='')}")

    async def order_triggers(self, token: str, trigger_ids: list[str]) -> None:
        answer = await self.client.post(
            "/v1/triggers/order", json={"ids": trigger_ids}, headers={"Authorization": f"Bearer {token}"}
        )
        _sent(answer)

    async def _post(self, token: str, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        return _checked(await self.client.post(path, json=body, headers=headers))

    async def _optional(self, token: str, path: str, *, unanswered: bool = False) -> dict[str, Any] | None:
        """What `path` answers, or None when there is nothing there (404; 403 where the person may not
        see it) or, with `unanswered`, when the service behind does not answer: a part of a page that
        can be left out."""
        try:
            return await self._get(token, path, {})
        except GatewayError as error:
            if error.status == 404 or (unanswered and (error.status == 403 or error.status >= 500)):
                return None
            raise

    async def _get(self, token: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        answer = await self.client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        return _checked(answer)


def _checked(answer: httpx.Response) -> dict[str, Any]:
    if answer.status_code == 401:
        raise SignedOutError
    if answer.status_code >= 400:
        try:
            problem = answer.json()
        except ValueError:
            problem = {"title": answer.reason_phrase}
        raise GatewayError(answer.status_code, problem if isinstance(problem, dict) else {})
    body: dict[str, Any] = answer.json()
    return body


def _sent(answer: httpx.Response) -> None:
    """An answer whose body is not needed (204 No Content, or the settings left): only its refusal is."""
    if answer.status_code >= 400:
        _checked(answer)
