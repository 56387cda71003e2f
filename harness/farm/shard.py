"""`--shard I/N`: this CI job's share of the selected scenarios.

Every job computes the same split from the same inputs (the selected node ids, sorted, and the
durations file when there is one), so N jobs cover the selection exactly once with no coordination.
Balancing is greedy longest-first onto the least-loaded shard (ties: lowest shard, then node id);
a scenario without a recorded duration counts as the median of the known ones (1 s if none).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` with 1 <= I <= N -> (I, N)."""
    index, sep, total = text.partition("/")
    if not sep or not index.strip().isdigit() or not total.strip().isdigit():
        raise ValueError(f"--shard wants I/N (e.g. 2/4), got {text!r}")
    i, n = int(index), int(total)
    if not 1 <= i <= n:
        raise ValueError(f"--shard {text}: I must be between 1 and N")
    return i, n


def assign(nodeids: list[str], shards: int, durations: dict[str, float] | None = None) -> dict[str, int]:
    """node id -> shard number (1-based)."""
    durations = durations or {}
    known = [durations[n] for n in nodeids if n in durations]
    default = statistics.median(known) if known else 1.0
    order = sorted(set(nodeids), key=lambda n: (-durations.get(n, default), n))
    loads = [0.0] * shards
    out = {}
    for nodeid in order:
        target = min(range(shards), key=lambda s: (loads[s], s))
        loads[target] += durations.get(nodeid, default)
        out[nodeid] = target + 1
    return out


def load_durations(path: Path) -> dict[str, float]:
    """The durations file (node id -> seconds); missing or unreadable is an empty record."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float) and v >= 0}


def save_durations(path: Path, new: dict[str, float]) -> None:
    """Merge this run's durations into the file (other shards' entries are kept)."""
    merged = {**load_durations(path), **new}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
