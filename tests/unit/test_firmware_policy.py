"""Policy files load and validate; the decision follows the precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.virtual.firmware.policy import (
    ACTIVATED,
    LOCKED,
    PolicyError,
    available_policies,
    decide,
    from_wire,
    load_policy,
)
from emulators.virtual.firmware.territory import Territory

CU, ES, US, RU = Territory("CU"), Territory("ES"), Territory("US"), Territory("RU")
CRIMEA = Territory("UA", "crimea")


def test_every_shipped_policy_loads() -> None:
    names = available_policies()
    assert {"global", "custom-rom", "defect-crimea-blind", "defect-gps-ignored", "defect-every-boot",
            "defect-reset-clears"} <= set(names)
    for name in names:
        assert load_policy(name).name == name


def test_global_reference() -> None:
    policy = load_policy("global")
    assert policy.prohibited_territories == {"CU", "IR", "KP", "SY", "SD"}
    assert policy.prohibited_regions == {"crimea"}
    assert policy.signals == ("gps", "network", "sim", "ip")
    assert (policy.decide, policy.persist, policy.service) == ("first_activation", "server", True)
    assert policy.notice("es-ES").title == "Dispositivo bloqueado"
    assert "international sanction restrictions" in policy.notice("en-US").body
    assert policy.notice("fr-FR").title == "Device locked"


@pytest.mark.parametrize(("name", "field", "value"), [
    ("custom-rom", "service", False),
    ("defect-crimea-blind", "prohibited_regions", frozenset()),
    ("defect-gps-ignored", "signals", ("network", "sim", "ip")),
    ("defect-every-boot", "decide", "every_boot"),
    ("defect-reset-clears", "persist", "device"),
    ("defect-lock-forgotten", "persist", "none"),
])
def test_defects_change_one_thing(name: str, field: str, value: object) -> None:
    policy = load_policy(name)
    assert getattr(policy, field) == value
    assert policy.notice("en").title == "Device locked"  # inherited from global


@pytest.mark.parametrize(("signals", "verdict", "signal"), [
    ({"gps": CU, "network": ES, "sim": ES, "ip": ES}, LOCKED, "gps"),
    ({"gps": ES, "network": CU, "sim": CU, "ip": CU}, ACTIVATED, "gps"),
    ({"gps": None, "network": CU, "sim": ES}, LOCKED, "network"),
    ({"gps": None, "network": None, "sim": CU}, LOCKED, "sim"),
    ({"gps": None, "network": None, "sim": None, "ip": CU}, LOCKED, "ip"),
    ({"gps": CRIMEA, "network": RU, "sim": RU}, LOCKED, "gps"),
    ({}, ACTIVATED, ""),
])
def test_precedence(signals: dict[str, Territory | None], verdict: str, signal: str) -> None:
    decision = decide(load_policy("global"), signals)
    assert (decision.verdict, decision.signal) == (verdict, signal)
    assert decision.reason


def test_gps_ignored_falls_to_the_network() -> None:
    decision = decide(load_policy("defect-gps-ignored"), {"gps": CU, "network": US})
    assert (decision.verdict, decision.signal) == (ACTIVATED, "network")


def test_crimea_blind() -> None:
    assert decide(load_policy("defect-crimea-blind"), {"gps": CRIMEA}).verdict == ACTIVATED


def test_policy_by_path_with_extends(tmp_path: Path) -> None:
    path = tmp_path / "only-iran.yaml"
    path.write_text("extends: global\nname: only-iran\nprohibited: {territories: [IR]}\n")
    policy = load_policy(str(path))
    assert policy.name == "only-iran" and policy.prohibited_territories == {"IR"}
    assert policy.signals == ("gps", "network", "sim", "ip")


@pytest.mark.parametrize(("text", "message"), [
    ("signals: [gps, satellite]", "'signals'"),
    ("decide: sometimes", "'decide'"),
    ("persist: cloud", "'persist'"),
    ("prohibited: [CU]", "'prohibited'"),
    ("notice: {en: {title: x}}", "notice.en"),
    ("- a list", "mapping"),
])
def test_bad_policies_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text + "\n")
    with pytest.raises(PolicyError, match=message):
        load_policy(str(path))


def test_unknown_policy_lists_the_known() -> None:
    with pytest.raises(PolicyError, match="defect-gps-ignored"):
        load_policy("no-such-policy")


def test_wire_round_trip() -> None:
    policy = load_policy("defect-every-boot")
    again = from_wire(policy.to_wire())
    assert (again.prohibited_territories, again.prohibited_regions, again.signals, again.decide,
            again.persist) == (policy.prohibited_territories, policy.prohibited_regions, policy.signals,
                               policy.decide, policy.persist)
