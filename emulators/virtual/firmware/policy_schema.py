"""The policy file schema: what a policy file may say, checked key by key (pydantic).

Imported only where a file is checked (policy.py `_read_merged`): pydantic and the models cost more
than the rest of a device's start-up.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, ValidationError, field_validator

from emulators.virtual.firmware.mcc import MCC_COUNTRY
from emulators.virtual.firmware.policy import DECIDE, PERSIST, SIGNALS, PolicyError
from emulators.virtual.firmware.territory import ZONE_TERRITORY

# What this firmware can name: the countries its own tables place a device in (MCC table, zone
# table) and the regions its zone table knows. A code outside them could never match, so a policy
# naming one is a typo ("CUB", "crimee"), not a rule.
KNOWN_TERRITORIES = frozenset({iso.upper() for iso in MCC_COUNTRY.values()}
                              | {iso for iso, _ in ZONE_TERRITORY.values()})
KNOWN_REGIONS = frozenset(region for _, region in ZONE_TERRITORY.values() if region)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ProhibitedFile(_Strict):
    territories: list[StrictStr] = []
    regions: list[StrictStr] = []

    @field_validator("territories")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if code.upper() not in KNOWN_TERRITORIES:
                near = difflib.get_close_matches(code.upper(), sorted(KNOWN_TERRITORIES), n=3)
                raise ValueError(f"unknown territory code {code!r}: ISO 3166 alpha-2 codes this firmware can place"
                                 + (f" (did you mean {', '.join(near)}?)" if near else ""))
        return codes

    @field_validator("regions")
    @classmethod
    def _regions(cls, regions: list[str]) -> list[str]:
        for region in regions:
            if region.lower() not in KNOWN_REGIONS:
                raise ValueError(f"unknown region {region!r}; known: {', '.join(sorted(KNOWN_REGIONS))}")
        return regions


class _NoticeFile(_Strict):
    title: StrictStr
    body: StrictStr


class PolicyFile(_Strict):
    """One policy file as written (every key optional: `extends` supplies the rest)."""

    name: StrictStr | None = None
    description: StrictStr | None = None
    extends: StrictStr | None = None
    service: StrictBool | None = None  # `service: "false"` is a string, and a string is not a switch
    prohibited: _ProhibitedFile | None = None
    signals: list[StrictStr] | None = None
    decide: StrictStr | None = None
    persist: StrictStr | None = None
    notice: dict[StrictStr, _NoticeFile] | None = None

    @field_validator("signals")
    @classmethod
    def _signals(cls, value: list[str] | None) -> list[str] | None:
        for signal in value or []:
            if signal not in SIGNALS:
                raise ValueError(f"unknown signal {signal!r}; signals are {', '.join(SIGNALS)}")
        if value is not None and len(set(value)) != len(value):
            raise ValueError(f"a signal is listed twice: {value}")
        return value

    @field_validator("decide")
    @classmethod
    def _decide(cls, value: str | None) -> str | None:
        return _one_of(value, DECIDE)

    @field_validator("persist")
    @classmethod
    def _persist(cls, value: str | None) -> str | None:
        return _one_of(value, PERSIST)


def _one_of(value: str | None, choices: tuple[str, ...]) -> str | None:
    if value is not None and value not in choices:
        raise ValueError(f"must be one of {', '.join(choices)}, got {value!r}")
    return value


def check_file(path: Path, data: Any) -> None:
    """PolicyError naming the file and the key for the first thing wrong in one file's own keys."""
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: a policy is a mapping, got {type(data).__name__}")
    try:
        PolicyFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            known = list(PolicyFile.model_fields) if len(err["loc"]) == 1 else []
            near = difflib.get_close_matches(str(err["loc"][-1]), known, n=1)
            message = "unknown key" + (f" (did you mean {near[0]}?)" if near else "")
        elif "input" in err and err["type"] not in ("value_error",):
            message += f", got {err['input']!r}"
            if err["type"] == "bool_type":
                message += " (write true or false, without quotes)"
        raise PolicyError(f"{path}: {key}: {message}") from None
