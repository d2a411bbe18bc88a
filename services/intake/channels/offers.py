"""The message a Telegram conversation holds while the desk offers articles instead of a ticket.

A webhook call knows nothing of the one before, so the first message (the one that would have
opened the ticket) is kept on intake's store until the offer ends: "this helped" drops it, "none of
these helped" or a second message opens the ticket from it. One `HeldMessage` aggregate per chat
(its id derived from the chat's blind index), its text sealed with the requester's key like
everything else they wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from services.chassis.storage.ids import stable_uuid
from services.chassis.storage.processing import commit, find
from services.intake.privacy.personal_data import PersonalData


@dataclass(frozen=True)
class Held:
    """A message held while articles are offered (its text opened)."""

    message_id: int
    user_id: int
    requester_id: str
    text: str
    offered: list[str]  # the ids of the articles offered


class HeldMessage(Aggregate):
    """The message one chat holds while an offer is open (`held` is None when none is)."""

    @staticmethod
    def create_id(tenant: str, channel: str, blind: str) -> UUID:
        return stable_uuid("held-messages", tenant, channel, blind)

    @event("Started")
    def __init__(self, tenant: str, channel: str, blind: str) -> None:
        self.tenant = tenant
        self.channel = channel
        self.blind = blind
        self.held: dict[str, Any] | None = None

    @event("Held")
    def hold(self, message: dict[str, Any]) -> None:
        self.held = message

    def end(self, outcome: str) -> None:
        if self.held is not None:
            self._ended(outcome=outcome)

    @event("Ended")
    def _ended(self, outcome: str) -> None:
        self.held = None


class Offers:
    """Held messages per conversation, on intake's store."""

    def __init__(self, app: Application[UUID], personal: PersonalData) -> None:
        self.app = app
        self.personal = personal

    def hold(self, tenant: str, channel: str, conversation: str, held: Held) -> None:
        message = vars(held) | {"text": self.personal.seal(tenant, held.requester_id, held.text)}

        def decide() -> list[Aggregate]:
            found = self._find(tenant, channel, conversation) or HeldMessage(
                tenant, channel, self._blind(tenant, channel, conversation)
            )
            found.hold(message)
            return [found]

        commit(self.app, decide)

    def pending(self, tenant: str, channel: str, conversation: str) -> Held | None:
        found = self._find(tenant, channel, conversation)
        return self._opened(tenant, found.held) if found is not None and found.held is not None else None

    def end(self, tenant: str, channel: str, conversation: str, outcome: str) -> Held | None:
        """End the conversation's offer; the message it held, if this call ended it (None when none was open)."""
        ended: list[Held] = []

        def decide() -> list[Aggregate]:
            ended.clear()
            found = self._find(tenant, channel, conversation)
            if found is None or found.held is None:
                return []
            ended.append(self._opened(tenant, found.held))
            found.end(outcome)
            return [found]

        commit(self.app, decide)
        return ended[0] if ended else None

    def _opened(self, tenant: str, message: dict[str, Any]) -> Held:
        return Held(**(message | {"text": self.personal.unseal(tenant, message["text"])}))

    def _find(self, tenant: str, channel: str, conversation: str) -> HeldMessage | None:
        aggregate_id = HeldMessage.create_id(tenant, channel, self._blind(tenant, channel, conversation))
        found = find(self.app, aggregate_id, HeldMessage)
        return found if found is not None and found.tenant == tenant else None

    def _blind(self, tenant: str, channel: str, conversation: str) -> str:
        return self.personal.blind_index(tenant, f"offer:{channel}:{conversation}")
