"""Stored events encoded as eventsourcing's JSON transcoder encodes them, byte for byte, at less cost.

`JSONEncoder.encode` sets up a new C encoder (and a float formatter) at every call, then calls back into Python
for every datetime and UUID through two methods; the SLA service encodes every clock event it records so (a
fifth of its scheduler's CPU under load was JSON encoding). `QuickJSONTranscoder` builds its C encoder once and
calls back through one function. What it writes is what `JSONTranscoder` writes (same separators, no ASCII
escaping, the same `{"_type_", "_data_"}` of each registered transcoding), and it decodes as that one does.
"""

from __future__ import annotations

import json.encoder
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError

QUICK_TRANSCODER = f"{__name__}:QuickJSONTranscoder"  # eventsourcing's TRANSCODER_TOPIC
_make_encoder: Callable[..., Callable[[Any, int], Any]] | None = getattr(json.encoder, "c_make_encoder", None)


class QuickJSONTranscoder(JSONTranscoder):
    def __init__(self) -> None:
        super().__init__()
        self._chunks: Callable[[Any, int], Any] | None = None
        if _make_encoder is not None:
            # As JSONEncoder(default=..., separators=(",", ":"), ensure_ascii=False) sets it up for each call, but
            # without the circular-reference markers (an event's state is a tree), which makes it reusable
            # by any thread: (markers, default, encoder, indent, key and item separators, sort_keys, skipkeys,
            # allow_nan).
            self._chunks = _make_encoder(
                None, self._default, json.encoder.encode_basestring, None, ":", ",", False, False, True
            )

    def encode(self, obj: Any) -> bytes:
        if self._chunks is None:
            return super().encode(obj)
        return "".join(self._chunks(obj, 0)).encode("utf8")

    def _default(self, o: Any) -> dict[str, Any]:
        transcoding = self.types.get(type(o))
        if transcoding is None:
            raise TranscodingNotRegisteredError(
                f"Object of type {type(o)} is not serializable. Please define and register a custom transcoding"
                " for this type."
            )
        return {"_type_": transcoding.name, "_data_": transcoding.encode(o)}
