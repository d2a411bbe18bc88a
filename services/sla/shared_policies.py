"""One object for every clock of the same policy version.

Each clock records the policy it counts by (with its calendar's spec) on its `Started` event, and
rebuilt from its events each held a copy of its own: ~5 KB a clock, most of a cached clock's memory.
Clocks now hold the one `SharedPolicy` of that content, which copying (the aggregate cache deep-copies
what it hands out) keeps shared. A clock only ever reads its policy; a change of policy is a new one.
A clock's facts (the priority, category and organisation its policy was chosen by) are shared the same way:
few tickets differ in them.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Self

KEPT = 1024  # policy versions remembered; past it, the memory starts afresh (clocks keep theirs)


class SharedPolicy(dict[str, Any]):
    """A policy as clocks read it; copies are itself (never change one in place)."""

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self


_shared: dict[str, SharedPolicy] = {}


def shared(policy: dict[str, Any]) -> SharedPolicy:
    """The one `SharedPolicy` holding what `policy` holds."""
    if isinstance(policy, SharedPolicy):
        return policy
    content = json.dumps(policy, sort_keys=True, default=repr)
    found = _shared.get(content)
    if found is None:
        if len(_shared) >= KEPT:
            _shared.clear()
        found = _shared[content] = SharedPolicy(copy.deepcopy(policy))
    return found
