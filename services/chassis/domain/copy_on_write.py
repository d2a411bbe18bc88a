"""Copies of an aggregate whose state is never changed in place.

eventsourcing's cache deep-copies every aggregate it hands out for a command (so a command that fails
leaves the cached one as it was), and our unit of work copies a shared one before changing it. For an
aggregate whose events only ever assign new values (`self.tickets = [*self.tickets, ticket_id]`, never
`self.tickets.append(ticket_id)`), a copy may share every value with its original: changing the copy
assigns new ones. That costs a dict copy instead of a walk of everything the aggregate holds (an agent
holding 1,000 tickets: a thousand memo entries a copy), and the cache's copies share their values.
"""

from __future__ import annotations

from typing import Any, Self


class CopyOnWrite:
    """Mixed into an aggregate whose events assign new values and never change one in place."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        copied = object.__new__(type(self))
        copied.__dict__.update(self.__dict__)
        pending = self.__dict__.get("_pending_events")
        if pending is not None:
            copied.__dict__["_pending_events"] = list(pending)  # its own list of the (immutable) events
        memo[id(self)] = copied
        return copied
