"""Reading a Request Tracker 5 through its REST2 API: its tickets, each with its transactions and their
messages, and the users and queues they name (each read once)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import httpx

PAGE = 100
# Transactions of a ticket that record nothing our ticket keeps (mail sent, watchers, links' other side).
_HISTORY_FIELDS = "Type,Field,OldValue,NewValue,Created,Creator,Data"


@dataclass(frozen=True)
class RtUser:
    name: str
    email: str | None
    real_name: str | None
    privileged: bool


@dataclass(frozen=True)
class RtFile:
    """A file attached to a transaction's message."""

    id: str
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class RtTransaction:
    id: str
    type: str
    field: str
    old: str
    new: str
    at: datetime
    creator: str  # the user's name
    content: str | None = None  # the words of a create, correspond or comment
    files: tuple[RtFile, ...] = ()  # the files its message carried


@dataclass(frozen=True)
class RtTicket:
    id: str
    subject: str
    status: str
    queue: str  # the queue's name
    requestors: list[str]
    creator: str
    created: datetime
    priority: int
    custom_fields: dict[str, list[str]]
    transactions: list[RtTransaction] = field(default_factory=list)


class RtClient:
    """One Request Tracker, read with `token` (an auth token of a user who sees every queue)."""

    def __init__(self, url: str, token: str, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"token {token}"}
        self.http = client or httpx.Client(base_url=f"{self.url}/REST/2.0", headers=headers, timeout=60)
        self.user = cache(self._user)
        self.queue_name = cache(self._queue_name)
        self.custom_field_name = cache(self._custom_field_name)

    def ticket_ids(self, query: str = "id > 0") -> list[str]:
        """The ids of the tickets `query` (TicketSQL) finds, oldest first."""
        ids: list[str] = []
        for item in self._pages("/tickets", {"query": query, "orderby": "id", "order": "ASC"}):
            ids.append(str(item["id"]))
        return ids

    def ticket(self, ticket_id: str) -> RtTicket:
        data = self._get(f"/ticket/{ticket_id}")
        fields = {str(cf.get("name")): [str(v) for v in cf.get("values", [])] for cf in data.get("CustomFields", [])}
        transactions = [self._transaction(item) for item in self._pages(f"/ticket/{ticket_id}/history", {})]
        return RtTicket(
            id=str(data["id"]),
            subject=str(data.get("Subject") or ""),
            status=str(data["Status"]),
            queue=self.queue_name(str(data["Queue"]["id"])),
            requestors=[str(user["id"]) for user in data.get("Requestor", [])],
            creator=str(data["Creator"]["id"]),
            created=_instant(data["Created"]),
            priority=int(data.get("Priority") or 0),
            custom_fields=fields,
            transactions=transactions,
        )

    def _transaction(self, item: dict[str, Any]) -> RtTransaction:
        kind = str(item["Type"])
        content, files = self._message(str(item["id"])) if kind in ("Create", "Correspond", "Comment") else (None, [])
        field_ = str(item.get("Field") or "")
        return RtTransaction(
            id=str(item["id"]),
            type=kind,
            field=self.custom_field_name(field_) if kind == "CustomField" and field_.isdigit() else field_,
            old=str(item.get("OldValue") or ""),
            new=str(item.get("NewValue") or ""),
            at=_instant(item["Created"]),
            creator=str(item["Creator"]["id"]),
            content=content,
            files=tuple(files),
        )

    def _message(self, transaction_id: str) -> tuple[str, list[RtFile]]:
        """The words of a transaction's message (its first text part that is no file), and its files."""
        text: str | None = None
        files: list[RtFile] = []
        for item in self._pages(f"/transaction/{transaction_id}/attachments", {}):
            part = self._get(f"/attachment/{item['id']}")
            kind, content = str(part.get("ContentType") or "application/octet-stream"), part.get("Content")
            if content is None:
                continue  # a multipart's envelope
            if part.get("Filename"):
                files.append(RtFile(str(part["id"]), str(part["Filename"]), kind, base64.b64decode(content)))
            elif text is None and kind.startswith("text/plain"):
                text = base64.b64decode(content).decode("utf-8", "replace").strip()
        return text or "", files

    def _user(self, name: str) -> RtUser:
        data = self._get(f"/user/{name}")
        return RtUser(
            name=str(data.get("Name") or name),
            email=data.get("EmailAddress") or None,
            real_name=data.get("RealName") or None,
            privileged=bool(int(data.get("Privileged") or 0)),
        )

    def _custom_field_name(self, field_id: str) -> str:
        return str(self._get(f"/customfield/{field_id}")["Name"])

    def _queue_name(self, queue_id: str) -> str:
        return str(self._get(f"/queue/{queue_id}")["Name"])

    def _pages(self, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            query = params | {"page": str(page), "per_page": str(PAGE)}
            if path.endswith("/history"):
                query["fields"] = _HISTORY_FIELDS
            data = self._get(path, query)
            yield from data.get("items", [])
            if page >= int(data.get("pages") or 1):
                return
            page += 1

    def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        answer = self.http.get(path, params=params)
        answer.raise_for_status()
        data: dict[str, Any] = answer.json()
        return data


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
