"""Webhook subscriptions through the gateway: `/v1/webhooks`."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from services.chassis.http.auth import Role
from services.chassis.http.identity import CurrentIdentity, requires
from services.chassis.http.request_keys import IdempotencyKey, scoped
from services.chassis.storage.idempotency import KeyedRequest
from services.chassis.storage.keyed_commands import commit_once
from services.chassis.storage.processing import commit
from services.intake.tickets.application import Intake
from services.intake.webhooks.delivery import Deliveries
from services.intake.webhooks.subscriptions import UnknownWebhookError, Webhooks

EventType = Annotated[str, Field(pattern=r"^[a-z]+(\.[a-z_]+)+$")]


class NewWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000)
    types: list[EventType] = Field(default_factory=list, description="Event types to deliver; empty: every one.")
    active: bool = True


class WebhookChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, min_length=8, max_length=2000)
    types: list[EventType] | None = None
    active: bool | None = Field(None, description="`true` re-enables a disabled subscription.")


class PrivateTargets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allow_private_network: bool = Field(description="Allow loopback, link-local and private addresses as targets.")


def _view(subscription_id: str, spec: dict[str, Any], secret: bool = False) -> dict[str, Any]:
    shown = {k: v for k, v in spec.items() if k != "secret"}
    return {"id": subscription_id} | shown | ({"secret": spec["secret"]} if secret else {})


def router(intake: Intake, deliveries: Deliveries) -> APIRouter:
    api = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], dependencies=[requires(Role.ADMIN)])

    def change(tenant: str, command: Any) -> Webhooks:
        result: list[Webhooks] = []

        def decide() -> list[Any]:
            hooks = deliveries.webhooks(tenant) or Webhooks(tenant)
            result[:] = [hooks]
            command(hooks)
            return [hooks]

        commit(intake, decide)
        return result[0]

    def subscribed(tenant: str, body: NewWebhook, by: str, keyed: KeyedRequest | None) -> tuple[str, bool]:
        def decide() -> tuple[list[Any], str]:
            hooks = deliveries.webhooks(tenant) or Webhooks(tenant)
            return [hooks], hooks.subscribe(body.url, body.types, body.active, by)

        return commit_once(intake, tenant, keyed and intake.as_stored(tenant, keyed), decide)

    @api.post("", status_code=201, responses={200: {"description": "Subscribed before with this Idempotency-Key."}})
    async def subscribe(
        body: NewWebhook, who: CurrentIdentity, keyed: IdempotencyKey, response: Response
    ) -> dict[str, Any]:
        """Subscribe a URL. The answer carries the signing secret, shown to its caller only (Standard Webhooks):
        a retry under the same `Idempotency-Key` is the subscription it made (200), secret and all."""
        made, created = await asyncio.to_thread(subscribed, who.tenant, body, who.actor, scoped(who, keyed))
        response.status_code = 201 if created else 200
        hooks = await asyncio.to_thread(deliveries.webhooks, who.tenant)
        if hooks is None:
            raise UnknownWebhookError(f"no webhook {made}", "webhook_id")
        return _view(made, hooks.subscription(made), secret=True)

    @api.get("")
    async def subscriptions(who: CurrentIdentity) -> dict[str, Any]:
        hooks = await asyncio.to_thread(deliveries.webhooks, who.tenant)
        items = hooks.subscriptions.items() if hooks else []
        return {
            "webhooks": [_view(k, v) for k, v in items],
            "allow_private_network": bool(hooks and hooks.allow_private),
        }

    @api.get("/{webhook_id}")
    async def subscription(webhook_id: UUID, who: CurrentIdentity) -> dict[str, Any]:
        hooks = await asyncio.to_thread(deliveries.webhooks, who.tenant)
        if hooks is None:
            raise UnknownWebhookError(f"no webhook {webhook_id}", "webhook_id")
        return _view(str(webhook_id), hooks.subscription(str(webhook_id)))

    @api.patch("/{webhook_id}")
    async def change_subscription(webhook_id: UUID, body: WebhookChange, who: CurrentIdentity) -> dict[str, Any]:
        hooks = await asyncio.to_thread(
            change, who.tenant, lambda h: h.change(str(webhook_id), body.url, body.types, body.active, who.actor)
        )
        return _view(str(webhook_id), hooks.subscription(str(webhook_id)))

    @api.delete("/{webhook_id}", status_code=204)
    async def unsubscribe(webhook_id: UUID, who: CurrentIdentity) -> Response:
        await asyncio.to_thread(change, who.tenant, lambda h: h.remove(str(webhook_id), who.actor))
        return Response(status_code=204)

    @api.put("/settings/private-network")
    async def private_targets(body: PrivateTargets, who: CurrentIdentity) -> dict[str, Any]:
        """The tenant admin's choice: may webhooks target private networks (e.g. an on-premises receiver)?"""
        hooks = await asyncio.to_thread(
            change, who.tenant, lambda h: h.allow_private_targets(body.allow_private_network, who.actor)
        )
        return {"allow_private_network": hooks.allow_private}

    @api.get("/{webhook_id}/deliveries")
    async def delivery_log(
        webhook_id: UUID, who: CurrentIdentity, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> dict[str, Any]:
        """Every delivery, newest first: status (pending, delivered, failed, cancelled), attempts, last answer."""
        await subscription(webhook_id, who)
        return {"deliveries": await asyncio.to_thread(deliveries.log, who.tenant, str(webhook_id), limit)}

    @api.post("/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=202)
    async def redeliver(webhook_id: UUID, delivery_id: UUID, who: CurrentIdentity) -> dict[str, Any]:
        """Send a delivery again (e.g. a failed one, once the receiver is fixed)."""
        if not await asyncio.to_thread(deliveries.redeliver, who.tenant, str(webhook_id), str(delivery_id)):
            raise UnknownWebhookError(f"no delivery {delivery_id} of webhook {webhook_id}", "delivery_id")
        return {"delivery_id": str(delivery_id), "status": "pending"}

    return api
