"""A tenant's webhook subscriptions, event-sourced: where to deliver which events, signed with
which secret, active or disabled (and why), and whether private networks may be targets.

A target URL that resolves to a loopback, link-local, private or otherwise internal
address is refused (no server-side request forgery) unless the tenant's admin allowed
private targets; the deliverer checks again on each connection it opens, and connects to
the addresses it checked (transport.py), so a name that later resolves inward, even
between the check and the connection (DNS rebinding), is refused then too.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import socket
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from services.chassis.runtime.errors import CommandRefusedError, UnknownThingError
from services.chassis.storage.ids import stable_uuid
from services.intake.webhooks.global_address import is_global


class WebhookError(CommandRefusedError):
    """A webhook command refused; `field` names the input at fault."""


class UnknownWebhookError(WebhookError, UnknownThingError):
    pass


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_target(url: str, allow_private: bool) -> None:
    """Refuse a URL that is not http(s), or that resolves to an internal address (unless allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("the URL must be http or https, with a host", "url")
    if not allow_private:
        global_addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


def global_addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """`host`'s addresses, resolved once; refused when any of them is internal."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise WebhookError(f"{host!r} does not resolve", "url") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    for address in addresses:
        if not is_global(address):
            raise WebhookError(
                f"{host!r} resolves to {address}, an internal address: refused unless the tenant's admin"
                " allows private targets",
                "url",
            )
    if not addresses:
        raise WebhookError(f"{host!r} does not resolve", "url")
    return addresses


class Webhooks(Aggregate):
    """One tenant's subscriptions."""

    @staticmethod
    def create_id(tenant: str) -> UUID:
        return stable_uuid("webhooks", tenant)

    @event("Started")
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.allow_private = False

    def subscribe(self, url: str, types: list[str], active: bool = True, by: str = "") -> str:
        check_target(url, self.allow_private)
        subscription_id = str(uuid4())
        self._subscribed(
            subscription_id=subscription_id, url=url, types=sorted(set(types)), secret=new_secret(), active=active,
            by=by,
        )  # fmt: skip
        return subscription_id

    # `by` (the admin who did it) joined these events later: recorded ones without it read as "".
    @event("Subscribed")
    def _subscribed(
        self, subscription_id: str, url: str, types: list[str], secret: str, active: bool, by: str = ""
    ) -> None:
        spec = {"url": url, "types": types, "secret": secret, "active": active, "disabled_reason": None, "failures": 0,
                "created_by": by}  # fmt: skip
        self.subscriptions = self.subscriptions | {subscription_id: spec}

    def change(
        self, subscription_id: str, url: str | None, types: list[str] | None, active: bool | None, by: str = ""
    ) -> None:
        current = self.subscription(subscription_id)
        if url is not None:
            check_target(url, self.allow_private)
        changes = {"url": url, "types": sorted(set(types)) if types is not None else None, "active": active}
        changes = {k: v for k, v in changes.items() if v is not None and current[k] != v}
        if changes:
            self._changed(subscription_id=subscription_id, changes=changes, by=by)

    @event("Changed")
    def _changed(self, subscription_id: str, changes: dict[str, Any], by: str = "") -> None:
        spec = self.subscriptions[subscription_id] | changes
        if changes.get("active"):
            spec |= {"disabled_reason": None, "failures": 0}
        self.subscriptions = self.subscriptions | {subscription_id: spec}

    def remove(self, subscription_id: str, by: str = "") -> None:
        self.subscription(subscription_id)
        self._removed(subscription_id=subscription_id, by=by)

    @event("Removed")
    def _removed(self, subscription_id: str, by: str = "") -> None:
        self.subscriptions = {k: v for k, v in self.subscriptions.items() if k != subscription_id}

    def allow_private_targets(self, allowed: bool, by: str = "") -> None:
        if allowed != self.allow_private:
            self._private_targets_allowed(allowed=allowed, by=by)

    @event("PrivateTargetsAllowed")
    def _private_targets_allowed(self, allowed: bool, by: str = "") -> None:
        self.allow_private = allowed

    def delivery_failed(self, subscription_id: str, reason: str, disable_after: int) -> None:
        """A delivery ran out of retries; after `disable_after` such in a row the subscription is disabled."""
        spec = self.subscriptions.get(subscription_id)
        if spec is None or not spec["active"]:
            return
        self._delivery_failed(subscription_id=subscription_id)
        if self.subscriptions[subscription_id]["failures"] >= disable_after:
            self._disabled(
                subscription_id=subscription_id,
                reason=f"{disable_after} deliveries in a row failed; the last: {reason}",
            )

    @event("DeliveryFailed")
    def _delivery_failed(self, subscription_id: str) -> None:
        spec = self.subscriptions[subscription_id]
        self.subscriptions = self.subscriptions | {subscription_id: spec | {"failures": spec["failures"] + 1}}

    @event("Disabled")
    def _disabled(self, subscription_id: str, reason: str) -> None:
        spec = self.subscriptions[subscription_id] | {"active": False, "disabled_reason": reason}
        self.subscriptions = self.subscriptions | {subscription_id: spec}

    def delivered(self, subscription_id: str) -> None:
        spec = self.subscriptions.get(subscription_id)
        if spec is not None and spec["failures"]:
            self._recovered(subscription_id=subscription_id)

    @event("Recovered")
    def _recovered(self, subscription_id: str) -> None:
        self.subscriptions = self.subscriptions | {
            subscription_id: self.subscriptions[subscription_id] | {"failures": 0}
        }

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        try:
            return self.subscriptions[subscription_id]
        except KeyError:
            raise UnknownWebhookError(f"no webhook {subscription_id}", "webhook_id") from None

    def matching(self, event_type: str) -> dict[str, dict[str, Any]]:
        """The active subscriptions that want `event_type` (no types: every event)."""
        return {
            k: v for k, v in self.subscriptions.items() if v["active"] and (not v["types"] or event_type in v["types"])
        }
