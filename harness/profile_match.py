"""Which firmware profile fits a device: by name (`--profile`), else by matching the device's facts.

Facts are what any Android device tells over adb: its properties (one `getprop` listing) and its
installed packages (`pm list packages`, read only when some rule names packages). A profile's `match`
rules each list facts that must all hold; the most specific matching rule (most facts) of all
profiles wins, a profile from the user's directory before a shipped one of the same weight, and a
tie left after that is an error naming both, so a device is never driven with a guessed profile.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from harness.errors import InfrastructureError
from harness.profiles import (
    FirmwareProfile,
    MatchRule,
    is_path,
    load_profile,
    shipped_profiles,
    user_profiles,
)
from harness.session import ShellResult

SHOWN_FACTS = ("ro.product.brand", "ro.product.model", "ro.build.fingerprint")


class NoProfile(InfrastructureError):
    """No profile (or more than one, equally specific) fits the device: the lab must say which."""


class FactSource(Protocol):
    serial: str

    def getprops(self) -> dict[str, str]: ...

    def shell(self, args: list[str], *, timeout: float = 30.0, root: bool = False) -> ShellResult: ...


@dataclass(frozen=True)
class RecognitionFacts:
    props: dict[str, str]
    packages: frozenset[str] | None = None  # None: not read (no rule needs them)

    def summary(self) -> str:
        return ", ".join(f"{k}={self.props.get(k, '')!r}" for k in SHOWN_FACTS)


@dataclass(frozen=True)
class Choice:
    """The profile for a device and why (shown by `harness devices` and kept in the evidence)."""

    profile: FirmwareProfile
    reason: str

    def describe(self) -> str:
        return f"{self.profile.name} ({self.reason})"


def read_facts(device: FactSource, packages: bool = True) -> RecognitionFacts:
    props = device.getprops()
    if not packages:
        return RecognitionFacts(props)
    listing = device.shell(["pm", "list", "packages"], timeout=20).output
    names = frozenset(line.strip()[len("package:"):] for line in listing.splitlines()
                      if line.strip().startswith("package:"))
    return RecognitionFacts(props, names)


def rule_reason(rule: MatchRule, facts: RecognitionFacts) -> str | None:
    """Why `rule` matches these facts (the facts it checked), or None when it does not."""
    said = []
    for key, pattern in rule.props.items():
        value = facts.props.get(key)
        if value is None or not re.fullmatch(pattern, value):
            return None
        said.append(f"{key}={value}")
    for package in rule.packages:
        if facts.packages is None or package not in facts.packages:
            return None
        said.append(f"package {package}")
    return ", ".join(said)


def select(facts: RecognitionFacts, user: Sequence[FirmwareProfile],
           shipped: Sequence[FirmwareProfile]) -> Choice:
    """The most specific matching profile; user profiles win ties over shipped ones."""
    ranked: list[tuple[int, int, FirmwareProfile, str]] = []
    for origin, profiles in ((1, user), (0, shipped)):
        for profile in profiles:
            for rule in profile.match:
                reason = rule_reason(rule, facts)
                if reason is not None:
                    ranked.append((rule.weight, origin, profile, reason))
    if not ranked:
        raise NoProfile(f"no firmware profile matches this device ({facts.summary()}); write one "
                        "(docs/profiles.md, `harness profile capture`) or name one with --profile")
    ranked.sort(key=lambda r: (r[0], r[1]), reverse=True)
    weight, origin, profile, reason = ranked[0]
    rivals = [r[2] for r in ranked[1:] if r[:2] == (weight, origin) and r[2].name != profile.name]
    if rivals:
        names = ", ".join(f"{p.name} ({p.source})" for p in (profile, *rivals))
        raise NoProfile(f"several profiles match this device equally ({names}); make one rule more "
                        "specific or name one with --profile")
    return Choice(profile, f"{'user profile' if origin else 'matched'}: {reason}")


@dataclass(frozen=True)
class ProfileSource:
    """A run's profiles: `--profile NAME|PATH` (forced) and `--profiles DIR` (the user's, first)."""

    named: str | None = None
    directory: Path | None = None

    def user(self) -> tuple[FirmwareProfile, ...]:
        return user_profiles(self.directory) if self.directory else ()

    def shipped(self) -> tuple[FirmwareProfile, ...]:
        """Shipped profiles a user profile of the same name does not replace."""
        replaced = {p.name for p in self.user()}
        return tuple(p for p in shipped_profiles() if p.name not in replaced)

    def needs_packages(self) -> bool:
        return any(rule.packages for p in (*self.user(), *self.shipped()) for rule in p.match)

    def choose(self, device: FactSource) -> Choice:
        if self.named:
            how = "file" if is_path(self.named) else "name"
            return Choice(load_profile(self.named, self.directory), f"--profile {how} {self.named}")
        try:
            facts = read_facts(device, packages=self.needs_packages())
            return select(facts, self.user(), self.shipped())
        except NoProfile as exc:
            raise NoProfile(f"<Device|{device.serial}> {exc}") from None
