"""aiokafka's fetches: a fetch that leaves a partition out waits at the broker briefly, one that asks for every
partition as long as the consumer says.

aiokafka keeps one fetch in flight per broker, and leaves out of it each partition that still holds fetched
records nobody took yet. So as a fetch's answer lands, the next fetch goes out at once without the partitions
that answer filled. Asking only for the others, it waits its whole `fetch_max_wait_ms` at the broker unless
one of them gets a record, and the left-out partitions' new records wait behind it: with the desk's quiet
partitions (SLA clocks, rule actions beside the tickets), routing took its decisions in bursts two seconds
apart at 280 tickets/s (the consumers' 2 s wait), ~1.3 s after each ticket reached Kafka, while its process
idled (bench/routing_latency.py's hops, 2026-12-07). The Java client asks as a poll ends, when what it holds
is taken; aiokafka asks at once.

`install()` makes a fetch that leaves out a partition holding records wait at most `LEFT_OUT_WAIT_MS`: those
records are taken within a batch, and their partitions are asked for again that much later at the latest. A
fetch of every partition waits the consumer's own `fetch_max_wait_ms` (an idle member asks seldom; the broker
answers the moment a record arrives).
"""

from __future__ import annotations

import functools
from typing import Any

from aiokafka.consumer.fetcher import Fetcher

LEFT_OUT_WAIT_MS = 20
_INSTALLED = "_servicedesk_left_out_wait"
_OWN_WAIT = "_servicedesk_own_wait_ms"


def install() -> None:
    """Patch aiokafka's fetcher once per process (idempotent)."""
    original = Fetcher._get_actions_per_node
    if getattr(original, _INSTALLED, False):
        return

    @functools.wraps(original)
    def actions_per_node(self: Any, assignment: Any) -> Any:
        own = self.__dict__.setdefault(_OWN_WAIT, self._fetch_max_wait_ms)
        self._fetch_max_wait_ms = min(own, LEFT_OUT_WAIT_MS) if self._records else own
        return original(self, assignment)

    setattr(actions_per_node, _INSTALLED, True)
    Fetcher._get_actions_per_node = actions_per_node
