"""Firmware profiles: everything the harness knows about one firmware family, as data.

A profile (`harness/data/profiles/NAME.yaml`, or a user's directory, see docs/profiles.md) says how
the family is recognised from device facts (`match`), how its setup wizard is walked (`wizard`), what
its lock notice and home screen look like (`notice`), how it signals that the lock decision is in and
how long a decision takes at most (`decision`), which firmware build a device runs (`build`), how it
is factory-reset (`factory_reset`) and what else it can do (`capabilities`). The runtime has no
firmware knowledge of its own: another family, or a lab phone, is a new YAML file, not new code.
Selection per device lives in `harness.profile_match`.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from harness.capabilities import check_capabilities
from harness.errors import ProfileError
from harness.safe_regex import check_regex, user_regex

_VAR = re.compile(r"\$\{(\w+)\}")
SHIPPED = "harness.data.profiles"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_regex(value: str) -> str:
    return check_regex(value)  # profile texts are user patterns too: linear-time RE2


# --------------------------------------------------------------------------------------------
# Notice
# --------------------------------------------------------------------------------------------

class TextPattern(_Frozen):
    locale: str  # language ("en") or full locale ("es-ES")
    title: str  # regex, searched in the title text
    body: str  # regex, searched in the body text

    _v_title = field_validator("title")(_check_regex)
    _v_body = field_validator("body")(_check_regex)

    def matches(self, title: str, body: str) -> bool:
        return bool(user_regex(self.title).search(title)) and bool(user_regex(self.body).search(body))


class LogSign(_Frozen):
    """Decision lines in the device log (`logcat -d`): the newest line matching either regex wins.

    `started` is the service's line that an activation began: seen without a decision line after it,
    the device is undecided (not "no lock service", which looks the same: no decision line at all).
    """

    locked: str
    unlocked: str
    started: str | None = None

    _v_locked = field_validator("locked")(_check_regex)
    _v_unlocked = field_validator("unlocked")(_check_regex)
    _v_started = field_validator("started")(_check_regex)


class ScreenSign(_Frozen):
    """Decision shown on screen: a selector present while the device is locked / unlocked."""

    locked: dict[str, Any] | None = None
    unlocked: dict[str, Any] | None = None


class DecisionSign(_Frozen):
    """How the firmware shows that the lock service has decided, and the longest a decision takes.

    At most one of `property` (a system property and its values), `log` (decision lines in the
    device log) or `screen` (selectors); none of them = the firmware shows no sign, so "no notice"
    is trusted only after `longest_seconds`. With a sign, the wait knows when the decision is in.
    A log or screen sign shows nothing both while the service decides and on a device without one,
    so it must say how to tell those apart: `log.started` (the line an activation began with) or
    `service`, the decision service's package (installed = a decision is coming). The reader then
    answers ``locked`` / ``unlocked`` / ``pending`` (undecided) / ``""`` (no decision service).
    """

    property: str | None = None
    service: str | None = None
    log: LogSign | None = None
    screen: ScreenSign | None = None
    unlocked: list[str] = Field(default=["unlocked"], min_length=1)  # decided: no lock
    locked: list[str] = Field(default=["locked"], min_length=1)  # decided: locked (the notice must follow)
    # the longest a decision takes; "no notice" needs this long while undecided
    undecided_settle_seconds: float = Field(
        default=12.0, ge=0, validation_alias=AliasChoices("longest_seconds", "undecided_settle_seconds"))

    @model_validator(mode="after")
    def _one_kind(self) -> DecisionSign:
        kinds = [k for k in ("property", "log", "screen") if getattr(self, k) is not None]
        if len(kinds) > 1:
            raise ValueError(f"a decision sign is one of property, log or screen, not {' and '.join(kinds)}")
        if self.property is not None and not {"unlocked", "locked"} <= self.model_fields_set:
            raise ValueError("a property sign lists its `unlocked` and `locked` values")
        if kinds and kinds[0] != "property" and self.service is None and (self.log is None or self.log.started is None):
            raise ValueError(f"a {kinds[0]} sign cannot tell 'undecided' from 'no decision service': give `service` "
                             f"(the decision service's package){' or `log.started`' if kinds[0] == 'log' else ''}")
        return self

    def kind(self) -> str:  # a method: the `property` field shadows the builtin in this class
        return next((k for k in ("property", "log", "screen") if getattr(self, k) is not None), "none")

    def is_final(self, value: str | None) -> bool:
        return value in self.unlocked or value in self.locked


class NoticeProfile(_Frozen):
    name: str = ""  # the firmware profile's name (filled in from it)
    package: str | None = None
    selectors: list[dict[str, Any]] = Field(min_length=1)  # any one present = notice shown
    title_selector: dict[str, Any] | None = None
    body_selector: dict[str, Any] | None = None
    texts: list[TextPattern] = Field(min_length=1)
    home: list[dict[str, Any]] = Field(min_length=1)  # any one present = home screen
    settle_seconds: float = Field(default=3.0, ge=0)
    timeout_seconds: float = Field(default=60, gt=0)
    decision: DecisionSign | None = None

    def match_text(self, title: str, body: str) -> TextPattern | None:
        """Which locale's notice this title/body is, if any."""
        return next((t for t in self.texts if t.matches(title, body)), None)


# --------------------------------------------------------------------------------------------
# Wizard
# --------------------------------------------------------------------------------------------

class WizardAction(_Frozen):
    """One tap on a wizard page.

    `when`: every key must equal the activation option of that name (`wifi: true` = an SSID was
    given; `language: es`), else the action is skipped. `checked`: treat the tap as a toggle, taken
    only when the element's checked state differs (may be ``${location_services}``). `optional`:
    a missing element is not an error.
    """

    tap: dict[str, Any]
    when: dict[str, Any] | None = None
    checked: bool | str | None = None
    optional: bool = False

    def applies(self, options: dict[str, Any]) -> bool:
        return all(_option_matches(options.get(k), v) for k, v in (self.when or {}).items())

    def selector(self, options: dict[str, Any]) -> dict[str, Any]:
        """The tap selector with ``${option}`` replaced."""
        return {k: _fill(v, options) for k, v in self.tap.items()}

    def wanted_checked(self, options: dict[str, Any]) -> bool | None:
        if self.checked is None or isinstance(self.checked, bool):
            return self.checked
        return str(_fill(self.checked, options)).lower() in ("true", "1", "on")


def _option_matches(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, bool):
        return bool(actual) == wanted
    return actual is not None and str(actual).lower() == str(wanted).lower()


def _fill(value: Any, options: dict[str, Any]) -> Any:
    if not isinstance(value, str):
        return value
    return _VAR.sub(lambda m: str(options.get(m.group(1), "")), value)


class WizardPage(_Frozen):
    name: str
    recognise: dict[str, Any]
    titles: dict[str, str] = {}  # locale -> title text (evidence; checks the language took)
    actions: list[WizardAction] = Field(min_length=1)

    def plan(self, options: dict[str, Any]) -> list[WizardAction]:
        """The actions to take on this page for these activation options."""
        return [a for a in self.actions if a.applies(options)]


class WizardProfile(_Frozen):
    name: str = ""  # the firmware profile's name (filled in from it)
    package: str | None = None
    pages: list[WizardPage] = Field(min_length=1)
    done: dict[str, Any]  # selector proving the wizard is over (the home screen)
    page_timeout_seconds: float = Field(default=30, gt=0)

    def page(self, name: str) -> WizardPage:
        return next(p for p in self.pages if p.name == name)


def wizard_options(online: bool = True, language: str | None = None, wifi: str | None = None,
                   location_services: bool = True) -> dict[str, Any]:
    """The option dict actions are matched against, from an ActivateStep's fields."""
    return {"online": online, "language": language, "wifi": wifi, "location_services": location_services}




# --------------------------------------------------------------------------------------------
# Recognition, build, factory reset
# --------------------------------------------------------------------------------------------

class MatchRule(_Frozen):
    """Device facts that all must hold: properties (full regex match) and installed packages."""

    props: dict[str, str] = {}
    packages: list[str] = []

    @field_validator("props")
    @classmethod
    def _regexes(cls, value: dict[str, str]) -> dict[str, str]:
        for pattern in value.values():
            re.compile(pattern)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> MatchRule:
        if not self.props and not self.packages:
            raise ValueError("a match rule needs props or packages")
        return self

    @property
    def weight(self) -> int:
        """How specific the rule is: the most specific matching rule of all profiles wins."""
        return len(self.props) + len(self.packages)


class BuildSign(_Frozen):
    """Where the device says which firmware build it runs: a property, or a command's output."""

    property: str | None = None
    shell: list[str] | None = None
    pattern: str = r"(.+)"  # the first group is the build name

    _v_pattern = field_validator("pattern")(_check_regex)

    @model_validator(mode="after")
    def _one(self) -> BuildSign:
        if (self.property is None) == (self.shell is None):
            raise ValueError("a build sign is a property or a shell command, exactly one")
        return self

    def parse(self, text: str) -> str | None:
        found = re.search(self.pattern, text)
        return found.group(1).strip() if found and found.groups() else None


class ResetMethod(_Frozen):
    """One way to factory-reset the device: a command; the device reboots into its setup wizard."""

    name: str
    shell: list[str] = Field(min_length=1)
    root: bool = False


class FirmwareProfile(_Frozen):
    name: str
    description: str = ""
    match: list[MatchRule] = []  # none: selected only by name (--profile)
    wizard: WizardProfile
    notice: NoticeProfile
    decision: DecisionSign | None = None
    build: BuildSign | None = None
    factory_reset: list[ResetMethod] = []
    capabilities: list[str] = []  # what the firmware offers beyond what the backend finds out
    source: str = ""  # where it was read from (filled in by the loader)

    _v_capabilities = field_validator("capabilities")(check_capabilities)

    @model_validator(mode="before")
    @classmethod
    def _share(cls, data: Any) -> Any:
        """The wizard and notice carry the profile's name; the notice waits read the decision sign."""
        if isinstance(data, dict) and "name" in data:
            data = dict(data)
            for part in ("wizard", "notice"):
                if isinstance(data.get(part), dict):
                    data[part] = {"name": data["name"], **data[part]}
            if isinstance(data.get("notice"), dict) and data.get("decision") is not None:
                data["notice"] = {**data["notice"], "decision": data["decision"]}
        return data


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

def is_path(name: str) -> bool:
    return name.endswith((".yaml", ".yml")) or "/" in name


def _parse(label: str, text: str) -> FirmwareProfile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(label, f"invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError(label, "a profile is a mapping (name, match, wizard, notice, ...)")
    try:
        profile = FirmwareProfile.model_validate({**data, "source": label})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ProfileError(label, f"{where}: {err['msg']}") from None
    return profile


def read_profile(path: Path | Traversable, label: str | None = None) -> FirmwareProfile:
    """One profile file."""
    label = label or str(path)
    try:
        return _parse(label, path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(label, f"cannot read: {exc.strerror or exc}") from None


@cache
def shipped_profiles() -> tuple[FirmwareProfile, ...]:
    """The profiles that ship with the harness (`harness/data/profiles/*.yaml`)."""
    folder = resources.files(SHIPPED)
    files = sorted((p for p in folder.iterdir() if p.name.endswith((".yaml", ".yml"))), key=lambda p: p.name)
    return tuple(read_profile(p, f"harness/data/profiles/{p.name}") for p in files)


@cache
def user_profiles(directory: Path) -> tuple[FirmwareProfile, ...]:
    """Every `*.yaml`/`*.yml` of a user's profile directory (read once per process)."""
    if not directory.is_dir():
        raise ProfileError(str(directory), "profile directory does not exist")
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return tuple(read_profile(p) for p in files)


def load_profile(name: str = "reference", directory: Path | None = None) -> FirmwareProfile:
    """A profile by path, or by name among the user's directory (first) and the shipped ones."""
    if is_path(name):
        return read_profile(Path(name))
    known = (*(user_profiles(directory) if directory else ()), *shipped_profiles())
    found = next((p for p in known if p.name == name), None)
    if found is None:
        names = sorted({p.name for p in known})
        raise ProfileError(name, f"no firmware profile named {name!r}; known: {', '.join(names)}")
    return found
