"""Shard results into one Allure results folder, for one report of a sharded run.

`allure generate` reads several folders too, but the report's history (Trend, Retries across runs)
is carried through one results folder, and two shards' `environment.properties` must be merged
rather than one overwriting the other. Result, container and attachment files have UUID names, so
copying them side by side is the merge; a name seen twice with different content is refused.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

from harness.errors import HarnessError

FIRST_WINS = ("categories.json", "executor.json")  # the same in every shard of one run


class MergeError(HarnessError):
    """Shard results that cannot be put together."""


def merge_results(shards: list[Path], into: Path) -> int:
    """Copy every shard's results into `into` (created); returns the number of test results."""
    into.mkdir(parents=True, exist_ok=True)
    environment: dict[str, str] = {}
    results = 0
    for shard in shards:
        if not shard.is_dir():
            raise MergeError(f"{shard} does not exist (a shard that did not run?)")
        for path in sorted(shard.iterdir()):
            if path.is_dir():
                continue  # history/ belongs to the report, not to a shard
            if path.name == "environment.properties":
                for line in path.read_text(encoding="utf-8").splitlines():
                    key, sep, value = line.partition("=")
                    if sep:
                        environment[key] = _union(environment.get(key), value) if key == "harness.devices" else value
                continue
            target = into / path.name
            if target.exists():
                if path.name in FIRST_WINS or filecmp.cmp(path, target, shallow=False):
                    continue
                raise MergeError(f"{path.name} is in two shards with different content ({shard})")
            shutil.copy2(path, target)
            results += path.name.endswith("-result.json")
    if environment:
        (into / "environment.properties").write_text(
            "".join(f"{k}={v}\n" for k, v in sorted(environment.items())), encoding="utf-8")
    return results


def _union(old: str | None, new: str) -> str:
    return ",".join(sorted({*filter(None, (old or "").split(",")), *filter(None, new.split(","))}))
