"""Which media URLs archive may fetch, and the connection that enforces it (DESIGN §6).

The decision (`UrlPolicy`) is pure and takes an injectable resolver, so that every class of address can be
tested without connecting to it. The enforcement (`open_pool`) resolves inside the connection itself and
connects to the very address it vetted: there is no second lookup an attacker's DNS could answer
differently (DNS rebinding). TLS still verifies the certificate against the host name (SNI), not the IP.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote, urlsplit

from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from suno_callbacks.errors import PermanentMediaError, TransientMediaError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

# Refusal reasons, recorded on the asset and used as a metric dimension: keep them few and stable.
INVALID_URL = "invalid_url"
SCHEME_NOT_ALLOWED = "scheme_not_allowed"
HOST_NOT_ALLOWED = "host_not_allowed"
ADDRESS_NOT_PUBLIC = "address_not_public"

# Cloud metadata and link services. Most are already non-global; listed so that a change in Python's
# address tables can never let one through.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure instance metadata
        "169.254.170.2",  # ECS task metadata and credentials
        "169.254.169.123",  # Amazon Time Sync
        "169.254.169.253",  # Amazon DNS
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "fd00:ec2::254",  # AWS metadata over IPv6
        "fd00:ec2::123",
        "fd00:ec2::253",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Ranges that are not globally reachable but that some Python versions' tables call global: DS-Lite and
# the dummy address (192.0.0.0/29, 192.0.0.8), IPv4-compatible (::/96, deprecated) and IPv4-translated
# (SIIT) IPv6, the local-use NAT64 prefix (RFC 8215), documentation (3fff::/20) and SRv6 SIDs (5f00::/16).
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(n)
    for n in (
        "192.0.0.0/29",
        "192.0.0.8/32",
        "::/96",
        "::ffff:0:0:0/96",
        "64:ff9b:1::/48",
        "3fff::/20",
        "5f00::/16",
    )
)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver returns for `host`, IPv4 and IPv6 alike."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: IPAddress) -> bool:
    """A globally routable unicast address, looking through IPv6 forms that embed an IPv4 address."""
    if address in METADATA_ADDRESSES or any(address in network for network in _NOT_GLOBAL):
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour]
        if address.teredo:
            embedded.extend(address.teredo)
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if any(v4 is not None and not is_public(v4) for v4 in embedded):
            return False
        if address.ipv4_mapped is not None:
            return True  # a public IPv4 address written the IPv6 way
        if address.is_site_local:
            return False
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class Target:
    """A URL the policy accepted, split into what the connection needs."""

    url: str
    scheme: str
    host: str
    port: int
    request_path: str
    local: bool


@dataclass(frozen=True)
class UrlPolicy:
    """https only, host on the allow-list, every resolved address public.

    `local_hosts` (tests and local mode only) may use plain http and resolve to loopback.
    A host matches an allow-list entry when it is the entry or one of its subdomains.
    """

    allowed_hosts: tuple[str, ...]
    local_hosts: tuple[str, ...] = ()
    resolver: Resolver = system_resolver

    def check_url(self, url: str) -> Target:
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise PermanentMediaError(INVALID_URL) from None
        host = (parts.hostname or "").rstrip(".")
        if not host or parts.username is not None or parts.password is not None:
            raise PermanentMediaError(INVALID_URL)
        scheme = parts.scheme.lower()
        local = host in self.local_hosts
        if scheme != "https" and not (local and scheme == "http"):
            raise PermanentMediaError(SCHEME_NOT_ALLOWED)
        if not local and not any(host == h or host.endswith("." + h) for h in self.allowed_hosts):
            raise PermanentMediaError(HOST_NOT_ALLOWED)
        # Provider URLs can hold spaces ("_Lead Vocal.mp3"); existing %-escapes are kept as they are.
        path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
        query = quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
        return Target(
            url=url,
            scheme=scheme,
            host=host,
            port=port or (443 if scheme == "https" else 80),
            request_path=path + (f"?{query}" if query else ""),
            local=local,
        )

    def vet_addresses(self, target: Target) -> list[IPAddress]:
        """Resolve the target's host and return its addresses, refusing all if any one is not public."""
        try:
            resolved = self.resolver(target.host, target.port)
        except OSError as error:
            raise TransientMediaError(f"cannot resolve {target.host}: {error}") from error
        if not resolved:
            raise TransientMediaError(f"{target.host} resolved to no address")
        addresses: list[IPAddress] = []
        for text in resolved:
            try:
                address = ipaddress.ip_address(text.split("%", 1)[0])
            except ValueError:
                raise PermanentMediaError(ADDRESS_NOT_PUBLIC) from None
            if not (is_public(address) or (target.local and address.is_loopback)):
                raise PermanentMediaError(ADDRESS_NOT_PUBLIC)
            addresses.append(address)
        return addresses


AddressVetter = Callable[[], list[IPAddress]]


class _VettedConnectionMixin:
    """Replaces urllib3's resolve-and-connect with: vet every address, connect only to vetted ones."""

    host: str
    port: int
    timeout: Any
    socket_options: Any

    def __init__(self, *args: Any, address_vetter: AddressVetter, **kwargs: Any) -> None:
        self._address_vetter = address_vetter
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        last_error: OSError | None = None
        for address in self._address_vetter():
            family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                sock.settimeout(self.timeout)
                sock.connect((str(address), self.port))
            except TimeoutError as error:
                sock.close()
                raise ConnectTimeoutError(
                    cast(HTTPConnection, self), f"connect to {self.host} timed out"
                ) from error
            except OSError as error:
                sock.close()
                last_error = error
            else:
                return sock
        raise NewConnectionError(cast(HTTPConnection, self), f"cannot connect to {self.host}: {last_error}")


class _VettedHTTPConnection(_VettedConnectionMixin, HTTPConnection):
    pass


class _VettedHTTPSConnection(_VettedConnectionMixin, HTTPSConnection):
    pass


class _VettedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _VettedHTTPConnection


class _VettedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _VettedHTTPSConnection


def open_pool(
    policy: UrlPolicy, target: Target, *, ca_certs: str | None = None
) -> HTTPConnectionPool | HTTPSConnectionPool:
    """A one-connection pool to `target` whose connections vet their addresses when they connect."""

    def vetter() -> list[IPAddress]:
        return policy.vet_addresses(target)

    if target.scheme == "https":
        return _VettedHTTPSConnectionPool(
            target.host,
            target.port,
            maxsize=1,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_certs,
            address_vetter=vetter,
        )
    return _VettedHTTPConnectionPool(
        target.host, target.port, maxsize=1, retries=False, address_vetter=vetter
    )
