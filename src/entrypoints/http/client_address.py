"""Who is calling, by network address: the peer, or what trusted proxies say it is."""

import ipaddress
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection

__all__ = ("TrustedProxies",)

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(raw: str | None) -> _Address | None:
    try:
        address = ipaddress.ip_address((raw or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    """The reverse proxies whose ``X-Forwarded-For`` is believed (from settings; none by
    default, so a caller cannot claim another address)."""

    networks: tuple[_Network, ...] = ()

    @classmethod
    def parse(cls, networks: tuple[str, ...] | None) -> "TrustedProxies":
        return cls(tuple(ipaddress.ip_network(n, strict=False) for n in networks or ()))

    def _trusted(self, address: _Address) -> bool:
        return any(address in network for network in self.networks)

    def client_of(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
        """The caller's address as a key for per-client limits: an IPv6 address by its /64
        (one subscriber's block), ``None`` when the peer is no IP address (a unix socket).

        From a trusted proxy, ``X-Forwarded-For`` is read from the right: the first address
        that is not itself a trusted proxy is the client.
        """
        address = _address(connection.client.host if connection.client else None)
        if address is None:
            return None
        if self._trusted(address):
            hops = ",".join(connection.headers.getall("x-forwarded-for", [])).split(",")
            for hop in reversed([h for h in hops if h.strip()]):
                forwarded = _address(hop)
                if forwarded is None:
                    break
                address = forwarded
                if not self._trusted(forwarded):
                    break
        if isinstance(address, ipaddress.IPv6Address):
            return str(ipaddress.IPv6Network((address, 64), strict=False))
        return str(address)
