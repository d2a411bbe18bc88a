"""aiokafka's connections under uvloop: a write to a connection closed under it fails as a broken connection.

Every service runs on uvloop (uvicorn picks it). Writing to a transport that closed under it raises
`RuntimeError: unable to perform operation on <TCPTransport closed=True ...>; the handler is closed` there,
where asyncio's own transport drops the bytes and lets the read side report the close. aiokafka 0.14 catches
only `OSError` around its write (aio-libs/aiokafka#1038, open), so after a broker's SIGKILL the error escaped:

- from a metadata request, it ended the client's metadata task for good, and every later metadata refresh
  waited forever: the group member never found its coordinator again, and the consumer took nothing while its
  process answered ready (the webhooks' consumer, from the 12th of 20 Kafka kills at 12.5 commands/s on
  2026-12-07, then 3 of the first 12 kills of the next run; `group_watch.py` logged the task's end);
- from a heartbeat or a commit, it ended the group's coordination (`consumer.py` `_fetch` halts on that).

`install()` makes such a write fail as a write to a broken connection fails in aiokafka: the connection is
closed and the request raises `KafkaConnectionError`, which each caller already handles (the metadata task
tries the next refresh, the coordinator looks for its coordinator again) on a new connection.
"""

from __future__ import annotations

import functools
from typing import Any

from aiokafka.conn import AIOKafkaConnection, CloseReason
from aiokafka.errors import KafkaConnectionError

_INSTALLED = "_servicedesk_broken_writes"


def install() -> None:
    """Patch aiokafka's connection once per process (idempotent)."""
    original = AIOKafkaConnection.send
    if getattr(original, _INSTALLED, False):
        return

    @functools.wraps(original)
    def send(self: Any, request: Any, expect_response: bool = True) -> Any:
        writer = self._writer
        try:
            return original(self, request, expect_response=expect_response)
        except RuntimeError as error:
            if writer is None or not writer.transport.is_closing():
                raise  # not a write to a closed connection: aiokafka's own error
            self.close(reason=CloseReason.CONNECTION_BROKEN, exc=error)
            raise KafkaConnectionError(f"Connection at {self._host}:{self._port} broken: {error}") from error

    setattr(send, _INSTALLED, True)
    AIOKafkaConnection.send = send
