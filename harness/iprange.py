"""IPv4 ranges per country, and picking an address a server would place in that country.

The harness needs this for the `ip` step on labs without real country-exit proxies: the virtual
backend's exit proxy (`harness.backends.exitproxy`) announces an address of the country in
`X-Forwarded-For`. The table is the harness's own (`harness/data/ip_ranges.yaml`, sourced from the
registries' public delegation data), never the device's: if the two disagree, a scenario fails and
someone looks at both.

`parse_table` is pure and validates (the key and the value named in every message); reading the
packaged file is `load_table`, cached, since the table never changes during a run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from ipaddress import IPv4Address, IPv4Network, ip_network
from itertools import pairwise
from typing import Any

import yaml

from harness.errors import HarnessError

TABLE_FILE = "ip_ranges.yaml"


class IpTableError(HarnessError):
    """The IP range table is malformed (the lab's configuration is wrong)."""


class UnknownCountry(HarnessError):
    """The table has no range for this country, so no address of it can be picked."""

    def __init__(self, country: str, known: list[str]) -> None:
        self.country = country
        self.known = known
        super().__init__(f"no IPv4 range for country {country!r} in the harness's IP table "
                         f"(known: {', '.join(known)})")


@dataclass(frozen=True)
class CountryRanges:
    country: str  # ISO 3166-1 alpha-2, upper case
    networks: tuple[IPv4Network, ...]  # the first one is the default pick


IpTable = dict[str, CountryRanges]


# --------------------------------------------------------------------------------------------
# Parsing and validation (pure)
# --------------------------------------------------------------------------------------------

def parse_table(raw: Any, source: str = TABLE_FILE) -> IpTable:
    """`{CC: [cidr, ...]}` -> table. Rejects non-public ranges and ranges claimed by two countries."""
    if not isinstance(raw, dict) or not raw:
        raise IpTableError(f"{source}: expected a mapping of country code to a list of CIDR ranges")
    table = {_validate_country(key, source): _validate_ranges(key, value, source) for key, value in raw.items()}
    _reject_overlaps(table, source)
    return table


def _validate_country(key: Any, source: str) -> str:
    if not (isinstance(key, str) and len(key) == 2 and key.isalpha() and key.isupper()):
        raise IpTableError(f"{source}: {key!r}: a country must be an upper-case ISO 3166-1 alpha-2 code")
    return key


def _validate_ranges(key: str, value: Any, source: str) -> CountryRanges:
    if not isinstance(value, list) or not value:
        raise IpTableError(f"{source}: {key}: expected a non-empty list of CIDR ranges, got {value!r}")
    return CountryRanges(key, tuple(_validate_network(key, item, source) for item in value))


def _validate_network(key: str, item: Any, source: str) -> IPv4Network:
    try:
        network = ip_network(str(item), strict=True)
    except ValueError as exc:
        raise IpTableError(f"{source}: {key}: {item!r} is not a CIDR range ({exc})") from None
    if not isinstance(network, IPv4Network):
        raise IpTableError(f"{source}: {key}: {item!r} is not IPv4")
    if not network.is_global:
        # a private or reserved range places nobody anywhere: a server treats it as unknown
        raise IpTableError(f"{source}: {key}: {item!r} is not a public (global) range")
    return network


def _reject_overlaps(table: IpTable, source: str) -> None:
    entries = sorted((net, cc) for cc, ranges in table.items() for net in ranges.networks)
    for (first, cc1), (second, cc2) in pairwise(entries):
        if first.overlaps(second):
            raise IpTableError(f"{source}: {first} ({cc1}) overlaps {second} ({cc2})")


# --------------------------------------------------------------------------------------------
# Reading the packaged table
# --------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def load_table() -> IpTable:
    text = resources.files("harness.data").joinpath(TABLE_FILE).read_text("utf-8")
    return parse_table(yaml.safe_load(text), f"harness/data/{TABLE_FILE}")


# --------------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------------

def countries(table: IpTable | None = None) -> list[str]:
    return sorted(table if table is not None else load_table())


def has_country(country: str, table: IpTable | None = None) -> bool:
    return country.upper() in (table if table is not None else load_table())


def pick_address(country: str, seed: int | None = None, table: IpTable | None = None) -> IPv4Address:
    """An address of `country`: reproducible by default, spread over all its ranges with a seed.

    Without a seed: the middle host of the country's first range (never a network or broadcast
    address, and the same on every run, so evidence and server logs line up). With a seed: a host
    drawn uniformly over all the country's ranges.
    """
    ranges = _ranges_of(country, table if table is not None else load_table())
    if seed is None:
        network = ranges.networks[0]
        return _host(network, network.num_addresses // 2 + 1)
    rng = random.Random(seed)
    network = rng.choices(ranges.networks, weights=[n.num_addresses for n in ranges.networks])[0]
    return _host(network, rng.randrange(1, max(2, network.num_addresses - 1)))


def country_of(address: str | IPv4Address, table: IpTable | None = None) -> str | None:
    """The table's country for an address, or None (private, reserved or unlisted)."""
    ip = IPv4Address(str(address))
    for cc, ranges in (table if table is not None else load_table()).items():
        if any(ip in network for network in ranges.networks):
            return cc
    return None


def _host(network: IPv4Network, offset: int) -> IPv4Address:
    """The host at `offset`; a /31 or /32 has no network/broadcast address to avoid."""
    if network.num_addresses <= 2:
        return network.network_address
    return network.network_address + offset


def _ranges_of(country: str, table: IpTable) -> CountryRanges:
    found = table.get(country.upper())
    if found is None:
        raise UnknownCountry(country, sorted(table))
    return found
