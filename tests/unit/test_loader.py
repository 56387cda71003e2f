"""The scenario loader: surface forms, matrix expansion, durations and file:line errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario import load_file, load_paths, load_text, parse_duration
from harness.scenario.model import (
    ActivateStep,
    ExpectStep,
    FactoryResetStep,
    LocationStep,
    NetworkStep,
    ProxyStep,
    ResetStep,
    SimStep,
    TravelStep,
    WaitStep,
    WifiStep,
)


def load(body: str, file: str = "t.yaml") -> list:
    return load_text(textwrap.dedent(body), file, stem="t")


def one(steps: str, device: str = "") -> list:
    head = "scenario: x\n" + (f"device: {device}\n" if device else "") + "steps:\n"
    return list(load(head + textwrap.dedent(steps))[0].steps)


# --------------------------------------------------------------------------------------------
# Durations
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("30s", 30), ("5m", 300), ("2h", 7200), ("2d", 172800), ("1h30m", 5400), ("250ms", 0.25),
    ("90", 90), (45, 45), (1.5, 1.5), ("1.5h", 5400),
])
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "soon", "5x", "-3", "3 days", True, -1])
def test_parse_duration_rejects(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Step surface forms
# --------------------------------------------------------------------------------------------

def test_design_example_loads_with_lines() -> None:
    (sc,) = load("""\
        scenario: First activation in Havana with a Cubacel SIM locks the device
        tags: [smoke, cuba, first-activation]
        device: {firmware: global}
        steps:
          - reset
          - sim: {mcc: 368, mnc: "01"}
          - location: Havana
          - activate
          - expect: locked
        """)
    assert sc.id == "t" and sc.tags == ("smoke", "cuba", "first-activation")
    assert [s.kind for s in sc.steps] == ["reset", "sim", "location", "activate", "expect"]
    assert [s.line for s in sc.steps] == [5, 6, 7, 8, 9]
    sim = sc.steps[1]
    assert isinstance(sim, SimStep) and sim.slots[0].plmn == "36801" and sim.slots[0].country == "CU"
    assert sim.slots[0].operator == "Cubacel"
    loc = sc.steps[2]
    assert isinstance(loc, LocationStep) and loc.position and loc.position.territory == "CU"
    assert sc.source.line == 1 and sc.device.firmware == "global"


def test_sim_forms() -> None:
    steps = one("""\
        - sim: CU
        - sim: Cuba
        - sim: Cubacel
        - sim: none
        - sim: absent
        - sim: {country: IR}
        - sim: [CU, {mcc: 214, mnc: "07"}]
        """, device="{slots: 2}")
    plmns = [[s.plmn for s in st.slots] for st in steps]
    assert plmns == [["36801"], ["36801"], ["36801"], [None], [None], ["43211"], ["36801", "21407"]]
    assert steps[3].slots[0].absent
    assert steps[6].slots[1].slot == 1 and steps[6].slots[1].country == "ES"


def test_norway_is_not_false() -> None:
    # YAML 1.1 would read `NO` as false; the loader must not (and Norway has no curated operator).
    with pytest.raises(ScenarioError, match="no default operator is known for NO"):
        one("- sim: NO\n")


def test_location_network_and_switches() -> None:
    steps = one("""\
        - location: {lat: 23.11, lon: -82.36}
        - location: off
        - network: roaming
        - network: {country: IR, registration: roaming}
        - wifi: on
        - wifi: HomeNet
        - wifi: off
        - ip: IR
        - ip: direct
        - wait: 2d
        - factory-reset
        - reset
        """)
    assert isinstance(steps[0], LocationStep) and steps[0].position.latitude == 23.11  # type: ignore[union-attr]
    assert steps[1].position is None  # type: ignore[union-attr]
    assert isinstance(steps[2], NetworkStep) and steps[2].network.registration == "roaming"
    assert steps[3].network.plmn == "43211" and steps[3].network.registration == "roaming"  # type: ignore[union-attr]
    assert [(s.on, s.ssid) for s in steps[4:7]] == [(True, None), (True, "HomeNet"), (False, None)]  # type: ignore[union-attr]
    assert isinstance(steps[4], WifiStep)
    assert isinstance(steps[7], ProxyStep) and steps[7].country == "IR" and steps[8].country is None  # type: ignore[union-attr]
    assert isinstance(steps[9], WaitStep) and steps[9].seconds == 172800
    assert isinstance(steps[10], FactoryResetStep) and isinstance(steps[11], ResetStep)


def test_activate_expect_travel() -> None:
    steps = one("""\
        - activate: {language: es, wifi: HomeNet, location_services: off}
        - activate: offline
        - expect: {state: unlocked, timeout: 30s, settle: 5s}
        - expect: {state: locked, text: "sanciones"}
        - travel: {to: Havana, sim: CU, network: home}
        - travel: Tehran
        """)
    a = steps[0]
    assert isinstance(a, ActivateStep) and (a.language, a.wifi, a.location_services) == ("es", "HomeNet", False)
    assert steps[1].online is False  # type: ignore[union-attr]
    e = steps[2]
    assert isinstance(e, ExpectStep) and (e.state, e.timeout, e.settle) == ("unlocked", 30, 5)
    t = steps[4]
    assert isinstance(t, TravelStep) and t.position.place == "Havana" and t.sims[0].plmn == "36801"  # type: ignore[union-attr,index]
    assert steps[5].position.place == "Tehran" and steps[5].sims is None  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------
# Matrix
# --------------------------------------------------------------------------------------------

def test_matrix_product_substitutes_name_and_steps() -> None:
    scs = load("""\
        scenario: Activation in ${place}
        matrix:
          place: [Havana, Tehran]
          sim: [CU, IR]
        steps:
          - sim: ${sim}
          - location: ${place}
        """)
    assert [s.id for s in scs] == ["t[place=Havana,sim=CU]", "t[place=Havana,sim=IR]",
                                   "t[place=Tehran,sim=CU]", "t[place=Tehran,sim=IR]"]
    assert scs[3].name == "Activation in Tehran" and scs[3].params == {"place": "Tehran", "sim": "IR"}
    assert scs[3].steps[0].slots[0].country == "IR"  # type: ignore[union-attr]
    assert scs[3].steps[1].line == 7


def test_matrix_rows_and_structured_values() -> None:
    scs = load("""\
        scenario: x
        matrix:
          - {where: {lat: 1.5, lon: 2.5}, state: locked}
          - {where: Madrid, state: unlocked}
        steps:
          - location: ${where}
          - expect: ${state}
        """)
    assert scs[0].steps[0].position.latitude == 1.5  # type: ignore[union-attr]
    assert [s.steps[1].state for s in scs] == ["locked", "unlocked"]  # type: ignore[union-attr]


def test_several_documents_in_one_file(tmp_path: Path) -> None:
    f = tmp_path / "multi.yaml"
    f.write_text("scenario: a\nsteps: [reset]\n---\nscenario: b\nid: bee\nsteps: [reboot]\n")
    assert [s.id for s in load_file(f)] == ["multi-1", "bee"]


def test_load_paths_walks_folders_and_rejects_duplicate_ids(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.yaml").write_text("scenario: a\nsteps: [reset]\n")
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "p.yaml").write_text("not: a scenario\n")
    assert [s.id for s in load_paths([tmp_path])] == ["x"]
    (tmp_path / "x.yaml").write_text("scenario: b\nsteps: [reset]\n")
    with pytest.raises(ScenarioError, match="duplicate scenario id 'x'"):
        load_paths([tmp_path])


# --------------------------------------------------------------------------------------------
# Errors: file:line, field, and suggestions
# --------------------------------------------------------------------------------------------

BAD = [
    # (steps text, line, field, message fragment, suggestion fragment)
    ("- sim: CX1\n", 3, "steps[0].sim", "unknown country or operator 'CX1'", "did you mean"),
    ("- sim: Cubba\n", 3, "steps[0].sim", "unknown country or operator", "CU"),
    ("- sim: {country: Persia}\n", 3, "steps[0].sim.country", "unknown country 'Persia'", None),
    ("- location: Havanna\n", 3, "steps[0].location", "unknown place 'Havanna'", "did you mean Havana"),
    ("- location: Simferpol\n", 3, "steps[0].location", "unknown place", "Simferopol"),
    ("- location: {lat: 123, lon: 1}\n", 3, "steps[0].location.lat", "out of range", None),
    ("- location: {lat: 1, lon: -200}\n", 3, "steps[0].location.lon", "out of range", None),
    ("- location: {lat: 1}\n", 3, "steps[0].location", "missing lon", None),
    ("- locaton: Havana\n", 3, "steps[0]", "unknown step 'locaton'; valid steps: reset,", "location"),
    ("- sim\n", 3, "steps[0]", "step 'sim' needs a value", None),
    ("- reset\n- expect: lockd\n", 4, "steps[1].expect", "unknown state 'lockd'", "locked"),
    ("- wait: soon\n", 3, "steps[0].wait", "not a duration", None),
    ("- wifi: 3\n", 3, "steps[0].wifi", "expected on/off", None),
    ("- sim: {mcc: 368}\n", 3, "steps[0].sim.mnc", "needs both mcc and mnc", None),
    ("- sim: {mcc: 368, mnc: 1}\n", 3, "steps[0].sim.mnc", "ambiguous MNC", None),
    ("- sim: {mcc: 368, mnc: '01', country: IR}\n", 3, "steps[0].sim.country", "belongs to CU, not IR", None),
    ("- sim: [CU, ES]\n", 3, "steps[0].sim", "needs a dual-SIM device", "slots: 2"),
    ("- timezone: Europe/Madird\n", 3, "steps[0].timezone", "unknown IANA time zone", "Europe/Madrid"),
    ("- locale: spanish\n", 3, "steps[0].locale", "BCP-47", None),
    ("- expect: {state: locked, timout: 5s}\n", 3, "steps[0].expect", "unknown key 'timout'", "timeout"),
    ("- sim: CU\n  location: Havana\n", 3, "steps[0]", "one-key mapping", None),
    ("- activate: {language: 7x}\n", 3, "steps[0].activate.language", "language code", None),
    ("- ip: Narnia\n", 3, "steps[0].ip", "unknown country 'Narnia'", None),
]


@pytest.mark.parametrize("steps, line, field, message, hint", BAD)
def test_bad_steps_point_at_file_line_field(steps: str, line: int, field: str, message: str | None,
                                            hint: str | None) -> None:
    with pytest.raises(ScenarioError) as info:
        load("scenario: x\nsteps:\n" + steps, file="bad.yaml")
    err = info.value
    assert (err.file, err.line, err.field) == ("bad.yaml", line, field), str(err)
    text = str(err)
    assert text.startswith(f"bad.yaml:{line}: {field}: ")
    if message:
        assert message in text
    if hint:
        assert hint in text


BAD_DOCS = [
    ("scenaro: x\nsteps: [reset]\n", 1, "scenaro", "did you mean scenario?"),
    ("scenario: x\n", 1, "steps", "missing `steps:`"),
    ("scenario: x\nsteps: []\n", 2, "steps", "non-empty list"),
    ("scenario: x\ndevice: {firmware: 'global; reboot'}\nsteps: [reset]\n", 2, "device.firmware", "build name"),
    ("scenario: x\ndevice: {capabilities: [roamin]}\nsteps: [reset]\n", 2, "device.capabilities", "roaming"),
    ("scenario: x\ndevice: {slot: 2}\nsteps: [reset]\n", 2, "device.slot", "slots"),
    ("scenario: x\ntags: [Smoke Test]\nsteps: [reset]\n", 2, "tags", "lower-case"),
    ("scenario: x\nmatrix: {place: [Havana]}\nsteps:\n  - location: ${plce}\n", 4, "${plce}", "place"),
    ("scenario: x\nmatrix: {place: []}\nsteps: [reset]\n", 2, "matrix.place", "non-empty list"),
    ("scenario: x\nmatrix:\n  - {a: 1}\n  - {b: 2}\nsteps: [reset]\n", 4, "matrix[1]", "same variables"),
    ("scenario: x\nmatrix: {place: [Havana, Tehrn]}\nsteps:\n  - location: ${place}\n", 4,
     "steps[0].location", "Tehran"),
]


@pytest.mark.parametrize("text, line, field, fragment", BAD_DOCS)
def test_bad_documents(text: str, line: int, field: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_text(text, "doc.yaml")
    assert (info.value.line, info.value.field) == (line, field), str(info.value)
    assert fragment in str(info.value)


def test_invalid_yaml_reports_its_line() -> None:
    with pytest.raises(ScenarioError) as info:
        load_text("scenario: x\nsteps:\n  - sim: [CU\n  - reset\n", "y.yaml")
    assert info.value.line is not None and info.value.line >= 3
    assert "invalid YAML" in str(info.value)


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(ScenarioError, match="duplicate key 'steps'"):
        load_text("scenario: x\nsteps: [reset]\nsteps: [reboot]\n", "d.yaml")


def test_empty_file_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no scenario"):
        load_text("# nothing\n", "e.yaml")
    with pytest.raises(ScenarioError, match="cannot read"):
        load_file(tmp_path / "missing.yaml")


def test_firmware_names_are_not_a_copied_list() -> None:
    # the device or backend says which builds exist (checked at run time); every documented policy loads
    for name in ("global", "defect-lock-forgotten", "vendor-build-7.1", "policies/mine.yaml"):
        sc = load_text(f"scenario: x\ndevice: {{firmware: {name}}}\nsteps: [reset]\n", "f.yaml")[0]
        assert sc.device.firmware == name
