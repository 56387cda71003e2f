"""AVDs as the SDK lays them out: `$ANDROID_AVD_HOME/NAME.ini` pointing at `NAME.avd/config.ini`.

`NAME.ini` holds `path=` (absolute) and `path.rel=` (relative to the AVD home's parent, i.e.
`avd/NAME.avd`); `config.ini` is `key=value` lines. Parsing is pure (`parse_ini`); reading the
files is `find_avd` / `list_avds`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from emulators.virtual.device import DeviceError


class AvdError(DeviceError):
    """An AVD cannot be used; the message is what the launcher prints."""


class UnknownAvd(AvdError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Unknown AVD name [{name}], use -list-avds to see valid list.")
        self.name = name


@dataclass(frozen=True)
class Avd:
    name: str
    path: Path  # the NAME.avd folder
    config: dict[str, str] = field(default_factory=dict)  # config.ini


def emulator_home() -> Path:
    """`$ANDROID_EMULATOR_HOME`, else `~/.android`."""
    home = os.environ.get("ANDROID_EMULATOR_HOME")
    return Path(home) if home else Path(os.environ.get("HOME") or Path.home()) / ".android"


def avd_home() -> Path:
    """`$ANDROID_AVD_HOME`, else `$ANDROID_EMULATOR_HOME/avd`, else `~/.android/avd`."""
    if os.environ.get("ANDROID_AVD_HOME"):
        return Path(os.environ["ANDROID_AVD_HOME"])
    return emulator_home() / "avd"


def parse_ini(text: str) -> dict[str, str]:
    """`key=value` lines; blank lines and `#`/`;` comments are skipped; the last key wins."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip()
    return values


def list_avds(home: Path | None = None) -> list[str]:
    home = home or avd_home()
    if not home.is_dir():
        return []
    return sorted(p.stem for p in home.glob("*.ini") if p.is_file())


def find_avd(name: str, home: Path | None = None) -> Avd:
    """The AVD `name`, with its config.ini; UnknownAvd when there is no such AVD."""
    home = home or avd_home()
    ini = home / f"{name}.ini"
    if not ini.is_file():
        raise UnknownAvd(name)
    path = _avd_folder(parse_ini(ini.read_text()), home, name)
    if not path.is_dir():
        raise AvdError(f"AVD [{name}]: folder {path} (from {ini}) does not exist")
    config_file = path / "config.ini"
    config = parse_ini(config_file.read_text()) if config_file.is_file() else {}
    return Avd(name, path, config)


def _avd_folder(ini: dict[str, str], home: Path, name: str) -> Path:
    """`path=` when it exists, else `path.rel=` (relative to the AVD home's parent), else NAME.avd."""
    if ini.get("path") and Path(ini["path"]).is_dir():
        return Path(ini["path"])
    if ini.get("path.rel"):
        return home.parent / ini["path.rel"]
    if ini.get("path"):
        return Path(ini["path"])
    return home / f"{name}.avd"
