"""--shard I/N through pytest's own collection: the shards partition the selection, after -m."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.support import REPO_ROOT


def collect_all(*runs: tuple[str, ...]) -> list[list[str]]:
    """Node ids each collection selects; the collections run at once (each pays pytest's start-up)."""
    procs = [subprocess.Popen([sys.executable, "-m", "pytest", "scenarios", "--collect-only", "-q",
                               "-p", "no:cacheprovider", "-m", "not smoke", *args], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for args in runs]
    out = []
    for proc in procs:
        text = proc.communicate(timeout=120)[0]
        assert proc.returncode == 0, text[-2000:]
        out.append([line for line in text.splitlines() if re.match(r"^scenarios/.*::", line)])
    return out


def test_shards_partition_the_selection_and_durations_balance_them(tmp_path: Path) -> None:
    plain = collect_all(*[("--shard", f"{i}/3") for i in (1, 2, 3)])
    everything = sorted(n for shard in plain for n in shard)
    assert len(everything) == len(set(everything)) > 20  # disjoint, and the selection is all there
    assert all(abs(len(s) - len(everything) / 3) < 1 for s in plain)
    durations = tmp_path / "durations.json"  # one scenario longer than all others together: its shard gets nothing else
    longest = float(len(everything))
    durations.write_text(json.dumps({nodeid: longest if i == 0 else 1.0 for i, nodeid in enumerate(everything)}))
    balanced = collect_all(*[("--shard", f"{i}/3", "--shard-durations", str(durations)) for i in (1, 2, 3)])
    assert sorted(n for shard in balanced for n in shard) == everything
    assert [everything[0]] in balanced
