"""A consumer that has lost its group for good says so, instead of answering ready while it takes nothing.

After a broker's SIGKILL under load, aiokafka 0.14's member can stop looking for its group's coordinator and
never look again: its last word is "Group Coordinator Request failed: NodeNotReadyError", its coordinator
stays unknown, it fetches and commits nothing, and no error ever reaches the consumer (seen on the webhooks'
consumer after the twelfth of twenty Kafka kills at 12.5 commands/s; the broker answered all along). A member
without its group's coordinator while Kafka answers is normal for the few seconds a restarted broker takes to
load its groups, never for long. `GroupWatch` halts the consumer past that (`GROUP_PATIENCE_SECONDS` of the
broker answering), so the process stops and is started again (make run's supervisor, Kubernetes), and its
new member joins the group.

The stall seen had one cause, now handled (`kafka_connections.py`: uvloop's error on a write to a closed
connection ended the member's metadata task); the watch stays for any other way a member stops for good, and
its log says where each of aiokafka's tasks waits, and how the member's metadata task ended, if it did.

The coordinator is read from aiokafka's private `_coordinator` (pinned in pyproject.toml); a test against a
real broker (`tests/integration/test_group_watch.py`) fails if an upgrade moves it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from services.chassis.runtime.pacing import sleep_unless

log = logging.getLogger(__name__)

GROUP_PATIENCE_SECONDS = 20.0  # a restarted broker names its groups' coordinator within a few seconds
LOOK_EVERY_SECONDS = 1.0


class GroupStalledError(RuntimeError):
    """The consumer's member went without its group's coordinator too long while the broker answered."""


def coordinator_known(member: Any) -> bool:
    """Whether the aiokafka consumer `member` knows its group's coordinator (one with partitions assigned by
    hand, and no group, has nothing to know)."""
    coordinator = getattr(member, "_coordinator", None)
    return coordinator is None or getattr(coordinator, "coordinator_id", None) is not None


class GroupWatch:
    def __init__(
        self,
        group: str,
        member: Callable[[], Any],
        broker_answers: Callable[[], Awaitable[bool]],
        on_stall: Callable[[BaseException], None],
        *,
        patience: float = GROUP_PATIENCE_SECONDS,
        every: float = LOOK_EVERY_SECONDS,
    ) -> None:
        """`member`: the consumer's current aiokafka consumer (None before it starts); `broker_answers`: whether
        Kafka answers now (only then does the time without a coordinator count); `on_stall`: halts the consumer."""
        self.group = group
        self.member = member
        self.broker_answers = broker_answers
        self.on_stall = on_stall
        self.patience = patience
        self.every = every

    async def run(self, stopping: asyncio.Event) -> None:
        """Look every `every` seconds until the process stops (a runtime worker: it never ends before)."""
        alone_since: float | None = None
        while True:
            await sleep_unless(stopping, self.every)
            if stopping.is_set():
                return
            member = self.member()
            if member is None or coordinator_known(member) or not await self._answers():
                alone_since = None
                continue
            now = time.monotonic()
            alone_since = alone_since if alone_since is not None else now
            if now - alone_since >= self.patience:
                log.error("%s: its member has had no coordinator for %.0f s; aiokafka's tasks:\n%s", self.group,
                          now - alone_since, _kafka_tasks(member))  # fmt: skip
                self.on_stall(
                    GroupStalledError(
                        f"{self.group}: no coordinator of its group for {now - alone_since:.0f} s while Kafka"
                        " answered; stopping so that a new member joins"
                    )
                )
                await stopping.wait()
                return

    async def _answers(self) -> bool:
        try:
            return await self.broker_answers()
        except Exception:  # noqa: BLE001 - an error is a "no"
            return False


def _kafka_tasks(member: Any) -> str:
    """Where each of aiokafka's tasks waits, down its chain of awaits (a task's own stack shows only its top
    frame), and how the member's metadata task ended if it did: what the log of a stall needs to tell where the
    member stopped."""
    lines = []
    synchronizer = getattr(getattr(member, "_client", None), "_sync_task", None)
    if isinstance(synchronizer, asyncio.Task) and synchronizer.done():
        ended = "cancelled" if synchronizer.cancelled() else repr(synchronizer.exception())
        lines.append(f"the member's metadata task ended: {ended}")
        if not synchronizer.cancelled() and (error := synchronizer.exception()) is not None:
            lines.append("".join(traceback.format_exception(error)))
    for task in asyncio.all_tasks():
        chain: list[str] = []
        awaited: Any = task.get_coro()
        while awaited is not None and (
            frame := getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        ):
            chain.append(f"{frame.f_code.co_qualname} ({frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno})")
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
        if chain and "aiokafka" in repr(getattr(task.get_coro(), "cr_code", "")):
            lines.append(" -> ".join(chain))
    return "\n".join(sorted(lines))
