"""Region-lock policies as data (YAML in `policies/`), and the pure decision they imply.

A policy says which territories are prohibited, which signals locate the device and in which
order, when the decision is taken, where the verdict is kept and what the notice says. Defect
variants are the same schema with one thing changed (usually via `extends: global`), so a new
variant is a file, not code. Loading validates every key and names the key and value on error.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, ValidationError, field_validator

from emulators.virtual.firmware.mcc import MCC_COUNTRY
from emulators.virtual.firmware.territory import ZONE_TERRITORY, Territory

POLICY_DIR = Path(__file__).with_name("policies")
SIGNALS = ("gps", "network", "sim", "ip")
DECIDE = ("first_activation", "every_boot")
PERSIST = ("server", "device", "none")
LOCKED = "locked"
ACTIVATED = "activated"


class PolicyError(ValueError):
    """A policy file is missing or malformed; the message names the file, key and value."""


@dataclass(frozen=True)
class Notice:
    title: str
    body: str


@dataclass(frozen=True)
class Policy:
    name: str
    service: bool = True  # False: no activation service at all (custom ROM)
    prohibited_territories: frozenset[str] = frozenset()  # ISO codes, upper case
    prohibited_regions: frozenset[str] = frozenset()  # e.g. "crimea"
    signals: tuple[str, ...] = SIGNALS  # precedence, first available decides
    decide: str = "first_activation"
    persist: str = "server"
    notices: dict[str, Notice] = field(default_factory=dict)  # language -> texts
    description: str = ""

    def is_prohibited(self, territory: Territory) -> bool:
        return (territory.iso in self.prohibited_territories
                or (bool(territory.region) and territory.region in self.prohibited_regions))

    def notice(self, locale: str) -> Notice:
        """Texts for a locale such as es-ES (by language), English when the language has none."""
        language = locale.replace("_", "-").split("-")[0].lower()
        return self.notices.get(language) or self.notices.get("en") or Notice("", "")

    def to_wire(self) -> dict[str, Any]:
        """What the device tells the activation server about how to decide."""
        return {"name": self.name, "territories": sorted(self.prohibited_territories),
                "regions": sorted(self.prohibited_regions), "signals": list(self.signals),
                "decide": self.decide, "persist": self.persist}


@dataclass(frozen=True)
class Decision:
    verdict: str  # locked | activated
    signal: str  # which signal decided ("" when none could)
    territory: Territory | None
    reason: str


def decide(policy: Policy, signals: dict[str, Territory | None]) -> Decision:
    """The first signal in precedence that places the device decides; none placing it: activated."""
    for name in policy.signals:
        territory = signals.get(name)
        if territory is None:
            continue
        if policy.is_prohibited(territory):
            return Decision(LOCKED, name, territory,
                            f"{name} places the device in prohibited territory {territory.label()}")
        return Decision(ACTIVATED, name, territory,
                        f"{name} places the device in {territory.label()}, not prohibited")
    return Decision(ACTIVATED, "", None, "no signal locates the device")


# --- the file schema ----------------------------------------------------------------------------

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


def _check_file(path: Path, data: Any) -> None:
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


def check_policy(name_or_path: str) -> Policy:
    """Load and validate a policy (and what it extends); PolicyError names file and key."""
    return load_policy(name_or_path)


# --- loading ------------------------------------------------------------------------------------

def load_policy(name_or_path: str) -> Policy:
    """A policy by name (`global`, `defect-gps-ignored`, ...) or by path to a YAML file."""
    path = _resolve(name_or_path)
    return _build(path, _read_merged(path, depth=0))


def available_policies() -> list[str]:
    return sorted(p.stem for p in POLICY_DIR.glob("*.yaml"))


def from_wire(data: dict[str, Any]) -> Policy:
    """The server side of `Policy.to_wire` (validated like a file)."""
    return _build(Path("<request>"), {
        "name": data.get("name", "?"),
        "prohibited": {"territories": data.get("territories", []), "regions": data.get("regions", [])},
        "signals": data.get("signals", list(SIGNALS)), "decide": data.get("decide", DECIDE[0]),
        "persist": data.get("persist", PERSIST[0]),
    })


def _resolve(name_or_path: str) -> Path:
    if "/" in name_or_path or name_or_path.endswith((".yaml", ".yml")):
        path = Path(name_or_path)
    else:
        path = POLICY_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise PolicyError(f"policy {name_or_path!r} not found (known: {', '.join(available_policies())})")
    return path


def _read_merged(path: Path, depth: int) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from None
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc.strerror or exc}") from None
    _check_file(path, data)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if depth > 4:
        raise PolicyError(f"{path}: extends: chain deeper than 5 files (a loop?)")
    try:
        parent_path = _resolve(str(parent))
    except PolicyError as exc:
        raise PolicyError(f"{path}: extends: {exc}") from None
    merged = _read_merged(parent_path, depth + 1)
    merged.pop("name", None)
    merged.update(data)
    return merged


def _build(path: Path, data: dict[str, Any]) -> Policy:
    prohibited = data.get("prohibited") or {}
    if not isinstance(prohibited, dict):
        raise PolicyError(f"{path}: 'prohibited' must be a mapping with territories/regions")
    return Policy(
        name=str(data.get("name") or path.stem),
        service=data.get("service", True) is True,
        prohibited_territories=frozenset(str(t).upper() for t in _list(path, prohibited, "territories")),
        prohibited_regions=frozenset(str(r).lower() for r in _list(path, prohibited, "regions")),
        signals=_validate_signals(path, data.get("signals", list(SIGNALS))),
        decide=_validate_choice(path, "decide", data.get("decide", DECIDE[0]), DECIDE),
        persist=_validate_choice(path, "persist", data.get("persist", PERSIST[0]), PERSIST),
        notices=_validate_notices(path, data.get("notice") or {}),
        description=str(data.get("description", "")).strip(),
    )


def _list(path: Path, mapping: dict[str, Any], key: str) -> list[Any]:
    value = mapping.get(key) or []
    if not isinstance(value, list):
        raise PolicyError(f"{path}: 'prohibited.{key}' must be a list, got {value!r}")
    return value


def _validate_signals(path: Path, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or any(s not in SIGNALS for s in value):
        raise PolicyError(f"{path}: 'signals' must be a list of {SIGNALS}, got {value!r}")
    return tuple(value)


def _validate_choice(path: Path, key: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise PolicyError(f"{path}: '{key}' must be one of {choices}, got {value!r}")
    return str(value)


def _validate_notices(path: Path, value: Any) -> dict[str, Notice]:
    if not isinstance(value, dict):
        raise PolicyError(f"{path}: 'notice' must map a language to title/body, got {value!r}")
    notices = {}
    for language, texts in value.items():
        if not isinstance(texts, dict) or "title" not in texts or "body" not in texts:
            raise PolicyError(f"{path}: 'notice.{language}' needs 'title' and 'body', got {texts!r}")
        notices[str(language)] = Notice(str(texts["title"]).strip(), str(texts["body"]).strip())
    return notices
