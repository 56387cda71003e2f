"""The config file: `[tool.regionlock]` in pyproject.toml, or a `harness.toml`.

Theory of operation
-------------------
The config file holds defaults for the plugin's own command-line options, so a lab writes its
backend, devices, profiles directory, SDK, AVD, exit proxies and timeouts once. It is generic: a key
is the `dest` of any option in the plugin's `harness` option group (`--exit-proxy` -> `exit_proxy`,
dashes and underscores alike), so an option added to that group is configurable without more code.
A flag given on the command line always wins over the file.

The file is found from the invocation directory upwards: in each directory `harness.toml` (its top
level, or its `[tool.regionlock]` table) and then `pyproject.toml` with a `[tool.regionlock]` table;
the first hit is used. Parsing is pure (`parse_table`): it returns the values to set or raises
`ConfigError` naming the file and the key.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

FILE_NAMES = ("harness.toml", "pyproject.toml")
TABLE = ("tool", "regionlock")


class ConfigError(HarnessError):
    """The config file is wrong (the lab's configuration): names the file and the key."""


@dataclass(frozen=True)
class OptionSpec:
    """What the parser needs to know about one command-line option (read from argparse's definition)."""

    dest: str
    flags: tuple[str, ...]
    default: object = None
    convert: Callable[[str], object] | None = None
    action: str | None = None  # store | append | store_true | store_false


@dataclass(frozen=True)
class ConfigFile:
    path: Path | None
    table: Mapping[str, object]


def find_config(start: Path) -> ConfigFile:
    """The nearest config file from `start` upwards, or an empty one."""
    for folder in (start.resolve(), *start.resolve().parents):
        for name in FILE_NAMES:
            path = folder / name
            if path.is_file():
                table = _table(path)
                if table is not None:
                    return ConfigFile(path, table)
    return ConfigFile(None, {})


def _table(path: Path) -> Mapping[str, object] | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not readable TOML: {exc}") from exc
    section: object = data
    for key in TABLE:
        section = section.get(key) if isinstance(section, dict) else None
    if isinstance(section, dict):
        return section
    if path.name == "harness.toml":  # its own file: the top level is the table
        return {k: v for k, v in data.items() if k != "tool"}
    return None


def parse_table(config: ConfigFile, specs: Sequence[OptionSpec]) -> dict[str, object]:
    """dest -> value for every key of the file, converted as the command line would convert it."""
    by_key = {spec.dest: spec for spec in specs}
    values: dict[str, object] = {}
    for raw_key, raw in config.table.items():
        key = raw_key.replace("-", "_")
        spec = by_key.get(key)
        if spec is None:
            near = difflib.get_close_matches(key, list(by_key), n=3)
            hint = f" (did you mean {', '.join(near)}?)" if near else f"; known keys: {', '.join(sorted(by_key))}"
            raise ConfigError(f"{config.path}: unknown key {raw_key!r}{hint}")
        values[spec.dest] = _convert(config.path, raw_key, raw, spec)
    return values


def _convert(path: Path | None, key: str, raw: object, spec: OptionSpec) -> object:
    where = f"{path}: {key}"
    if spec.action in ("store_true", "store_false"):
        if not isinstance(raw, bool):
            raise ConfigError(f"{where}: wants true or false, got {raw!r}")
        return raw if spec.action == "store_true" else not raw
    if spec.action == "append":
        items = [f"{k}={v}" for k, v in raw.items()] if isinstance(raw, dict) else raw
        items = items if isinstance(items, list) else [items]
        return [_scalar(where, item, spec) for item in items]
    return _scalar(where, raw, spec)


def _scalar(where: str, raw: object, spec: OptionSpec) -> object:
    if isinstance(raw, dict | list):
        raise ConfigError(f"{where}: wants a single value, got {raw!r}")
    text = raw if isinstance(raw, str) else str(raw).lower() if isinstance(raw, bool) else str(raw)
    if spec.convert is None:
        return text
    try:
        return spec.convert(text)
    except Exception as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def given_on_command_line(spec: OptionSpec, args: Iterable[str]) -> bool:
    """Was the option written out (`--flag v`, `--flag=v`)? Then it overrides the file."""
    return any(arg == flag or arg.startswith(flag + "=") for arg in args for flag in spec.flags)


def merged(config: ConfigFile, specs: Sequence[OptionSpec], current: Mapping[str, object],
           args: Iterable[str]) -> dict[str, object]:
    """The option values after the file: the file's value unless the flag was given."""
    args = list(args)
    file_values = parse_table(config, specs)
    out = {spec.dest: current.get(spec.dest, spec.default) for spec in specs}
    for spec in specs:
        if spec.dest in file_values and not given_on_command_line(spec, args):
            out[spec.dest] = file_values[spec.dest]
    return out


def render(config: ConfigFile, values: Mapping[str, object], specs: Sequence[OptionSpec],
           args: Iterable[str]) -> list[str]:
    """`key = value  (from: default | file | command line)` lines for `harness doctor`."""
    args = list(args)
    lines = [f"config file: {config.path or 'none (looked for harness.toml, pyproject.toml [tool.regionlock])'}"]
    for spec in sorted(specs, key=lambda s: s.dest):
        if spec.dest.startswith("harness_") or spec.dest == "harness_config":
            continue  # the CLI's plumbing, not lab configuration
        source = ("command line" if given_on_command_line(spec, args)
                  else "file" if spec.dest in config.table or spec.dest.replace("_", "-") in config.table
                  else "default")
        shown = "***" if _SECRET_KEY.search(spec.dest) else _show(values.get(spec.dest))
        lines.append(f"{spec.dest} = {shown}  ({source})")
    return lines


_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_SECRET_KEY = re.compile(r"token|password|secret|credential", re.IGNORECASE)


def _show(value: object) -> str:
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return "=".join(value)  # a parsed `CC=host:port`
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    text = repr(value) if isinstance(value, str) else str(value)
    return _USERINFO.sub("***@", text)  # a proxy URL's user:password never reaches the console


__all__ = ["ConfigError", "ConfigFile", "OptionSpec", "find_config", "given_on_command_line", "merged",
           "parse_table", "render"]
