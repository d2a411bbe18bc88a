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
_HISTORY_FIELDS = "Type,Field,OldValue,NewValue,Created,Creator,Data,ObjectId"
# A ticket's links as REST2 names them (`_hyperlinks`), as its transactions name them.
LINK_FIELDS = {"refers-to": "RefersTo", "referred-to-by": "ReferredToBy", "depends-on": "DependsOn",
               "depended-on-by": "DependedOnBy", "parent": "MemberOf", "child": "HasMember"}  # fmt: skip


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
    ticket: str = ""  # the ticket it happened to: another than the one read when that one was merged into it
    subject: str | None = None  # its message's subject


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
    links: list[tuple[str, str]] = field(default_factory=list)  # (RT's field, the other ticket's id), as it is now


class RtClient:
    """One Request Tracker, read with `token` (an auth token of a user who sees every queue)."""

    def __init__(self, url: str, token: str, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"token {token}"}
        self.http = client or httpx.Client(base_url=f"{self.url}/REST/2.0", headers=headers, timeout=60)
        self.user = cache(self._user)
        self.queue_name = cache(self._queue_name)
        self.custom_field_name = cache(self._custom_field_name)
        self.effective_id = cache(self._effective_id)

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
            links=[(LINK_FIELDS[str(link["ref"])], str(link["id"])) for link in data.get("_hyperlinks", [])
                   if link.get("type") == "ticket" and link.get("ref") in LINK_FIELDS],
        )  # fmt: skip

    def _effective_id(self, ticket_id: str) -> str | None:
        """The ticket `ticket_id` is now: itself, or the one it was merged into; None when there is none."""
        answer = self.http.get(f"/ticket/{ticket_id}")
        if answer.status_code in (403, 404):
            return None
        answer.raise_for_status()
        return str(answer.json()["id"])

    def _transaction(self, item: dict[str, Any]) -> RtTransaction:
        kind = str(item["Type"])
        message = self._message(str(item["id"])) if kind in ("Create", "Correspond", "Comment") else (None, [], None)
        content, files, subject = message
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
            ticket=str(item.get("ObjectId") or ""),
            subject=subject,
        )

    def _message(self, transaction_id: str) -> tuple[str, list[RtFile], str | None]:
        """The words of a transaction's message (its first text part that is no file), its files, its subject."""
        text: str | None = None
        subject: str | None = None
        files: list[RtFile] = []
        for item in self._pages(f"/transaction/{transaction_id}/attachments", {}):
            part = self._get(f"/attachment/{item['id']}")
            kind, content = str(part.get("ContentType") or "application/octet-stream"), part.get("Content")
            subject = subject or part.get("Subject") or None
            if content is None:
                continue  # a multipart's envelope
            if part.get("Filename"):
                files.append(RtFile(str(part["id"]), str(part["Filename"]), kind, base64.b64decode(content)))
            elif text is None and kind.startswith("text/plain"):
                text = base64.b64decode(content).decode("utf-8", "replace").strip()
        return text or "", files, subject

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
