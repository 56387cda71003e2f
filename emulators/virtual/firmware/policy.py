"""Region-lock policies as data (YAML in `policies/`), and the pure decision they imply.

A policy says which territories are prohibited, which signals locate the device and in which
order, when the decision is taken, where the verdict is kept and what the notice says. Defect
variants are the same schema with one thing changed (usually via `extends: global`), so a new
variant is a file, not code. Loading validates every key and names the key and value on error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from emulators.virtual.firmware.territory import Territory

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


def check_policy(name_or_path: str) -> Policy:
    """Load and validate a policy (and what it extends) against the file schema, shipped files too;
    PolicyError names file and key."""
    return load_policy(name_or_path, strict=True)


# --- loading ------------------------------------------------------------------------------------

def load_policy(name_or_path: str, *, strict: bool | None = None) -> Policy:
    """A policy by name (`global`, `defect-gps-ignored`, ...) or by path to a YAML file.

    Every file is checked against the file schema (policy_schema.py: unknown keys, strict types,
    codes this firmware can place) unless it is one of the firmware's own files in `policies/` and
    `strict` is not asked for: those are checked when the firmware is built (`check_policy` on each
    in the test suite), as a system image's own configuration is, not at every boot, where the
    schema's imports would be a third of the device's start-up. Loading still refuses what the
    device cannot act on (`_build`)."""
    path = _resolve(name_or_path)
    return _build(path, _read_merged(path, depth=0, strict=strict))


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


def _shipped(path: Path) -> bool:
    return path.resolve().parent == POLICY_DIR.resolve()


def _read_merged(path: Path, depth: int, strict: bool | None) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from None
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if strict or (strict is None and not _shipped(path)):
        from emulators.virtual.firmware.policy_schema import check_file

        check_file(path, data)
    elif not isinstance(data, dict):
        raise PolicyError(f"{path}: a policy is a mapping, got {type(data).__name__}")
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if depth > 4:
        raise PolicyError(f"{path}: extends: chain deeper than 5 files (a loop?)")
    try:
        parent_path = _resolve(str(parent))
    except PolicyError as exc:
        raise PolicyError(f"{path}: extends: {exc}") from None
    merged = _read_merged(parent_path, depth + 1, strict)
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
