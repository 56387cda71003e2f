"""The config file: found upwards, generic over the plugin's options, the command line wins, errors name
the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import ConfigError, ConfigFile, OptionSpec, find_config, merged, parse_table, render


def _int(text: str) -> int:
    if not text.isdigit():
        raise ValueError(f"wants a whole number, got {text!r}")
    return int(text)


SPECS = [
    OptionSpec("backend", ("--backend",), "virtual"),
    OptionSpec("retries", ("--retries",), 1, _int),
    OptionSpec("serial", ("--serial",), [], None, "append"),
    OptionSpec("exit_proxy", ("--exit-proxy",), [], None, "append"),
    OptionSpec("allow_all_skipped", ("--allow-all-skipped",), False, None, "store_true"),
    OptionSpec("avd", ("--avd",), None),  # an option another part of the harness adds: nothing else to do
]


def test_harness_toml_is_found_upwards_before_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.regionlock]\nbackend = "adb"\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep).table == {"backend": "adb"}
    (tmp_path / "a" / "harness.toml").write_text('backend = "sdk"\navd = "Pixel_API_34"\n')
    found = find_config(deep)
    assert found.path == tmp_path / "a" / "harness.toml" and found.table["avd"] == "Pixel_API_34"


def test_a_pyproject_without_the_table_is_not_a_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    assert find_config(tmp_path) == ConfigFile(None, {})


def test_values_are_converted_as_the_command_line_would() -> None:
    table = {"retries": 2, "serial": "R58M", "exit-proxy": {"IR": "10.0.0.1:3128"}, "allow_all_skipped": True}
    assert parse_table(ConfigFile(Path("h.toml"), table), SPECS) == {
        "retries": 2, "serial": ["R58M"], "exit_proxy": ["IR=10.0.0.1:3128"], "allow_all_skipped": True}


@pytest.mark.parametrize(("table", "message"), [
    ({"retires": 2}, "h.toml: unknown key 'retires' (did you mean retries?)"),
    ({"retries": "many"}, "h.toml: retries: wants a whole number, got 'many'"),
    ({"allow_all_skipped": "yes"}, "h.toml: allow_all_skipped: wants true or false, got 'yes'"),
    ({"backend": ["a", "b"]}, "h.toml: backend: wants a single value"),
])
def test_errors_name_the_file_and_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        parse_table(ConfigFile(Path("h.toml"), table), SPECS)


def test_the_command_line_wins_over_the_file() -> None:
    config = ConfigFile(Path("h.toml"), {"backend": "adb", "retries": 3})
    current = {"backend": "virtual", "retries": 0}
    values = merged(config, SPECS, current, ["scenarios", "--retries=0"])
    assert values["backend"] == "adb" and values["retries"] == 0
    lines = render(config, values, SPECS, ["--retries=0"])
    assert "backend = 'adb'  (file)" in lines and "retries = 0  (command line)" in lines
    assert "avd = None  (default)" in lines


def test_secrets_in_the_config_never_reach_the_console() -> None:
    config = ConfigFile(Path("h.toml"), {"exit_proxy": ["IR=http://user:pw@proxy:3128"]})
    values = merged(config, SPECS, {}, [])
    assert not any("pw" in line for line in render(config, values, SPECS, []))
