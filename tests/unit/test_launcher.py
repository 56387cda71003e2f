"""The launcher's command line, parsed without starting anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.virtual.launcher import LaunchOptions, UsageError, base_data_dir, boot_props, parse_args


def test_defaults() -> None:
    options = parse_args([])
    assert options == LaunchOptions()
    assert options.port == 5554 and options.avd is None


def test_sdk_command_line() -> None:
    options = parse_args(["-avd", "Pixel_6", "-port", "5580", "-no-window", "-no-audio", "-no-boot-anim",
                          "-wipe-data", "-read-only", "-prop", "firmware=builtin", "-prop", "a.b=c=d",
                          "-change-locale", "es-ES", "-snapshot", "clean", "--data-dir", "/tmp/d",
                          "-gpu", "swiftshader_indirect", "-netspeed", "lte"])
    assert options.avd == "Pixel_6"
    assert options.port == 5580
    assert options.props == {"firmware": "builtin", "a.b": "c=d"}
    assert options.change_locale == "es-ES"
    assert options.snapshot == "clean"
    assert options.data_dir == Path("/tmp/d")
    assert options.netspeed == "lte"
    assert {"-no-window", "-wipe-data", "-read-only"} <= options.flags
    assert options.unknown == ()


def test_at_avd_and_unknown_options() -> None:
    options = parse_args(["@Nexus", "-foo", "-bar", "value", "-no-window", "-qemu", "-m", "2048"])
    assert options.avd == "Nexus"
    assert options.unknown == ("-foo", "-bar")
    assert "-no-window" in options.flags


@pytest.mark.parametrize(("argv", "message"), [
    (["-port", "5555"], "Invalid port number: 5555"),
    (["-port", "abc"], "Invalid port number: abc"),
    (["-port", "80"], "Invalid port number: 80"),
    (["-avd"], "option -avd needs an argument"),
    (["-prop", "novalue"], "-prop needs key=value"),
])
def test_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_args(argv)


@pytest.mark.parametrize(("argv", "load", "save"), [
    (["-snapshot", "s"], True, True),
    (["-snapshot", "s", "-no-snapshot"], False, False),
    (["-snapshot", "s", "-no-snapshot-load"], False, True),
    (["-snapshot", "s", "-no-snapshot-save"], True, False),
    (["-snapshot", "s", "-read-only"], True, False),
    ([], False, False),
])
def test_snapshot_flags(argv: list[str], load: bool, save: bool) -> None:
    options = parse_args(argv)
    assert (options.load_snapshot, options.save_snapshot) == (load, save)


def test_boot_props_from_flags() -> None:
    options = parse_args(["-no-sim", "-icc-profile", "/p/sim.xml", "-http-proxy", "http://h:3128",
                          "-prop", "timing=fast"])
    assert boot_props(options) == {"timing": "fast", "sim0.absent": "1", "icc_profile": "/p/sim.xml",
                                   "http_proxy": "http://h:3128"}


def test_data_dir_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from emulators.virtual.avd import Avd

    monkeypatch.setenv("ANDROID_AVD_HOME", str(tmp_path / "avd"))
    assert base_data_dir(parse_args(["--data-dir", "/d"]), None) == Path("/d")
    assert base_data_dir(parse_args(["-port", "5560"]), None) == tmp_path / "avd" / "virtual-5560.data"
    avd = Avd("X", tmp_path / "X.avd")
    assert base_data_dir(parse_args([]), avd) == tmp_path / "X.avd" / "virtual-data"
