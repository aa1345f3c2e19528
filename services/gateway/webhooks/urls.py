"""Where a webhook may point: https to a public address, checked again before each attempt
(a name may resolve elsewhere later: DNS rebinding)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from shared.problems import InvalidInput

Resolver = Callable[[str], list[str]]


def resolve(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def _forbidden(address: str, allow_loopback: bool) -> bool:
    ip = ipaddress.ip_address(address)
    if ip.is_loopback:
        return not allow_loopback
    return (
        ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
        or ip.is_unspecified or address in ("169.254.169.254", "fd00:ec2::254")
    )  # fmt: skip


def check_url(url: str, allow_loopback_http: bool, resolver: Resolver = resolve) -> str:
    """Return the URL if deliveries may go there, else raise InvalidInput (field url)."""
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
    return url
