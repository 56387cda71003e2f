"""AVD files: NAME.ini -> NAME.avd/config.ini, and the AVD home from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.virtual.avd import AvdError, UnknownAvd, avd_home, find_avd, list_avds, parse_ini


@pytest.mark.parametrize(("text", "expected"), [
    ("", {}),
    ("a=1\nb = two words \n", {"a": "1", "b": "two words"}),
    ("# comment\n; other\n\nno-equals\nk=v=w\n", {"k": "v=w"}),
    ("k=1\nk=2\n", {"k": "2"}),
    ("hw.lcd.density=420\r\nabi.type=x86_64\r\n", {"hw.lcd.density": "420", "abi.type": "x86_64"}),
    ("empty=\n", {"empty": ""}),
])
def test_parse_ini(text: str, expected: dict[str, str]) -> None:
    assert parse_ini(text) == expected


def write_avd(home: Path, name: str, ini: str | None = None, config: str = "firmware=builtin\n") -> Path:
    folder = home / f"{name}.avd"
    folder.mkdir(parents=True)
    (folder / "config.ini").write_text(config)
    (home / f"{name}.ini").write_text(ini if ini is not None else f"path={folder}\n")
    return folder


def test_find_avd_by_absolute_path(tmp_path: Path) -> None:
    folder = write_avd(tmp_path, "Pixel_6", config="hw.device.name=pixel_6\nfirmware=builtin\n")
    avd = find_avd("Pixel_6", tmp_path)
    assert avd.name == "Pixel_6"
    assert avd.path == folder
    assert avd.config == {"hw.device.name": "pixel_6", "firmware": "builtin"}


def test_find_avd_falls_back_to_path_rel(tmp_path: Path) -> None:
    home = tmp_path / "avd"
    folder = write_avd(home, "Moved", ini="path=/gone/Moved.avd\npath.rel=avd/Moved.avd\n")
    assert find_avd("Moved", home).path == folder


def test_missing_config_ini_is_an_empty_config(tmp_path: Path) -> None:
    folder = write_avd(tmp_path, "Bare")
    (folder / "config.ini").unlink()
    assert find_avd("Bare", tmp_path).config == {}


def test_unknown_avd_message(tmp_path: Path) -> None:
    with pytest.raises(UnknownAvd) as error:
        find_avd("Nope", tmp_path)
    assert str(error.value) == "Unknown AVD name [Nope], use -list-avds to see valid list."


def test_ini_pointing_nowhere(tmp_path: Path) -> None:
    (tmp_path / "Ghost.ini").write_text("path=/no/such/Ghost.avd\n")
    with pytest.raises(AvdError, match="does not exist"):
        find_avd("Ghost", tmp_path)


def test_list_avds(tmp_path: Path) -> None:
    write_avd(tmp_path, "B_avd")
    write_avd(tmp_path, "A_avd")
    assert list_avds(tmp_path) == ["A_avd", "B_avd"]
    assert list_avds(tmp_path / "missing") == []


@pytest.mark.parametrize(("env", "expected"), [
    ({"ANDROID_AVD_HOME": "/x/avds", "ANDROID_EMULATOR_HOME": "/y", "HOME": "/h"}, "/x/avds"),
    ({"ANDROID_EMULATOR_HOME": "/y/.android", "HOME": "/h"}, "/y/.android/avd"),
    ({"HOME": "/h"}, "/h/.android/avd"),
])
def test_avd_home(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str) -> None:
    for key in ("ANDROID_AVD_HOME", "ANDROID_EMULATOR_HOME", "HOME"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert avd_home() == Path(expected)
