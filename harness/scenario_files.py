"""Which YAML files a run collects as scenarios, and which it leaves out (and why).

A YAML file with a top-level `scenario:` key is collected when it lies under a folder whose name is a
scenario folder (`--scenario-dir`, the `harness_scenario_dirs` ini value, default `scenarios`) or
was itself named on the command line. The same rules decide what the xdist controller
provisions devices for (before any worker collects) and what the end of the run lists as left out.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

import pytest

_SCENARIO_KEY = re.compile(r"^(- )?scenario\s*:", re.MULTILINE)
_SKIP_DIRS = ("__pycache__", "node_modules", "allure-results", "allure-report")


def is_scenario_file(path: Path) -> bool:
    if path.suffix not in (".yaml", ".yml"):
        return False
    try:
        return bool(_SCENARIO_KEY.search(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False


def scenario_dir_names(config: pytest.Config) -> set[str]:
    return set(config.getoption("scenario_dirs", None) or config.getini("harness_scenario_dirs"))


def _explicit_files(config: pytest.Config) -> set[Path]:
    """YAML files the user named on the command line: always meant to run. (A named *folder* is not
    enough: test trees hold YAML data; `harness run FOLDER` adds the folder as a scenario folder.)"""
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return set()
    named = (Path(config.invocation_params.dir, a.split("::")[0]).resolve() for a in config.args)
    return {path for path in named if path.is_file()}


def in_scope(config: pytest.Config, path: Path) -> bool:
    if scenario_dir_names(config) & set(path.parent.parts):
        return True
    return path.resolve() in _explicit_files(config)


def _walk_yaml(config: pytest.Config) -> Iterator[Path]:
    """YAML files under the run's arguments, pruned like pytest prunes (hidden, venvs, norecursedirs)."""
    norecurse = config.getini("norecursedirs")
    for arg in config.args:
        root = Path(config.invocation_params.dir, arg.split("::")[0])
        if root.is_file():
            if root.suffix in (".yaml", ".yml"):
                yield root
            continue
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS
                             and not any(fnmatch(d, pat) for pat in norecurse)
                             and not (Path(folder, d) / "pyvenv.cfg").exists())
            yield from (Path(folder, f) for f in sorted(files) if f.endswith((".yaml", ".yml")))


def iter_scenario_files(config: pytest.Config) -> Iterator[Path]:
    """Scenario files among the run's arguments (what collection will find), without importing."""
    return (path for path in _walk_yaml(config) if in_scope(config, path) and is_scenario_file(path))


def not_collected(config: pytest.Config) -> Iterator[tuple[str, str]]:
    """(path, why) for YAML files a user may have meant as scenarios that collection leaves out."""
    names = ", ".join(sorted(scenario_dir_names(config)))
    for path in _walk_yaml(config):
        shown = os.path.relpath(path, config.invocation_params.dir)
        if in_scope(config, path) and not is_scenario_file(path):
            yield shown, "no top-level `scenario:` key"
        elif not in_scope(config, path) and is_scenario_file(path):
            yield shown, (f"not under a scenario folder ({names}): add its folder with --scenario-dir / "
                          "harness_scenario_dirs, or run `harness run FOLDER`")


__all__ = ["in_scope", "is_scenario_file", "iter_scenario_files", "not_collected", "scenario_dir_names"]
