"""Where webhooks may point: public https only, unless local development allows loopback."""

from __future__ import annotations

import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.gateway.webhooks import signing
from services.gateway.webhooks.urls import check_destination, check_url
from shared.problems import InvalidInput


def resolver(table: dict[str, list[str]]):
    def resolve(host: str) -> list[str]:
        if host in table:
            return table[host]
        raise OSError("no such host")

    return resolve


DNS = resolver({
    "example.org": ["93.184.216.34"], "localhost": ["127.0.0.1"],
    "rebind.example": ["93.184.216.34", "10.1.2.3"], "inside.example": ["192.168.1.20"],
    "10.0.0.1": ["10.0.0.1"], "169.254.169.254": ["169.254.169.254"], "127.0.0.1": ["127.0.0.1"],
})  # fmt: skip


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "https://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "https://169.254.169.254/latest/meta-data",
        "http://localhost/hook",
        "https://localhost/hook",
        "https://inside.example/hook",  # a name that resolves to a private address
        "https://rebind.example/hook",  # one of its addresses is private
        "http://example.org/hook",  # not https
        "https://nowhere.invalid/hook",
    ],
)
def test_refused_destinations(url):
    with pytest.raises(InvalidInput):
        check_url(url, allow_loopback_http=False, resolver=DNS)


def test_public_https_is_fine_and_loopback_http_only_when_allowed():
    assert check_url("https://example.org/hook", False, DNS)
    assert check_url("http://127.0.0.1:8080/hook", True, DNS)
    with pytest.raises(InvalidInput):
        check_url("http://127.0.0.1:8080/hook", False, DNS)
    with pytest.raises(InvalidInput):
        check_url("http://10.0.0.1/hook", True, DNS)  # allowing loopback allows nothing else


def test_signatures_follow_standard_webhooks():
    secret = signing.new_secret()
    body = b'{"id": "e1"}'
    now = int(time.time())
    headers = signing.headers(secret, "e1", now, body)
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == {"id": "e1"}
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)


@pytest.mark.parametrize(
    "address",
    ["100.64.0.1", "100.127.255.254", "192.0.2.10", "198.18.0.1", "::ffff:10.0.0.1",
     "2002:a00:1::1", "fc00::1", "224.0.0.1",
     # NAT64 to 10.0.0.1, 169.254.169.254 (cloud metadata) and 127.0.0.1
     "64:ff9b::a00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1",
     "64:ff9b:1::808:808", "64:ff9b:1:a00:1::",  # local-use NAT64, whatever it carries
     "::a00:1", "::a9fe:a9fe", "::7f00:1", "::",  # IPv4-compatible, and unspecified
     "2002:6440:1::1"],  # 6to4 around 100.64.0.1
)  # fmt: skip
def test_no_address_that_is_not_globally_routable_is_a_destination(address: str) -> None:
    with pytest.raises(InvalidInput):
        check_url("https://hooks.example/in", False, resolver({"hooks.example": [address]}))


@pytest.mark.parametrize(
    "address", ["64:ff9b::5db8:d822", "::ffff:93.184.216.34", "2002:5db8:d822::1"]
)
def test_a_public_ipv4_address_inside_ipv6_is_a_destination(address: str) -> None:
    # 93.184.216.34, behind NAT64, mapped, and 6to4: judged by the IPv4 address they carry.
    assert check_url("https://hooks.example/in", False, resolver({"hooks.example": [address]}))


def test_an_attempt_is_pinned_to_the_vetted_address_with_the_name_kept() -> None:
    to = check_destination(
        "https://hooks.example:8443/in?x=1", False, resolver({"hooks.example": ["93.184.216.34"]})
    )
    assert to.connect_url == "https://93.184.216.34:8443/in?x=1"
    assert (to.host, to.host_header) == ("hooks.example", "hooks.example:8443")
