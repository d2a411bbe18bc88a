"""Web chat: a customer's conversation over a WebSocket becomes a ticket, the agents' replies come back live.

    GET /v1/chat?access_token=<bearer token>[&conversation=<id>][&after=<comment id>]   (WebSocket)

The customer authenticates with their own bearer token (a browser cannot set headers on a
WebSocket); anyone else is refused before the socket opens. The server first says which
conversation this is (`{"type": "conversation", ...}`); the client sends
`{"type": "message", "id": "<its own id>", "body": "..."}`: the first opens the ticket, each
later one is a comment, and each is confirmed with `{"type": "stored", ...}` once stored (a
message sent again with the same id changes nothing). Public comments by anyone but the
customer arrive as `{"type": "reply", ...}`; a client that reconnects with the conversation and
the last comment it saw (`after`) gets every reply it missed, then the new ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.chassis.http.auth import Principal, Role
from services.chassis.http.problems import DomainProblem
from services.intake.channels.landing import Incoming, Landing
from services.intake.channels.participants import Sender
from services.intake.channels.telemetry import ChannelCounters
from services.intake.people.conversations import Conversations, ReplyRoute
from services.intake.tickets.application import Intake
from services.intake.tickets.work import TicketNotFoundError

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
POLICY_VIOLATION = 1008


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["message"]
    id: str = Field(pattern=_ID.pattern, description="The client's own id of the message: a resend is harmless.")
    body: str = Field(min_length=1, max_length=20_000)


class Conversation:
    """One customer's conversation on one socket."""

    def __init__(self, principal: Principal, conversation_id: str, ticket_id: UUID | None) -> None:
        self.principal = principal
        self.conversation_id = conversation_id
        self.key = f"{principal.subject}:{conversation_id}"  # a customer can only ever find their own
        self.ticket_id = ticket_id


def router(
    intake: Intake, landing: Landing, conversations: Conversations, counters: ChannelCounters, poll_seconds: float,
) -> APIRouter:  # fmt: skip
    api = APIRouter()

    def store(chat: Conversation, message: ChatMessage) -> dict[str, Any]:
        who = chat.principal
        incoming = Incoming(
            tenant=who.tenant,
            channel="chat",
            key=f"chat:{chat.key}:{message.id}",
            sender=Sender(who.subject, "chat", who.subject, authenticated=True),  # by the customer's token
            title=message.body.splitlines()[0],
            text=message.body,
            organisation=who.organisation,
        )
        landed = landing.land(incoming, chat.ticket_id)
        route = ReplyRoute("chat", chat.conversation_id, None) if landed.reroutes else None
        chat.ticket_id = conversations.remember(who.tenant, landed.ticket_id, who.subject, "chat", [chat.key], route)
        counters.landed("chat", landed)
        return {"type": "stored", "id": message.id, "ticket_id": str(landed.ticket_id), "number": landed.number,
                "comment_id": landed.comment_id, "outcome": landed.outcome}  # fmt: skip

    def replies(chat: Conversation, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """The agents' public replies since comment `after` (all of them when None), and the newest comment."""
        if chat.ticket_id is None:
            return [], after
        try:
            comments, newest = intake.public_comments_after(
                chat.ticket_id, chat.principal.tenant, after, not_by=chat.principal.subject
            )
        except TicketNotFoundError:
            return [], after
        found = [{"type": "reply", "comment_id": c.id, "body": c.body, "author_id": c.author_id} for c in comments]
        return found, newest

    async def push(socket: WebSocket, chat: Conversation, after: str | None) -> None:
        while True:
            found, after = await asyncio.to_thread(replies, chat, after)
            for reply in found:
                await socket.send_json(reply)
            await asyncio.sleep(poll_seconds)

    async def receive(socket: WebSocket, chat: Conversation) -> None:
        while True:
            raw = await socket.receive_text()
            try:
                message = ChatMessage.model_validate_json(raw)
            except ValidationError as error:
                fields = [".".join(str(p) for p in e["loc"]) or "message" for e in error.errors()]
                await socket.send_json({"type": "error", "fields": fields, "detail": f"invalid: {', '.join(fields)}"})
                continue
            await socket.send_json(await asyncio.to_thread(store, chat, message))

    @api.websocket("/v1/chat")
    async def chat_socket(
        socket: WebSocket, access_token: str | None = None, conversation: str | None = None, after: str | None = None
    ) -> None:
        authenticator = socket.app.state.authenticator
        try:
            principal: Principal = await authenticator.principal(
                f"Bearer {access_token}" if access_token else None, None
            )
        except DomainProblem as refused:
            await socket.close(POLICY_VIOLATION, f"unauthenticated: {refused.detail}"[:120])
            return
        if not principal.has(Role.CUSTOMER) or (conversation is not None and not _ID.match(conversation)):
            await socket.close(POLICY_VIOLATION, "the chat is for customers, on a conversation id of [A-Za-z0-9_-]")
            return
        conversation_id = conversation or uuid4().hex
        key = f"{principal.subject}:{conversation_id}"
        ticket_id = await asyncio.to_thread(conversations.ticket_of, principal.tenant, "chat", key)
        chat = Conversation(principal, conversation_id, ticket_id)
        await socket.accept()
        await socket.send_json(
            {
                "type": "conversation",
                "conversation_id": conversation_id,
                "ticket_id": str(ticket_id) if ticket_id else None,
            }
        )
        pusher = asyncio.create_task(push(socket, chat, after))
        try:
            await receive(socket, chat)
        except WebSocketDisconnect:
            pass
        finally:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await pusher

    return api
