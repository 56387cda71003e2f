"""Suite benchmark: the smoke catalogue on 1, 2 and 4 virtual emulators.

Reports scenarios per minute and parallel efficiency (throughput at N devices / (N x throughput at
1)), and the harness's time per scenario step against a raw `adb shell true` round trip on the same
kind of device, so a slow harness shows up as overhead instead of hiding in device time.

    .venv/bin/python bench/bench_suite.py [--devices 1 2 4] [--paths scenarios/smoke] [--json out.json]

Run by hand or nightly; never part of the test run. On a 2-core machine expect efficiency to drop
above 2 devices: the emulators and the workers share the cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.backends.base import BackendOptions
from harness.backends.virtual import VirtualBackend, _adb_client
from harness.cli import RunRequest, pytest_argv, read_events
from harness.scenario.loader import load_paths


@dataclass
class SuiteRun:
    devices: int
    scenarios: int
    wall_seconds: float
    per_minute: float
    efficiency: float = 1.0
    outcomes: dict[str, int] | None = None


def run_suite(paths: list[str], devices: int) -> SuiteRun:
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        events = Path(tmp) / "events.jsonl"
        req = RunRequest(tuple(paths), devices, None, None, "virtual", Path(tmp) / "allure")
        started = time.monotonic()
        subprocess.run(pytest_argv(req, events), cwd=ROOT, capture_output=True, check=False)
        wall = time.monotonic() - started
        _, records = read_events(events)
    outcomes: dict[str, int] = {}
    for rec in records:
        outcomes[rec["outcome"]] = outcomes.get(rec["outcome"], 0) + 1
    return SuiteRun(devices, len(records), wall, 60 * len(records) / wall if wall else 0.0, outcomes=outcomes)


def adb_round_trip(samples: int = 30) -> float:
    """Median seconds of `adb shell true` through the adb server on one booted virtual emulator."""
    backend = VirtualBackend(BackendOptions())
    try:
        handle = backend.provision(1)[0]
        device = _adb_client(handle).device(handle.serial)
        timings = []
        for _ in range(samples):
            started = time.perf_counter()
            device.shell("true")
            timings.append(time.perf_counter() - started)
        return statistics.median(timings)
    finally:
        backend.teardown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--paths", nargs="+", default=["scenarios/smoke"])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    steps = sum(len(s.steps) for s in load_paths([ROOT / p for p in args.paths]))
    runs = [run_suite(args.paths, n) for n in args.devices]
    base = runs[0].per_minute / runs[0].devices if runs and runs[0].per_minute else 0.0
    for r in runs:
        r.efficiency = r.per_minute / (r.devices * base) if base else 0.0
    rtt = adb_round_trip()
    print(f"{'devices':>7} {'scenarios':>9} {'wall s':>8} {'per min':>8} {'efficiency':>10}  outcomes")
    for r in runs:
        print(f"{r.devices:>7} {r.scenarios:>9} {r.wall_seconds:>8.1f} {r.per_minute:>8.1f} {r.efficiency:>10.0%}"
              f"  {r.outcomes}")
    one = runs[0]
    per_step = one.wall_seconds / steps if steps else 0.0
    print(f"harness time per step (1 device, incl. boot): {per_step * 1000:.0f} ms; "
          f"raw adb shell round trip: {rtt * 1000:.1f} ms; ratio {per_step / rtt if rtt else 0:.0f}x")
    if args.json:
        args.json.write_text(json.dumps({"runs": [asdict(r) for r in runs], "steps": steps,
                                         "adb_round_trip_s": rtt, "step_s": per_step}, indent=1))


if __name__ == "__main__":
    main()
