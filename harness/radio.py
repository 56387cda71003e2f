"""Countries, MCCs and operators, as the harness believes them.

Where the facts come from:
- ISO 3166-1 codes and names: `pycountry` (plus Kosovo's user-assigned ``XK``, which ITU and
  operators use but ISO does not list).
- MCC -> territory: `harness/data/mcc.yaml`, hand-written from ITU-T E.212 and cross-checked once
  against the `mobile-codes` package. We ship our own table instead of depending on a package
  because the candidates are unfit: `mobile-codes` 0.7 (2014) is Python-2-era, MPL-licensed data with
  HTML-entity noise and stale brands; `mccmnc` scrapes a website at run time.
- Operators: `harness/data/operators.yaml`, a small curated table (one default per country for
  ``sim: CU``), each vetted by hand.

This module never looks at the virtual emulator's tables: if the two disagree, a test catches it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pycountry
import yaml

# Codes operators and ITU use that ISO 3166-1 does not list.
_EXTRA_COUNTRIES = {"XK": ("XKX", "Kosovo")}


class UnknownCode(LookupError):
    """A country, MCC or operator the tables do not know; `suggestions` lists near matches."""

    def __init__(self, what: str, value: str, suggestions: list[str]) -> None:
        self.what = what
        self.value = value
        self.suggestions = suggestions
        super().__init__(f"unknown {what} {value!r}")


@dataclass(frozen=True)
class Country:
    alpha2: str
    alpha3: str
    name: str


@dataclass(frozen=True)
class Operator:
    country: str  # ISO alpha-2
    mcc: str
    mnc: str
    name: str
    default: bool = False

    @property
    def plmn(self) -> str:
        return f"{self.mcc}{self.mnc}"


# --------------------------------------------------------------------------------------------
# Countries
# --------------------------------------------------------------------------------------------

@cache
def _countries() -> dict[str, Country]:
    table = {c.alpha_2: Country(c.alpha_2, c.alpha_3, c.name) for c in pycountry.countries}
    for a2, (a3, name) in _EXTRA_COUNTRIES.items():
        table[a2] = Country(a2, a3, name)
    return table


@cache
def _country_index() -> dict[str, str]:
    """Every accepted spelling (alpha-2, alpha-3, names; upper case) -> alpha-2."""
    index: dict[str, str] = {}
    for c in pycountry.countries:
        for spelling in (c.alpha_2, c.alpha_3, c.name, getattr(c, "common_name", None),
                         getattr(c, "official_name", None)):
            if spelling:
                index[spelling.upper()] = c.alpha_2
    for a2, (a3, name) in _EXTRA_COUNTRIES.items():
        index.update({a2: a2, a3: a2, name.upper(): a2})
    return index


def country(text: str) -> Country:
    """Resolve an alpha-2, alpha-3 or English name (any case) to a Country, or raise UnknownCode."""
    a2 = _country_index().get(text.strip().upper())
    if a2 is None:
        raise UnknownCode("country", text, suggest_countries(text))
    return _countries()[a2]


def is_country(text: str) -> bool:
    return text.strip().upper() in _country_index()


def suggest_countries(text: str, n: int = 3) -> list[str]:
    """Closest alpha-2 codes to a misspelt code or name (difflib over all spellings)."""
    key = text.strip().upper()
    index = _country_index()
    close = difflib.get_close_matches(key, list(index), n=n * 3, cutoff=0.5)
    out: list[str] = []
    for spelling in close:
        code = index[spelling]
        if code not in out:
            out.append(code)
    return out[:n]


# --------------------------------------------------------------------------------------------
# MCC table
# --------------------------------------------------------------------------------------------

@cache
def _mcc_table() -> dict[str, tuple[str, ...]]:
    raw = yaml.safe_load(resources.files("harness.data").joinpath("mcc.yaml").read_text("utf-8"))
    return {str(mcc): tuple(str(c) for c in countries) for mcc, countries in raw.items()}


def country_of_mcc(mcc: str) -> str | None:
    """The main territory of an MCC (``"368"`` -> ``"CU"``), or None if unassigned."""
    territories = _mcc_table().get(mcc)
    return territories[0] if territories else None


def territories_of_mcc(mcc: str) -> tuple[str, ...]:
    return _mcc_table().get(mcc, ())


# --------------------------------------------------------------------------------------------
# Operators
# --------------------------------------------------------------------------------------------

@cache
def _operators() -> tuple[Operator, ...]:
    raw = yaml.safe_load(resources.files("harness.data").joinpath("operators.yaml").read_text("utf-8"))
    return tuple(
        Operator(str(e["country"]), str(e["mcc"]), str(e["mnc"]), str(e["name"]), bool(e.get("default")))
        for e in raw
    )


def operators(country_code: str | None = None) -> tuple[Operator, ...]:
    ops = _operators()
    return ops if country_code is None else tuple(o for o in ops if o.country == country_code)


def operator(mcc: str, mnc: str) -> Operator | None:
    """The curated operator with this PLMN, if any."""
    return next((o for o in _operators() if o.mcc == mcc and o.mnc == mnc), None)


def operator_named(name: str) -> Operator:
    """Look an operator up by name (case-insensitive), e.g. ``Cubacel``."""
    for o in _operators():
        if o.name.casefold() == name.strip().casefold():
            return o
    names = [o.name for o in _operators()]
    raise UnknownCode("operator", name, difflib.get_close_matches(name, names, n=3, cutoff=0.4))


def default_operator(country_code: str) -> Operator:
    """The operator ``sim: XX`` means for country XX; raise UnknownCode if none is curated."""
    for o in _operators():
        if o.country == country_code and o.default:
            return o
    known = sorted({o.country for o in _operators() if o.default})
    raise UnknownCode("operator for country", country_code,
                      difflib.get_close_matches(country_code, known, n=3, cutoff=0.3))


def plmn_country(mcc: str, mnc: str) -> str | None:
    """Which country a PLMN belongs to: the curated operator's, else the MCC's main territory."""
    op = operator(mcc, mnc)
    return op.country if op else country_of_mcc(mcc)
