"""Notice and wizard profiles: how the harness recognises a firmware family's screens.

A *notice profile* says how the lock notice looks (selectors, title/body text per locale) and how the
home screen looks. A *wizard profile* says how each setup-wizard page is recognised and what to tap on
it for given activation options. Both are data (`harness/data/notice/*.yaml`,
`harness/data/wizard/*.yaml`) written from the firmware's documented contract, never from its code,
so another firmware family (or a real device) is a new YAML file, not new code. A name ending in
``.yaml`` is read as a path, so a lab can keep its own profiles outside the package.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.errors import ProfileError

_VAR = re.compile(r"\$\{(\w+)\}")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_regex(value: str) -> str:
    re.compile(value)
    return value


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
        return bool(re.search(self.title, title)) and bool(re.search(self.body, body))


class DecisionSign(_Frozen):
    """A device-side sign that the lock service has decided: a system property and its values.

    Optional per firmware family. Without it, "no notice" can only be trusted after a settle period
    longer than the service's slowest decision; with it, the wait knows when the decision is in.
    """

    property: str
    unlocked: list[str] = Field(min_length=1)  # decided: no lock
    locked: list[str] = Field(min_length=1)  # decided: locked (the notice must follow)
    undecided_settle_seconds: float = Field(default=12.0, ge=0)  # no-notice needed while undecided

    def is_final(self, value: str | None) -> bool:
        return value in self.unlocked or value in self.locked


class NoticeProfile(_Frozen):
    name: str
    firmware_family: str
    package: str | None = None
    selectors: list[dict[str, Any]] = Field(min_length=1)  # any one present = notice shown
    title_selector: dict[str, Any] | None = None
    body_selector: dict[str, Any] | None = None
    texts: list[TextPattern] = Field(min_length=1)
    home: list[dict[str, Any]] = Field(min_length=1)  # any one present = home screen
    settle_seconds: float = Field(default=3.0, ge=0)
    timeout_seconds: float = Field(default=60, gt=0)
    decision: DecisionSign | None = None

    def text_for(self, locale: str) -> TextPattern | None:
        """The pattern for a locale: exact match first, then by language (``es-ES`` -> ``es``)."""
        lang = locale.split("-")[0].split("_")[0]
        exact = next((t for t in self.texts if t.locale == locale), None)
        return exact or next((t for t in self.texts if t.locale.split("-")[0] == lang), None)

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
    name: str
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
# Loading
# --------------------------------------------------------------------------------------------

def _read(kind: str, name: str) -> tuple[str, Any]:
    if name.endswith((".yaml", ".yml")):
        path = Path(name)
        label, text = str(path), path.read_text("utf-8") if path.exists() else None
    else:
        res = resources.files(f"harness.data.{kind}").joinpath(f"{name}.yaml")
        label, text = f"harness/data/{kind}/{name}.yaml", res.read_text("utf-8") if res.is_file() else None
    if text is None:
        raise ProfileError(label, f"no {kind} profile named {name!r}; known: {', '.join(available(kind))}")
    try:
        return label, yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(label, f"invalid YAML: {exc}") from None


def _validate(model: type[BaseModel], label: str, data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ProfileError(label, f"{where}: {err['msg']}") from None


def available(kind: str) -> list[str]:
    """Names of the profiles shipped for `kind` ("notice" or "wizard")."""
    folder = resources.files(f"harness.data.{kind}")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


@cache
def load_notice_profile(name: str = "reference") -> NoticeProfile:
    label, data = _read("notice", name)
    return _validate(NoticeProfile, label, data)


@cache
def load_wizard_profile(name: str = "reference") -> WizardProfile:
    label, data = _read("wizard", name)
    return _validate(WizardProfile, label, data)
