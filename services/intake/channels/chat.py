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

Answer first (self_service.py): the message that would open the ticket is first answered with
`{"type": "articles", "id": ..., "articles": [{"id", "title", "url"}]}`, the knowledge base's best
articles for the customer, and held. `{"type": "helped", "article_id": ...}` ends the conversation
without a ticket (`{"type": "solved"}`, then the socket closes); `{"type": "not_helped"}` or a
second message opens the ticket from the held message (each confirmed `stored` as before). No
articles, or no answer from the knowledge base: the ticket opens at once. A held message of a
socket that closes is dropped: the customer left before asking for a ticket.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from services.chassis.http.auth import Principal, Role
from services.chassis.http.problems import DomainProblem
from services.intake.channels.landing import Incoming, Landing
from services.intake.channels.participants import Sender
from services.intake.channels.self_service import Outcome, SelfService
from services.intake.channels.telemetry import ChannelCounters
from services.intake.people.conversations import Conversations, ReplyRoute
from services.intake.tickets.access import Scope
from services.intake.tickets.application import Intake
from services.intake.tickets.work import TicketNotFoundError

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
POLICY_VIOLATION = 1008
CHANNEL = "chat"


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["message"]
    id: str = Field(pattern=_ID.pattern, description="The client's own id of the message: a resend is harmless.")
    body: str = Field(min_length=1, max_length=20_000)


class OfferAnswer(BaseModel):
    """The customer's answer to the articles offered: one helped (`article_id`), or none did."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["helped", "not_helped"]
    article_id: UUID | None = None


_FRAME = TypeAdapter[ChatMessage | OfferAnswer](Annotated[ChatMessage | OfferAnswer, Field(discriminator="type")])


def _field(location: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """A field's location in a frame, without the frame's type pydantic puts first."""
    return location[1:] if location and location[0] in ("message", "helped", "not_helped") else location


def _error(fields: list[str], detail: str) -> dict[str, Any]:
    return {"type": "error", "fields": fields, "detail": detail}


class Conversation:
    """One customer's conversation on one socket."""

    def __init__(self, principal: Principal, conversation_id: str, ticket_id: UUID | None, token: str) -> None:
        self.principal = principal
        self.conversation_id = conversation_id
        self.key = f"{principal.subject}:{conversation_id}"  # a customer can only ever find their own
        self.requester = principal.person or principal.subject  # the person they are, who writes in
        self.ticket_id = ticket_id
        self.token = token  # the customer's, for the knowledge service behind the gateway
        self.held: ChatMessage | None = None  # the first message, while articles are offered
        self.offered: list[str] = []


def router(
    intake: Intake, landing: Landing, conversations: Conversations, counters: ChannelCounters, poll_seconds: float,
    self_service: SelfService,
) -> APIRouter:  # fmt: skip
    api = APIRouter()

    def store(chat: Conversation, message: ChatMessage) -> dict[str, Any]:
        who = chat.principal
        organisation = Scope.of(who).opened_as()[1]  # their organisation, as the directory knows it
        incoming = Incoming(
            tenant=who.tenant,
            channel="chat",
            key=f"chat:{chat.key}:{message.id}",
            sender=Sender(chat.requester, "chat", who.subject, authenticated=True),  # by the customer's token
            title=message.body.splitlines()[0],
            text=message.body,
            organisation=organisation,
        )
        landed = landing.land(incoming, chat.ticket_id)
        route = ReplyRoute("chat", chat.conversation_id, None) if landed.reroutes else None
        chat.ticket_id = conversations.remember(who.tenant, landed.ticket_id, chat.requester, "chat", [chat.key], route)
        counters.landed("chat", landed)
        return {"type": "stored", "id": message.id, "ticket_id": str(landed.ticket_id), "number": landed.number,
                "comment_id": landed.comment_id, "outcome": landed.outcome}  # fmt: skip

    def replies(chat: Conversation, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """The agents' public replies since comment `after` (all of them when None), and the newest comment."""
        if chat.ticket_id is None:
            return [], after
        try:
            comments, newest = intake.public_comments_after(
                chat.ticket_id, chat.principal.tenant, after, not_by=chat.requester
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

    def offer(chat: Conversation, message: ChatMessage) -> dict[str, Any] | None:
        """Hold the message that would open the ticket and offer articles instead; None: none to offer."""
        articles = self_service.suggest(chat.principal.tenant, message.body, chat.token)
        if not articles:
            return None
        chat.held, chat.offered = message, [article.id for article in articles]
        return {"type": "articles", "id": message.id, "articles": [article.shown() for article in articles]}

    def end(chat: Conversation, answer: OfferAnswer | None) -> list[dict[str, Any]]:
        """End the offer: "this helped" answers `solved`; otherwise the held message opens the ticket."""
        held, chat.held = chat.held, None
        if held is None:
            return []
        helped = str(answer.article_id) if answer is not None and answer.type == "helped" else None
        outcome: Outcome = "solved" if helped else "ticket_opened"
        self_service.ended(chat.principal.tenant, CHANNEL, outcome, helped, chat.token)
        return [{"type": "solved", "article_id": helped}] if helped else [store(chat, held)]

    def answer(chat: Conversation, raw: str) -> list[dict[str, Any]]:
        """What one frame of the customer's answers: a message is offered articles, stored, or first opens the
        held one; an answer to the offer ends it."""
        frame = _FRAME.validate_json(raw)
        if isinstance(frame, OfferAnswer):
            if frame.type == "helped" and str(frame.article_id) not in chat.offered:
                return [_error(["article_id"], "article_id: not one of the articles offered")]
            return end(chat, frame)
        if chat.held is not None:  # a second message: the held one opens the ticket, this one comments
            return [*end(chat, None), store(chat, frame)]
        if chat.ticket_id is None and (offered := offer(chat, frame)) is not None:
            return [offered]
        return [store(chat, frame)]

    async def receive(socket: WebSocket, chat: Conversation) -> None:
        while True:
            raw = await socket.receive_text()
            try:
                answers = await asyncio.to_thread(answer, chat, raw)
            except ValidationError as error:
                fields = [".".join(str(p) for p in _field(e["loc"])) or "message" for e in error.errors()]
                await socket.send_json(_error(fields, f"invalid: {', '.join(fields)}"))
                continue
            for said in answers:
                await socket.send_json(said)
            if any(said["type"] == "solved" for said in answers):
                await socket.close()  # the conversation ended without a ticket
                return

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
        chat = Conversation(principal, conversation_id, ticket_id, authenticator.verifier.mint_internal(principal))
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
