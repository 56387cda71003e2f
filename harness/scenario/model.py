"""What a loaded scenario is: frozen pydantic models, one per step kind.

The YAML surface (bare words, one-key mappings, place names, `sim: CU`, `wait: 2d`) is the loader's
business; these models hold the *resolved* form, so the runtime never parses text again: a place is
already coordinates, a country already has its MCC/MNC, a duration is already seconds. Every step
keeps the source `line` it came from, so a failure at run time can point at the file like a load error.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_MCC = re.compile(r"^\d{3}$")
_MNC = re.compile(r"^\d{2,3}$")
_ALPHA2 = re.compile(r"^[A-Z]{2}$")
# BCP-47 as used by Android's persist.sys.locale: language, optional script, optional region.
LOCALE_PATTERN = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|\d{3}))?$"
_LOCALE = re.compile(LOCALE_PATTERN)


def _check_mcc(v: str | None) -> str | None:
    if v is not None and not _MCC.match(v):
        raise ValueError(f"MCC must be 3 digits, got {v!r}")
    return v


def _check_mnc(v: str | None) -> str | None:
    if v is not None and not _MNC.match(v):
        raise ValueError(f"MNC must be 2 or 3 digits, got {v!r}")
    return v


def _check_alpha2(v: str | None) -> str | None:
    if v is not None and not _ALPHA2.match(v):
        raise ValueError(f"country must be an ISO alpha-2 code, got {v!r}")
    return v


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceRef(_Frozen):
    """Where something came from: a scenario file and a 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


# --------------------------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------------------------

class SimSpec(_Frozen):
    """One SIM slot. `absent` means no card; otherwise the PLMN the card's IMSI starts with."""

    slot: int = Field(default=0, ge=0, le=1)
    absent: bool = False
    mcc: str | None = None
    mnc: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2, upper case, as the harness believes
    operator: str | None = None

    _v_mcc = field_validator("mcc")(_check_mcc)
    _v_mnc = field_validator("mnc")(_check_mnc)
    _v_country = field_validator("country")(_check_alpha2)

    @model_validator(mode="after")
    def _consistent(self) -> SimSpec:
        if self.absent and (self.mcc or self.mnc):
            raise ValueError("an absent SIM has no MCC/MNC")
        if not self.absent and (self.mcc is None or self.mnc is None):
            raise ValueError("a SIM needs both mcc and mnc")
        return self

    @property
    def plmn(self) -> str | None:
        """MCC+MNC as Android prints it (`gsm.sim.operator.numeric`), e.g. ``36801``."""
        return None if self.absent else f"{self.mcc}{self.mnc}"

    def __str__(self) -> str:
        card = "no SIM" if self.absent else _plmn_text(self.country, self.mcc, self.mnc, self.operator)
        return f"slot {self.slot}: {card}"


class NetworkSpec(_Frozen):
    """The serving network. PLMN fields left None mean: the SIM's own PLMN."""

    registration: Literal["home", "roaming", "searching", "denied", "off"] = "home"
    mcc: str | None = None
    mnc: str | None = None
    country: str | None = None
    operator: str | None = None

    _v_mcc = field_validator("mcc")(_check_mcc)
    _v_mnc = field_validator("mnc")(_check_mnc)
    _v_country = field_validator("country")(_check_alpha2)

    @model_validator(mode="after")
    def _pair(self) -> NetworkSpec:
        if (self.mcc is None) != (self.mnc is None):
            raise ValueError("a network needs both mcc and mnc, or neither")
        return self

    @property
    def plmn(self) -> str | None:
        return None if self.mcc is None else f"{self.mcc}{self.mnc}"

    def __str__(self) -> str:
        if self.registration == "off":
            return "radio off"
        where = "the SIM's PLMN" if self.mcc is None else _plmn_text(
            self.country, self.mcc, self.mnc, self.operator)
        return f"{self.registration} on {where}"


class Position(_Frozen):
    """A GPS fix. `territory` is what the *harness* believes, canonical (``crimea``, ``CU``; see
    harness.territory), for reports and the oracle; None: the harness cannot place the point."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    place: str | None = None
    territory: str | None = None
    country: str | None = None  # ISO alpha-2 the harness believes the point is in

    _v_country = field_validator("country")(_check_alpha2)

    def __str__(self) -> str:
        point = f"{self.latitude:.4f}, {self.longitude:.4f}"
        return f"{self.place} ({point})" if self.place else point


def _plmn_text(country: str | None, mcc: str | None, mnc: str | None, operator: str | None) -> str:
    return " ".join(part for part in (country, f"{mcc}/{mnc}", operator) if part)


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------

class _Step(_Frozen):
    line: int = 0
    # capabilities (harness.capabilities) a device needs for this step; checked before a scenario runs
    needs: ClassVar[tuple[str, ...]] = ()

    def summary(self) -> str:
        """One line for reports: `sim: slot 0: CU 368/01 Cubacel`, `location: Havana (…)`."""
        parts = []
        for name in type(self).model_fields:
            if name in ("kind", "line"):
                continue
            value = getattr(self, name)
            if value is None and name != "position":
                continue
            parts.append(f"{name}={_readable(value)}")
        kind = str(type(self).model_fields["kind"].default)  # each concrete step fixes its kind
        return f"{kind}: {', '.join(parts)}" if parts else kind


def _readable(value: object) -> str:
    if value is None:
        return "off"
    if isinstance(value, tuple):
        return "; ".join(_readable(v) for v in value)
    return str(value)


class ResetStep(_Step):
    """A factory-fresh device that was never activated: new hardware identity (new IMEI)."""

    kind: Literal["reset"] = "reset"
    needs: ClassVar[tuple[str, ...]] = ("new-identity",)


class FactoryResetStep(_Step):
    """The user's factory reset on the same hardware (same IMEI): server-side locks must survive."""

    kind: Literal["factory-reset"] = "factory-reset"
    needs: ClassVar[tuple[str, ...]] = ("factory-reset",)


class RebootStep(_Step):
    kind: Literal["reboot"] = "reboot"


class SimStep(_Step):
    """Insert/replace SIM cards (one entry per slot). Needs a SIM reload or cold boot on emulators."""

    kind: Literal["sim"] = "sim"
    slots: tuple[SimSpec, ...]


class NetworkStep(_Step):
    kind: Literal["network"] = "network"
    network: NetworkSpec


class LocationStep(_Step):
    """Move the GPS fix (`position`) and/or flip location services (`enabled`); None = unchanged.

    As on Android the two are separate facts: a new fix never switches location services back on,
    so a scenario that turned them off stays off until `location: on` or the wizard's toggle.
    """

    kind: Literal["location"] = "location"
    position: Position | None = None
    enabled: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> LocationStep:
        if self.position is None and self.enabled is None:
            raise ValueError("a location step moves the fix, switches location on/off, or both")
        return self


class LocaleStep(_Step):
    kind: Literal["locale"] = "locale"
    locale: str

    @field_validator("locale")
    @classmethod
    def _bcp47(cls, v: str) -> str:
        if not _LOCALE.match(v):
            raise ValueError(f"locale must look like 'es-ES' (BCP-47), got {v!r}")
        return v


class TimezoneStep(_Step):
    kind: Literal["timezone"] = "timezone"
    timezone: str

    @field_validator("timezone")
    @classmethod
    def _iana(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {v!r}") from None
        return v


class WifiStep(_Step):
    """Wi-Fi on/off; with `ssid`, also connect to that network."""

    kind: Literal["wifi"] = "wifi"
    on: bool
    ssid: str | None = None


class DataStep(_Step):
    kind: Literal["data"] = "data"
    on: bool


class AirplaneStep(_Step):
    kind: Literal["airplane"] = "airplane"
    on: bool


class ProxyStep(_Step):
    """The IP country seen by servers, via an HTTP proxy exiting there; None = direct."""

    kind: Literal["ip"] = "ip"
    country: str | None

    _v_country = field_validator("country")(_check_alpha2)


class ActivateStep(_Step):
    """Walk the setup wizard to the home screen (then the firmware activates when online)."""

    kind: Literal["activate"] = "activate"
    online: bool = True
    language: str | None = None  # wizard language choice: "en", "es"
    wifi: str | None = None  # SSID to join in the wizard; None = skip Wi-Fi (mobile data only)
    location_services: bool | None = None  # the wizard's location toggle; None = leave it as it is


class WaitStep(_Step):
    kind: Literal["wait"] = "wait"
    seconds: float = Field(ge=0)


class TravelStep(_Step):
    """Move the device: any of position, SIMs, network changes at once; None = unchanged."""

    kind: Literal["travel"] = "travel"
    position: Position | None = None
    sims: tuple[SimSpec, ...] | None = None
    network: NetworkSpec | None = None


class ExpectStep(_Step):
    """Assert the lock state.

    `locked`: the notice appears within `timeout`. `unlocked`: home screen reached and no notice for
    the settle period (a negative assertion that polls once is not a test). `policy`: ask the oracle
    what the signal history so far should give, then assert that.
    """

    kind: Literal["expect"] = "expect"
    state: Literal["locked", "unlocked", "policy"]
    timeout: float | None = Field(default=None, ge=0)
    settle: float | None = Field(default=None, ge=0)
    text: str | None = None  # a regex the notice body must match (locked only)


class ScreenshotStep(_Step):
    kind: Literal["screenshot"] = "screenshot"
    name: str


Step = Annotated[
    ResetStep | FactoryResetStep | RebootStep | SimStep | NetworkStep | LocationStep | LocaleStep | TimezoneStep | WifiStep | DataStep | AirplaneStep | ProxyStep | ActivateStep | WaitStep | TravelStep | ExpectStep | ScreenshotStep,
    Field(discriminator="kind"),
]

# The union above is THE list of step kinds; everything else derives from it (the surface table in
# surface.py is checked against it at import, runner and oracle `match` on it with assert_never).
STEP_MODELS: tuple[type[_Step], ...] = get_args(get_args(Step)[0])
STEP_KINDS: tuple[str, ...] = tuple(str(c.model_fields["kind"].default) for c in STEP_MODELS)


# --------------------------------------------------------------------------------------------
# Scenario
# --------------------------------------------------------------------------------------------

class DeviceHints(_Frozen):
    """What the scenario needs from a device; the pool uses it to pick/boot one."""

    firmware: str | None = None  # region-lock policy name: "global", "custom-rom", "defect-..."
    profile: str | None = None  # device profile, e.g. "redmi-note-9", "pixel-6"
    slots: int = Field(default=1, ge=1, le=2)
    capabilities: tuple[str, ...] = ()  # e.g. ("roaming",): skip, with reason, where missing


class Scenario(_Frozen):
    id: str  # file stem plus matrix suffix, e.g. "first-activation[place=Havana]"
    name: str
    tags: tuple[str, ...] = ()
    device: DeviceHints = DeviceHints()
    steps: tuple[Step, ...]
    source: SourceRef
    params: dict[str, str] = Field(default_factory=dict)  # the matrix row; {} without a matrix
    description: str | None = None

    def where(self, step: _Step) -> SourceRef:
        """The source position of one of this scenario's steps."""
        return SourceRef(file=self.source.file, line=step.line or self.source.line)


__all__ = [
    "LOCALE_PATTERN",
    "STEP_KINDS",
    "STEP_MODELS",
    "ActivateStep",
    "AirplaneStep",
    "DataStep",
    "DeviceHints",
    "ExpectStep",
    "FactoryResetStep",
    "LocaleStep",
    "LocationStep",
    "NetworkSpec",
    "NetworkStep",
    "Position",
    "ProxyStep",
    "RebootStep",
    "ResetStep",
    "Scenario",
    "ScreenshotStep",
    "SimSpec",
    "SimStep",
    "SourceRef",
    "Step",
    "TimezoneStep",
    "TravelStep",
    "WaitStep",
    "WifiStep",
]
