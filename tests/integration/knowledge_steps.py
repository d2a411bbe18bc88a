"""Steps the knowledge base's scenario and fault tests share: writing articles through the gateway,
and reading what the knowledge service published on its topic."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from schemas.envelope import Envelope
from schemas.topics import KNOWLEDGE_ARTICLES
from tests.harness import Desk
from tests.tokens import token

TENANT = "acme"


def person(roles: tuple[str, ...] = ("agent",), organisation: str | None = None, subject: str = "agent-7",
           tenant: str = TENANT) -> dict[str, str]:  # fmt: skip
    return {"Authorization": f"Bearer {token(tenant, subject, roles=roles, organisation=organisation)}"}


def write(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"language": "en", "title": "Printer does not print", "body": "Restart the printer."} | fields
    reply = client.post("/v1/kb/articles", json=body, headers=person())
    assert reply.status_code == 201, reply.text
    article: dict[str, Any] = reply.json()
    return article


def publish(client: httpx.Client, article_id: str) -> dict[str, Any]:
    reply = client.post(f"/v1/kb/articles/{article_id}/publish", headers=person())
    assert reply.status_code == 200, reply.text
    article: dict[str, Any] = reply.json()
    return article


def published(desk: Desk, idle_ms: int = 3000) -> list[Envelope]:
    """Everything on the desk's `knowledge.articles` topic now."""

    async def read() -> list[Envelope]:
        consumer = AIOKafkaConsumer(
            desk.settings.kafka_name(KNOWLEDGE_ARTICLES), bootstrap_servers=desk.settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest", enable_auto_commit=False, group_id=None,
        )  # fmt: skip
        await consumer.start()
        try:
            found: list[Envelope] = []
            while batches := await consumer.getmany(timeout_ms=idle_ms):
                for records in batches.values():
                    found += [Envelope.from_kafka(r.value, r.headers) for r in records]
            return found
        finally:
            await consumer.stop()

    return asyncio.run(read())
