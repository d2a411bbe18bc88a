"""Reading a service's HTTP event feed: the source of truth to rebuild or catch up from."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from schemas.envelope import Envelope


def read_feed(base_url: str, after: int = 0, page_size: int = 500) -> Iterator[Envelope]:
    """Every public event after store position `after`, in store order."""
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        while True:
            response = client.get("/v1/events", params={"after": after, "limit": page_size})
            response.raise_for_status()
            page = response.json()
            for raw in page["events"]:
                yield Envelope.model_validate(raw)
            if page["next_after"] == after:
                return
            after = page["next_after"]
