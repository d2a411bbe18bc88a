"""A webhook target is refused when it leads inside the desk's network, also through an IPv6
address that carries an internal IPv4 one (NAT64, 6to4, Teredo, mapped, IPv4-compatible)."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from services.intake.webhooks.global_address import is_global
from services.intake.webhooks.subscriptions import WebhookError, check_target, global_addresses

INSIDE = [
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254, the cloud's metadata service
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b:1::a9fe:a9fe",  # the operator's own NAT64 prefix
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:a9fe:a9fe",
    "::7f00:1",  # IPv4-compatible 127.0.0.1
]
OUTSIDE = ["64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8", "2606:4700::1111", "8.8.8.8"]


@pytest.mark.parametrize("address", INSIDE)
def test_a_webhook_to_an_ipv6_address_carrying_an_internal_ipv4_one_is_refused(address: str) -> None:
    assert not is_global(ip_address(address))
    with pytest.raises(WebhookError, match="an internal address"):
        global_addresses(address, 443)
    with pytest.raises(WebhookError):
        check_target(f"https://[{address}]/hook", allow_private=False)


@pytest.mark.parametrize("address", OUTSIDE)
def test_a_webhook_to_an_address_carrying_a_public_ipv4_one_is_taken(address: str) -> None:
    assert is_global(ip_address(address))
    assert global_addresses(address, 443) == [ip_address(address)]


def test_an_admin_who_allows_private_targets_may_still_name_them() -> None:
    check_target("https://[64:ff9b::a9fe:a9fe]/hook", allow_private=True)
