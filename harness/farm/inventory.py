"""`farm.yaml`: where the farm's devices are, and what they are.

```yaml
name: nightly                 # namespaces the farm's keys in Redis (default: farm)
labels: {firmware: global}    # defaults for every device below
hosts:
  - adb: 10.0.3.1:5037        # an adb server: every device on it belongs to the farm
    labels: {kind: emulator, api: 33, sim_slots: 1}
    respawn: true             # its supervisor boots a factory-fresh emulator when one exits
    console_offset: 10000     # its consoles are exposed at port + 10000 (loopback hosts need none)
    boot_timeout: 120         # seconds a respawned emulator may take to boot (default 120)
    console_token: /etc/farm/console-token
    only: [emulator-5554, emulator-5556]   # optional: the server's other devices are not the farm's
    devices:                  # optional per-serial labels
      emulator-5556: {sim_slots: 2}
network:
  - connect: 10.0.4.7:5555    # `adb connect` address, connected through adb server `via`
    via: 10.0.3.1:5037
    labels: {kind: phone, firmware: vendor-a, api: 31, sim_slots: 2}
```

Labels are typed (pydantic): an unknown label or a wrong type is an error naming file:line: field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.errors import ScenarioError
from harness.scenario.yamlsource import (
    LineDict,
    LineList,
    load_documents,
    yaml_error_line,
    yaml_error_message,
)


class InventoryError(ScenarioError):
    """A farm inventory that cannot be used: `file:line: field: message`, like a scenario file."""


def _address(text: str) -> str:
    host, colon, port = str(text).rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"wants host:port with a port 1-65535, got {text!r}")
    return f"{host}:{int(port)}"


class Labels(BaseModel):
    """What a device is. Every field may be left out (unknown); a selection only matches what is set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["emulator", "phone"] | None = None
    firmware: str | None = None  # the build it runs (a scenario's `device: {firmware: ...}`)
    family: str | None = None  # firmware family (a profile name)
    api: int | None = Field(default=None, ge=1, le=99)
    sim_slots: int | None = Field(default=None, ge=0, le=4)

    def merged(self, override: Labels) -> Labels:
        return self.model_copy(update=override.model_dump(exclude_unset=True))

    def matches(self, wanted: dict[str, str]) -> bool:
        """`wanted` label -> value, as given by `--farm-select key=value` (all must hold)."""
        have = self.model_dump()
        return all(str(have.get(key)) == value for key, value in wanted.items())

    def text(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.model_dump(exclude_none=True).items())


class AdbAddress:
    """The host and port of an `adb` field ("host:port", checked where it is read)."""

    adb: str

    @property
    def host(self) -> str:
        return self.adb.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.adb.rpartition(":")[2])


class HostSpec(AdbAddress, BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    adb: str
    labels: Labels = Labels()
    respawn: bool = False
    boot_timeout: float = Field(default=120.0, gt=0, le=3600)  # how long a respawned emulator may take
    console_token: str | None = None
    # an emulator's console listens on its host's loopback only; a farm host that exposes it (a socat
    # sidecar, deploy/) does so at console port + this offset on the adb server's address
    console_offset: int | None = Field(default=None, ge=0, le=60000)
    devices: dict[str, Labels] = {}
    # when given, only these serials of the server belong to the farm (a developer's phone on the same
    # host, or an emulator the adb server adopted by its port scan, is not the farm's to lease)
    only: list[str] | None = None

    @field_validator("adb")
    @classmethod
    def _check_adb(cls, value: str) -> str:
        return _address(value)


class NetworkSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    connect: str
    via: str
    labels: Labels = Labels()

    @field_validator("connect", "via")
    @classmethod
    def _check(cls, value: str) -> str:
        return _address(value)


class Inventory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="farm", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    labels: Labels = Labels()
    hosts: list[HostSpec] = []
    network: list[NetworkSpec] = []

    def adb_servers(self) -> list[str]:
        """Every adb server the farm uses, in file order, once each."""
        return list(dict.fromkeys([h.adb for h in self.hosts] + [n.via for n in self.network]))

    def host(self, adb: str) -> HostSpec | None:
        return next((h for h in self.hosts if h.adb == adb), None)

    def belongs(self, adb: str, serial: str) -> bool:
        if any(n.via == adb and n.connect == serial for n in self.network):
            return True
        host = self.host(adb)
        return host is not None and (host.only is None or serial in host.only)

    def labels_for(self, adb: str, serial: str) -> Labels:
        labels = self.labels
        for net in self.network:
            if net.via == adb and net.connect == serial:
                return labels.merged(net.labels)
        host = self.host(adb)
        if host is not None:
            labels = labels.merged(host.labels)
            if serial in host.devices:
                labels = labels.merged(host.devices[serial])
        return labels


def load_inventory(path: Path) -> Inventory:
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(shown, None, None, f"cannot read the farm inventory: {exc}") from exc
    try:
        docs = load_documents(text)
    except yaml.YAMLError as exc:
        raise InventoryError(shown, yaml_error_line(exc), None, yaml_error_message(exc)) from exc
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise InventoryError(shown, 1, None, "a farm inventory is one mapping (name, labels, hosts, network)")
    data = docs[0]
    try:
        inventory = Inventory.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = error["loc"]
        raise InventoryError(shown, _line(data, where), _field(where), error["msg"]) from exc
    if not inventory.hosts and not inventory.network:
        raise InventoryError(shown, 1, None, "the farm has no hosts and no network devices")
    return inventory


def _line(data: Any, where: tuple[Any, ...]) -> int:
    """The line of the deepest node of `where` that the YAML still has (a missing key: its parent)."""
    line = getattr(data, "line", 1) or 1
    node = data
    for part in where:
        if isinstance(node, LineDict) and part in node or isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.line_of(part)
            node = node[part]
        else:
            break
    return line


def _field(where: tuple[Any, ...]) -> str:
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
