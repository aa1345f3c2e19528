"""Where a webhook may point: https to a globally routable address, checked again before each
attempt, and the attempt connects to exactly the address checked (a name may resolve elsewhere
a moment later: DNS rebinding)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.problems import InvalidInput

Resolver = Callable[[str], list[str]]


def resolve(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


# IPv6 forms that carry an IPv4 address in their last 32 bits, which Python calls global
# whatever that address is: NAT64's well-known prefix, and the old IPv4-compatible form.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# NAT64 for local use (RFC 8215): never a public destination, and where the IPv4 address sits
# depends on the prefix length the network chose, so it is refused whole.
LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def _inner_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, Teredo, NAT64, compatible)."""
    inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
    if inner is None and (ip in NAT64 or (ip in IPV4_COMPATIBLE and int(ip) > 1)):  # not ::1
        inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return inner


def _forbidden(address: str, allow_loopback: bool) -> bool:
    """Anything not globally routable: private, shared (100.64.0.0/10, carrier NAT), link-local
    (cloud metadata), reserved, documentation ranges, and IPv4 hidden in IPv6 forms."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in LOCAL_NAT64:
            return True
        ip = _inner_ipv4(ip) or ip
    if ip.is_loopback:
        return not allow_loopback
    return not ip.is_global or ip.is_multicast


@dataclass(frozen=True)
class Destination:
    """Where one attempt goes: the URL with the vetted address in place of the name, and the
    name kept for TLS (SNI and certificate) and the Host header."""

    url: str
    connect_url: str
    host: str
    host_header: str


def check_destination(
    url: str, allow_loopback_http: bool, resolver: Resolver = resolve
) -> Destination:
    """Vet the URL and pin the attempt to the address that was vetted (raises InvalidInput)."""
    pinned: list[str] = []
    check_url(url, allow_loopback_http, resolver, pinned)
    parts = urlsplit(url)
    host = parts.hostname or ""
    address = pinned[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    return Destination(
        url=url,
        connect_url=parts._replace(netloc=netloc).geturl(),
        host=host,
        host_header=parts.netloc.rpartition("@")[2],
    )


def check_url(
    url: str,
    allow_loopback_http: bool,
    resolver: Resolver = resolve,
    vetted: list[str] | None = None,
) -> str:
    """Return the URL if deliveries may go there, else raise InvalidInput (field url);
    `vetted` receives the addresses that were checked."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host or parts.username or parts.password:
        raise InvalidInput("give a full https URL without credentials", field="url")
    try:
        addresses = resolver(host)
    except (OSError, UnicodeError) as exc:
        raise InvalidInput("this host name does not resolve", field="url") from exc
    loopback_only = bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)
    if parts.scheme != "https" and not (
        parts.scheme == "http" and allow_loopback_http and loopback_only
    ):
        raise InvalidInput("webhook URLs must use https", field="url")
    if not addresses or any(_forbidden(a, allow_loopback_http) for a in addresses):
        raise InvalidInput("webhook URLs must point to a public address", field="url")
    if vetted is not None:
        vetted.extend(addresses)
    return url
