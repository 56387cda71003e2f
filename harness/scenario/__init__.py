"""Scenarios: the models (`model`), the YAML loader (`loader`) and the JSON Schema (`schema`)."""

from harness.scenario.loader import load_file, load_paths, load_text, parse_duration
from harness.scenario.model import (
    STEP_KINDS,
    ActivateStep,
    AirplaneStep,
    DataStep,
    DeviceHints,
    ExpectStep,
    FactoryResetStep,
    LocaleStep,
    LocationStep,
    NetworkSpec,
    NetworkStep,
    Position,
    ProxyStep,
    RebootStep,
    ResetStep,
    Scenario,
    ScreenshotStep,
    SimSpec,
    SimStep,
    SourceRef,
    Step,
    TimezoneStep,
    TravelStep,
    WaitStep,
    WifiStep,
)

__all__ = [
    "load_file", "load_paths", "load_text", "parse_duration",
    "STEP_KINDS", "ActivateStep", "AirplaneStep", "DataStep", "DeviceHints", "ExpectStep",
    "FactoryResetStep", "LocaleStep", "LocationStep", "NetworkSpec", "NetworkStep", "Position",
    "ProxyStep", "RebootStep", "ResetStep", "Scenario", "ScreenshotStep", "SimSpec", "SimStep",
    "SourceRef", "Step", "TimezoneStep", "TravelStep", "WaitStep", "WifiStep",
]
