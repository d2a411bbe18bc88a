"""What every service's what-if offers the job runner, the gateway and the CLI: one replay call.

A replay is synchronous and CPU-bound (the runner gives it a thread of its own); it reads what it
needs (the tenant's history of the window, its own store as of the window's start), runs the
candidate rules and the current ones over it in a sandbox, and answers a JSON-ready report. It calls
`progress(done, total)` as it goes (events replayed of the window's events; total 0 while unknown).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Progress = Callable[[int, int], None]

# An eventsourcing application's settings for a replay's sandbox: the in-memory store, and its cache's
# aggregates changed in place (no copy per command, no read-back of what the cache holds). Safe where one
# thread drives it and nothing else writes: a what-if's replay. Five times faster than the defaults.
SANDBOX = {
    "PERSISTENCE_MODULE": "eventsourcing.popo",
    "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
    "AGGREGATE_CACHE_FASTFORWARD": "n",
    "AGGREGATE_CACHE_MAXSIZE": "20000",  # a window's aggregates, held as the store itself holds them
}


@dataclass(frozen=True)
class WhatIfRequest:
    tenant: str
    days: int  # the window: the last `days` days up to now
    candidate: dict[str, Any] = field(default_factory=dict)  # the kind's own shape, checked by its service
    # what the owning service read for the candidate from other services before the job (`Prepare`: the SLA
    # calendars a draft trigger's business hours name), as it reads them when the rules are saved
    context: dict[str, Any] = field(default_factory=dict)


Replay = Callable[[WhatIfRequest, Progress], dict[str, Any]]
