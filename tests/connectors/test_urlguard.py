"""Self-hosted tracker addresses cannot reach the machine itself or the private network."""

from __future__ import annotations

import socket

import pytest

from partnerscope.evidence.connectors.urlguard import UnsafeURL, check_url

PUBLIC = "93.184.216.34"


def resolver(table: dict[str, str]):
    """getaddrinfo for names in ``table``; numeric spellings go to the real resolver (no network)."""

    def resolve(host, port, type=0):
        if host in table:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (table[host], port))]
        return socket.getaddrinfo(host, port, type=type)

    return resolve


REFUSED = [
    "https://127.0.0.1/",
    "https://127.1/",
    "https://2130706433/",  # decimal
    "https://0x7f000001/",  # hex
    "https://0177.0.0.1/",  # octal
    "https://0x7f.0.0.1/",
    "https://017700000001/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "https://[::ffff:7f00:1]/",
    "https://[0:0:0:0:0:ffff:127.0.0.1]/",
    "https://localhost/",
    "https://localhost./",
    "https://LOCALHOST/",
    "https://0.0.0.0/",
    "https://0/",
    "https://[::]/",
    "https://10.0.0.1/",
    "https://10.255.255.255:8443/",
    "https://172.16.0.1/",
    "https://172.31.255.254/",
    "https://192.168.1.10/",
    "https://169.254.169.254/latest/meta-data",  # cloud metadata
    "https://[fe80::1]/",
    "https://[fd00::1]/",
    "https://100.64.0.1/",  # carrier-grade NAT
    "https://198.18.0.1/",  # benchmarking
    "https://224.0.0.1/",  # multicast
    "https://internal.corp.test/",  # resolves to a private address
    "https://rebind.example.com/",  # one public, one loopback address: refused
]


@pytest.mark.parametrize("url", REFUSED)
def test_it_refuses_private_loopback_and_link_local_spellings(url):
    def resolve(host, port, type=0):
        if host == "internal.corp.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]
        if host == "rebind.example.com":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            ]
        return socket.getaddrinfo(host, port, type=type)

    with pytest.raises(UnsafeURL):
        check_url(url, resolve=resolve)


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://tracker.example.com/", "https://"),
        ("ftp://tracker.example.com/", "https://"),
        ("file:///etc/passwd", "https://"),
        ("https://user:pw@tracker.example.com/", "user name"),
        ("https://tracker.example.com@127.0.0.1/", "user name"),  # userinfo trick
        ("https://tracker.example.com/?next=x", "query"),
        ("https:///nohost", "no host"),
        ("https://tracker.example.com:99999/", "not a valid address"),
        ("https://unresolvable.invalid/", "cannot be resolved"),
    ],
)
def test_it_explains_what_is_wrong(url, message):
    with pytest.raises(UnsafeURL, match=message):
        check_url(url, resolve=resolver({"tracker.example.com": PUBLIC}))


def test_it_accepts_a_public_server_and_trims_the_slash():
    assert check_url("https://tracker.example.com/", resolve=resolver({"tracker.example.com": PUBLIC})) == (
        "https://tracker.example.com"
    )


def test_an_owner_may_allow_a_private_server_even_on_plain_http():
    assert check_url("http://10.0.0.5:8080", allow_private=True) == "http://10.0.0.5:8080"
    with pytest.raises(UnsafeURL):
        check_url("https://admin@10.0.0.5", allow_private=True)  # still no credentials in the URL


def test_a_name_that_rebinds_to_loopback_after_the_check_is_not_connected_to(monkeypatch):
    """DNS rebinding: public when checked, loopback when connecting."""
    from partnerscope.evidence.connectors import urlguard
    from partnerscope.evidence.connectors.http import Http, SourceError

    def check_resolver(host, port, type=0):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port))]

    real = socket.getaddrinfo
    monkeypatch.setattr(urlguard, "check_url", lambda url, allow_private=False, resolve=None: check_url(
        url, allow_private=allow_private, resolve=check_resolver))  # fmt: skip
    monkeypatch.setattr("partnerscope.evidence.connectors.http.check_url", urlguard.check_url)
    monkeypatch.setattr(
        socket, "getaddrinfo",
        lambda host, port, *a, **k: real("127.0.0.1", port, *a, **k) if host == "rebind.test" else real(host, port, *a, **k),
    )  # fmt: skip
    http = Http("https://rebind.test", {})
    with pytest.raises(SourceError, match="private or loopback"):
        http.request("GET", "/x")
