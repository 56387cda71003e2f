"""The activation server's offline IP geolocation: a small table of real allocated ranges.

Only the countries the policies and scenarios involve, a few ranges each, taken from the regional
registries' delegations (national incumbents). Loopback, private and unlisted addresses are
unknown, so the IP signal then cannot place the device. Crimea has a range of its own (ISPs that
serve the peninsula), because IP is one of the two signals that can find Crimea at all.
"""

from __future__ import annotations

import ipaddress

from emulators.virtual.firmware.territory import Territory

# (network, ISO, region)
IP_RANGES: tuple[tuple[str, str, str], ...] = (
    ("152.206.0.0/15", "CU", ""), ("169.158.0.0/16", "CU", ""), ("181.225.224.0/19", "CU", ""),
    ("2.176.0.0/12", "IR", ""), ("5.160.0.0/14", "IR", ""), ("91.98.0.0/15", "IR", ""),
    ("175.45.176.0/22", "KP", ""),
    ("82.137.192.0/18", "SY", ""), ("31.9.0.0/16", "SY", ""),
    ("41.95.0.0/16", "SD", ""), ("196.29.160.0/19", "SD", ""),
    ("41.223.116.0/22", "SS", ""),
    ("91.207.56.0/21", "UA", "crimea"), ("176.104.32.0/19", "UA", "crimea"),
    ("93.72.0.0/13", "UA", ""), ("176.36.0.0/14", "UA", ""),
    ("77.88.0.0/18", "RU", ""), ("95.108.128.0/17", "RU", ""),
    ("80.58.0.0/16", "ES", ""), ("88.0.0.0/11", "ES", ""),
    ("8.8.8.0/24", "US", ""), ("3.0.0.0/9", "US", ""),
    ("114.114.114.0/24", "CN", ""), ("223.5.5.0/24", "CN", ""),
)

_NETWORKS = tuple((ipaddress.ip_network(net), Territory(iso, region)) for net, iso, region in IP_RANGES)


def territory_of_ip(address: str) -> Territory | None:
    """The territory of an IPv4/IPv6 address, or None (loopback, private, unlisted, malformed)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    for network, territory in _NETWORKS:
        if ip.version == network.version and ip in network:
            return territory
    return None


def client_address(peer: str, forwarded_for: str | None) -> str:
    """The address to geolocate: the first X-Forwarded-For hop when a proxy added one."""
    if forwarded_for:
        first = forwarded_for.split(",")[0].strip()
        if first:
            return first
    return peer
