"""farm.yaml: typed labels merged host -> device, addresses checked, errors at file:line: field."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.farm.inventory import InventoryError, Labels, load_inventory

GOOD = """\
name: nightly
labels: {firmware: global}
hosts:
  - adb: 10.0.3.1:5037
    labels: {kind: emulator, api: 33, sim_slots: 1}
    respawn: true
    devices:
      emulator-5556: {sim_slots: 2}
network:
  - connect: 10.0.4.7:5555
    via: 10.0.3.1:5037
    labels: {kind: phone, firmware: vendor-a, api: 31}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "farm.yaml"
    path.write_text(text)
    return path


def test_labels_merge_from_farm_to_host_to_device(tmp_path: Path) -> None:
    inv = load_inventory(write(tmp_path, GOOD))
    assert inv.name == "nightly"
    assert inv.adb_servers() == ["10.0.3.1:5037"]
    assert inv.labels_for("10.0.3.1:5037", "emulator-5554") == Labels(
        kind="emulator", firmware="global", api=33, sim_slots=1)
    assert inv.labels_for("10.0.3.1:5037", "emulator-5556").sim_slots == 2
    assert inv.labels_for("10.0.3.1:5037", "10.0.4.7:5555") == Labels(
        kind="phone", firmware="vendor-a", api=31)


def test_selection_matches_only_what_is_set() -> None:
    labels = Labels(kind="emulator", firmware="global", api=33)
    assert labels.matches({"firmware": "global", "api": "33"})
    assert not labels.matches({"firmware": "custom-rom"})
    assert not labels.matches({"sim_slots": "2"})


@pytest.mark.parametrize(("text", "where"), [
    (GOOD.replace("api: 33", "api: many"), "farm.yaml:5: hosts[0].labels.api:"),
    (GOOD.replace("sim_slots: 1}", "sim_slots: 1, colour: red}"), "farm.yaml:5: hosts[0].labels.colour:"),
    (GOOD.replace("10.0.3.1:5037\n    labels", "10.0.3.1\n    labels"), "farm.yaml:4: hosts[0].adb:"),
    (GOOD.replace("kind: phone", "kind: tablet"), "farm.yaml:12: network[0].labels.kind:"),
    (GOOD.replace("    via: 10.0.3.1:5037\n", ""), "farm.yaml:10: network[0].via:"),
    ("hosts: [\n", "farm.yaml:2: invalid YAML"),
    ("name: x\n", "farm.yaml:1: the farm has no hosts"),
])
def test_errors_name_file_line_and_field(tmp_path: Path, text: str, where: str) -> None:
    with pytest.raises(InventoryError) as info:
        load_inventory(write(tmp_path, text))
    assert str(info.value).removeprefix(str(tmp_path) + "/").startswith(where), str(info.value)


def test_only_limits_a_hosts_devices_but_keeps_its_network_devices(tmp_path: Path) -> None:
    inv = load_inventory(write(tmp_path, GOOD.replace("    respawn: true\n", "    respawn: true\n    only: [emulator-5554]\n")))
    assert inv.belongs("10.0.3.1:5037", "emulator-5554")
    assert not inv.belongs("10.0.3.1:5037", "emulator-5556")
    assert inv.belongs("10.0.3.1:5037", "10.0.4.7:5555")
