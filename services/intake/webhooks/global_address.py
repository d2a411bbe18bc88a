"""Whether an address is out on the internet, including the IPv4 address an IPv6 one carries.

`ipaddress`'s `is_global` judges an IPv6 address by its own prefix only, so a NAT64 address
(`64:ff9b::a9fe:a9fe`), a 6to4 one (`2002:7f00:1::1`) or an IPv4-compatible one (`::127.0.0.1`)
counts as global although a translator or relay delivers it to the internal IPv4 address inside
it. Here such an address is global only when the IPv4 address it carries is too; the local-use
NAT64 prefix (`64:ff9b:1::/48`, RFC 8215), whose translator is the operator's own and whose
embedding varies with its prefix length, never is.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_network

_WELL_KNOWN_NAT64 = ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address in the last 32 bits
_IPV4_COMPATIBLE = ip_network("::/96")  # RFC 4291, deprecated: likewise
_LOCAL_NAT64 = ip_network("64:ff9b:1::/48")  # RFC 8215: the operator's own translator


def is_global(address: IPv4Address | IPv6Address) -> bool:
    """Whether `address`, and every IPv4 address embedded in it, is reachable on the internet only."""
    if not address.is_global:
        return False
    if isinstance(address, IPv4Address):
        return True
    if address in _LOCAL_NAT64:
        return False
    return all(embedded.is_global for embedded in embedded_ipv4(address))


def embedded_ipv4(address: IPv6Address) -> list[IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: mapped, 6to4, Teredo (server and client), NAT64
    and IPv4-compatible."""
    embedded = [found for found in (address.ipv4_mapped, address.sixtofour) if found is not None]
    if address.teredo is not None:
        embedded.extend(address.teredo)
    if address in _WELL_KNOWN_NAT64 or address in _IPV4_COMPATIBLE:
        embedded.append(IPv4Address(int(address) & 0xFFFFFFFF))
    return embedded
