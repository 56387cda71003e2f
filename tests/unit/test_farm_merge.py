"""Shard results merged into one Allure results folder: every result, one environment, no clobbering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.farm.merge import MergeError, merge_results


def shard(root: Path, name: str, results: list[str], devices: str) -> Path:
    path = root / name
    path.mkdir()
    for uuid in results:
        (path / f"{uuid}-result.json").write_text(json.dumps({"uuid": uuid, "status": "passed"}))
        (path / f"{uuid}-attachment.png").write_bytes(b"png")
    (path / "categories.json").write_text("[]")
    (path / "environment.properties").write_text(f"harness.devices={devices}\n{devices}.model=Pixel\n")
    return path


def test_shards_become_one_results_folder(tmp_path: Path) -> None:
    a = shard(tmp_path, "shard-1", ["a1", "a2"], "emulator-5554")
    b = shard(tmp_path, "shard-2", ["b1"], "emulator-5556")
    (b / "history").mkdir()  # a report's, not a shard's
    into = tmp_path / "merged"
    assert merge_results([a, b], into) == 3
    assert sorted(p.name for p in into.glob("*-result.json")) == ["a1-result.json", "a2-result.json", "b1-result.json"]
    env = (into / "environment.properties").read_text().splitlines()
    assert "harness.devices=emulator-5554,emulator-5556" in env and "emulator-5556.model=Pixel" in env
    assert not (into / "history").exists()


def test_a_name_in_two_shards_with_different_content_is_refused(tmp_path: Path) -> None:
    a = shard(tmp_path, "shard-1", ["same"], "d1")
    b = shard(tmp_path, "shard-2", ["same"], "d2")
    (b / "same-result.json").write_text("{}")
    with pytest.raises(MergeError, match="same-result.json is in two shards"):
        merge_results([a, b], tmp_path / "merged")
    with pytest.raises(MergeError, match="does not exist"):
        merge_results([a, tmp_path / "shard-9"], tmp_path / "merged2")
