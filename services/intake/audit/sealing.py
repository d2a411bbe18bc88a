"""The store side of the seals (services/intake/audit/chain.py): every event and snapshot is sealed as it
is stored, and a snapshot is used only when its seal is the desk's and it agrees with its stream.

A snapshot lets a read skip the events before it, so a forged or stale one would show a state the
events never reached: one whose seal fails, whose version the stream no longer has, or (a ticket's)
whose chain head is not the hash of the event at its version is ignored, and the aggregate is
replayed from its events instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import AggregateRecorder, EventStore, Mapper, StoredEvent
from eventsourcing.utils import get_topic

from services.intake.audit import chain

log = logging.getLogger(__name__)


class SealingMapper(Mapper[UUID]):
    """A mapper that seals each event (and snapshot) with the desk's key as it is stored."""

    def __init__(self, base: Mapper[UUID], key: bytes) -> None:
        super().__init__(base.transcoder, compressor=base.compressor, cipher=base.cipher)
        self.key = key

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        state = vars(domain_event)
        content = chain.content_digest(
            domain_event.originator_id, domain_event.originator_version, _topic_of(domain_event), state
        )
        object.__setattr__(domain_event, chain.SEAL, chain.seal(self.key, content))
        return super().to_stored_event(domain_event)

    def decoded(self, stored: StoredEvent) -> dict[str, Any]:
        """The state of a stored event as it was written: no upcasting, no objects."""
        state = stored.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        decoded: dict[str, Any] = self.transcoder.decode(state)
        return decoded

    def problem(self, stored: StoredEvent, state: dict[str, Any]) -> str | None:
        """Why `stored` is not sealed by the desk, or None."""
        content = chain.content_digest(stored.originator_id, stored.originator_version, stored.topic, state)
        return None if chain.sealed_by(self.key, content, state.get(chain.SEAL)) else "its seal is not the desk's"


def _topic_of(domain_event: object) -> str:
    return get_topic(type(domain_event))


class CheckedSnapshots(EventStore[UUID]):
    """The snapshot store: hands out only snapshots that agree with the sealed events."""

    def __init__(self, mapper: SealingMapper, recorder: AggregateRecorder, events: AggregateRecorder) -> None:
        super().__init__(mapper, recorder)
        self.sealing = mapper
        self.events = events

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[DomainEventProtocol[UUID]]:
        for stored in self.recorder.select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit):
            if (reason := self._problem(stored)) is None:
                yield self.mapper.to_domain_event(stored)
            else:
                log.warning(
                    "snapshot of %s at version %d not used: %s", originator_id, stored.originator_version, reason
                )

    def _problem(self, snapshot: StoredEvent) -> str | None:
        state = self.sealing.decoded(snapshot)
        if (reason := self.sealing.problem(snapshot, state)) is not None:
            return reason
        version = snapshot.originator_version
        events = self.events.select_events(snapshot.originator_id, gt=version - 1, lte=version)
        if not events:
            return f"the stream has no version {version}"
        head = (state.get("state") or {}).get("chain_head")
        if head is not None and head != self.sealing.decoded(events[0]).get(chain.HASH):
            return f"its chain head is not the hash of version {version}"
        return None
