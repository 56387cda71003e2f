"""--shard I/N: every job computes the same split; together they cover the selection once."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.farm.shard import assign, load_durations, parse_shard, save_durations

IDS = [f"scenarios/s{i}.yaml::{i}" for i in range(10)]


def test_shards_cover_the_selection_exactly_once_and_do_not_depend_on_order() -> None:
    first = assign(IDS, 3)
    assert first == assign(list(reversed(IDS)), 3)
    assert set(first) == set(IDS)
    sizes = sorted(list(first.values()).count(s) for s in (1, 2, 3))
    assert sizes == [3, 3, 4]


def test_durations_balance_the_shards() -> None:
    durations = {IDS[0]: 100.0, IDS[1]: 60.0, IDS[2]: 40.0}
    owner = assign(IDS[:3], 2, durations)
    assert owner[IDS[0]] != owner[IDS[1]] and owner[IDS[1]] == owner[IDS[2]]  # 100 | 60 + 40


def test_unknown_scenarios_count_as_the_median() -> None:
    durations = {IDS[0]: 10.0, IDS[1]: 10.0, IDS[2]: 30.0}
    owner = assign(IDS[:4], 2, durations)  # IDS[3] counts 10 s: 30 | 10 + 10 + 10
    assert [owner[i] for i in IDS[:4]].count(owner[IDS[2]]) == 1


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_bad_shard_specs_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="--shard"):
        parse_shard(text)


def test_durations_file_merges_and_tolerates_junk(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    assert load_durations(path) == {}
    save_durations(path, {"a": 1.5})
    save_durations(path, {"b": 2.0})
    assert load_durations(path) == {"a": 1.5, "b": 2.0}
    path.write_text("not json")
    assert load_durations(path) == {}
