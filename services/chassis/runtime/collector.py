"""Python's cycle collector, tuned for a replay of hundreds of thousands of events.

A replay allocates millions of short-lived objects (parsed pages, typed events, rows) that
reference counting frees, while the objects the process already holds stay put. With the
default thresholds the collector ran every 700 allocations and, every hundred runs or so,
traversed everything the process holds: half of a 200,000-event rebuild's time, measured
(5.8 s of 11.7 s), most of it spent inside page validation.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 200_000  # allocations between collections of the youngest generation (default 700)


@contextmanager
def collecting_rarely() -> Iterator[None]:
    """Leave what exists now out of every collection (`gc.freeze`) and collect young objects
    rarely until the block ends; then the defaults again, and the frozen objects are collectable."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
