"""Which tracker servers partnerscope may call: public addresses only, unless an owner allows
a private one for a connection.

A self-hosted base URL is user input, and the worker calls it with a token: without this check
it could be pointed at the machine itself (127.0.0.1, the metadata service at 169.254.169.254)
or the internal network. The host is resolved and every address it resolves to must be global;
spellings such as ``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``[::ffff:127.0.0.1]`` or
``localhost.`` resolve to loopback and are refused like ``127.0.0.1``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import httpcore
import httpx


class UnsafeURL(ValueError):
    pass


def _addresses(host: str, port: int, resolve: Callable) -> list[ipaddress._BaseAddress]:
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURL(f"The host {host!r} cannot be resolved ({exc}).") from None
    found = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        found.append(address)
    if not found:
        raise UnsafeURL(f"The host {host!r} has no address.")
    return found


def check_url(url: str, *, allow_private: bool = False, resolve: Callable = socket.getaddrinfo) -> str:
    """Return the URL without a trailing slash, or raise UnsafeURL saying what is wrong."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UnsafeURL("This is not a valid address.") from None
    if parts.scheme not in ("https", "http"):
        raise UnsafeURL("The address must start with https://.")
    if parts.scheme == "http" and not allow_private:
        raise UnsafeURL("The address must use https:// (plain http only for an allowed private server).")
    if "@" in parts.netloc:
        raise UnsafeURL(
            "The address must not contain a user name or password; the token goes in its own field."
        )
    if not parts.hostname:
        raise UnsafeURL("The address has no host.")
    if parts.query or parts.fragment:
        raise UnsafeURL("The address must not have a query (?) or fragment (#).")
    if not allow_private:
        for address in _addresses(parts.hostname, port or (443 if parts.scheme == "https" else 80), resolve):
            if not address.is_global or address.is_multicast:
                raise UnsafeURL(
                    f"The host {parts.hostname!r} is on a private, loopback or link-local address "
                    f"({address}); an owner can allow a private server for this connection."
                )
    return url.strip().rstrip("/")


def same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to the address it has just checked, so a name that resolves to a public
    address for ``check_url`` and to 127.0.0.1 a moment later (DNS rebinding) cannot reach the
    machine or the private network. TLS still verifies the host name (SNI comes from the URL)."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = _addresses(host, port, socket.getaddrinfo)
        for address in addresses:
            if not address.is_global or address.is_multicast:
                raise UnsafeURL(
                    f"The host {host!r} now resolves to a private or loopback address ({address}); refused."
                )
        return super().connect_tcp(str(addresses[0]), port, timeout, local_address, socket_options)


def guarded_transport(allow_private: bool) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(trust_env=False)
    if not allow_private:
        # httpx has no public way to pass a network backend to its connection pool.
        transport._pool._network_backend = GuardedBackend()
    return transport
