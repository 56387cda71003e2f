"""Policy files load and validate; the decision follows the precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.virtual.firmware.policy import (
    ACTIVATED,
    LOCKED,
    PolicyError,
    available_policies,
    check_policy,
    decide,
    from_wire,
    load_policy,
)
from emulators.virtual.firmware.territory import Territory

CU, ES, US, RU = Territory("CU"), Territory("ES"), Territory("US"), Territory("RU")
CRIMEA = Territory("UA", "crimea")


def test_every_shipped_policy_loads_and_passes_the_file_schema() -> None:
    """A boot trusts the firmware's own files (load_policy skips the schema for them): this is where
    they are checked, as a build would."""
    names = available_policies()
    assert {"global", "custom-rom", "defect-crimea-blind", "defect-gps-ignored", "defect-every-boot",
            "defect-reset-clears"} <= set(names)
    for name in names:
        assert check_policy(name) == load_policy(name)
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
    ("signals: [gps, satellite]", "bad.yaml: signals:"),
    ("decide: sometimes", "bad.yaml: decide:"),
    ("persist: cloud", "bad.yaml: persist:"),
    ("prohibited: [CU]", "bad.yaml: prohibited:"),
    ("notice: {en: {title: x}}", "notice.en"),
    ("- a list", "mapping"),
])
def test_bad_policies_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text + "\n")
    with pytest.raises(PolicyError, match=message):
        load_policy(str(path))


@pytest.mark.parametrize(("text", "message"), [
    ("extends: global\nprohibted: {territories: [CU]}", "bad.yaml: prohibted: unknown key (did you mean prohibited?)"),
    ("extends: global\nprohibited: {territories: [CU], region: [crimea]}", "prohibited.region: unknown key"),
    ("extends: global\nservice: \"false\"", "bad.yaml: service: Input should be a valid boolean, got 'false'"),
    ("extends: global\nservice: 0", "bad.yaml: service:"),
    ("extends: global\nprohibited: {territories: [CUB]}", "prohibited.territories: unknown territory code 'CUB'"),
    ("extends: global\nprohibited: {territories: [XX]}", "unknown territory code 'XX'"),
    ("extends: global\nprohibited: {territories: [1]}", "prohibited.territories.0:"),
    ("extends: global\nprohibited: {regions: [crimee]}", "prohibited.regions: unknown region 'crimee'; known: crimea"),
    ("extends: no-such-parent", "bad.yaml: extends: policy 'no-such-parent' not found"),
    ("extends: [global]", "bad.yaml: extends:"),
    ("extends: global\nsignals: [gps, gps]", "signals: a signal is listed twice"),
    ("extends: global\nnotice: {en: {title: 1, body: x}}", "notice.en.title:"),
    ("extends: global\nnotice: {en: {title: x, body: y, footer: z}}", "notice.en.footer: unknown key"),
])
def test_every_policy_error_names_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text + "\n")
    with pytest.raises(PolicyError) as info:
        load_policy(str(path))
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_a_misspelt_key_in_a_parent_names_the_parent(tmp_path: Path) -> None:
    (tmp_path / "parent.yaml").write_text("extends: global\nprohibited: {territoires: [CU]}\n")
    (tmp_path / "child.yaml").write_text(f"extends: {tmp_path / 'parent.yaml'}\nname: child\n")
    with pytest.raises(PolicyError, match=r"parent\.yaml: prohibited\.territoires: unknown key"):
        load_policy(str(tmp_path / "child.yaml"))


def test_lower_case_codes_are_the_same_territory(tmp_path: Path) -> None:
    path = tmp_path / "lower.yaml"
    path.write_text("extends: global\nprohibited: {territories: [cu], regions: [Crimea]}\n")
    policy = load_policy(str(path))
    assert policy.prohibited_territories == {"CU"} and policy.prohibited_regions == {"crimea"}


def test_the_emulator_checks_a_policy_without_booting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from emulators.virtual.launcher import main

    assert main(["--check-policy", "defect-crimea-blind"]) == 0
    assert "policy defect-crimea-blind: ok" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: global\nservice: \"false\"\n")
    assert main(["--check-policy", str(bad)]) == 1
    assert f"{bad}: service:" in capsys.readouterr().err


def test_unknown_policy_lists_the_known() -> None:
    with pytest.raises(PolicyError, match="defect-gps-ignored"):
        load_policy("no-such-policy")


def test_wire_round_trip() -> None:
    policy = load_policy("defect-every-boot")
    again = from_wire(policy.to_wire())
    assert (again.prohibited_territories, again.prohibited_regions, again.signals, again.decide,
            again.persist) == (policy.prohibited_territories, policy.prohibited_regions, policy.signals,
                               policy.decide, policy.persist)
