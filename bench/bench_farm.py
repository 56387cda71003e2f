"""Farm benchmark: one catalogue on a farm of 1, 2 and 3 hosts (2 virtual emulators each), and two
concurrent runs sharing the 3-host farm through one Redis.

A "host" is an adb server on a loopback port with its emulators under a respawn supervisor
(tests/farmlab.py); the runs are `pytest --farm farm.yaml --redis URL -n W` as CI would start them.
Reports scenarios per minute and parallel efficiency (throughput with D devices / (D/2 x throughput
with 2 devices): the 1-host run is the baseline, since a host has 2 devices).

    .venv/bin/python bench/bench_farm.py [--paths scenarios/smoke scenarios/sanctions] [--json out.json]

On one 2-core machine every "host" shares the same cores, so efficiency falls with hosts; on a real
farm the hosts are separate machines and only Redis and the adb round trips are shared. Never part
of the test run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.farmlab import FarmLab, farm_yaml, start_farm
from tests.redis_server import redis_server


@dataclass
class Result:
    label: str
    devices: int
    scenarios: int
    passed: int
    seconds: float

    @property
    def per_minute(self) -> float:
        return 60.0 * self.scenarios / self.seconds if self.seconds else 0.0


def run(lab: FarmLab, hosts: int, url: str, paths: list[str], workers: int, workdir: Path,
        name: str) -> subprocess.Popen[str]:
    inventory = workdir / f"farm-{hosts}.yaml"
    inventory.write_text(farm_yaml("lab", lab.hosts[:hosts], lab.token))
    summary = workdir / f"{name}.jsonl"
    summary.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider", "-m", "not custom-rom",
            "--farm", str(inventory), "--redis", url, "-n", str(workers), "--harness-summary", str(summary)]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen[str], summary: Path, label: str, devices: int, started: float) -> Result:
    out = proc.communicate()[0]
    seconds = time.monotonic() - started
    records = [r for r in map(json.loads, summary.read_text().splitlines()) if r.get("event") == "result"]
    if proc.returncode not in (0, 1):
        print(out[-3000:], file=sys.stderr)
    return Result(label, devices, len(records), sum(r["outcome"] == "passed" for r in records), seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paths", nargs="+", default=["scenarios/smoke", "scenarios/sanctions"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-farm-") as tmp:
        work = Path(tmp)
        with redis_server(work / "redis") as url:
            lab = start_farm(work / "farm", hosts=3, per_host=2)
            try:
                for hosts in (1, 2, 3):
                    started = time.monotonic()
                    proc = run(lab, hosts, url, args.paths, 2 * hosts, work, f"h{hosts}")
                    results.append(finish(proc, work / f"h{hosts}.jsonl", f"{hosts} host(s)", 2 * hosts, started))
                    print(results[-1], flush=True)
                started = time.monotonic()
                procs = [run(lab, 3, url, args.paths, 3, work, f"c{i}") for i in (1, 2)]
                pair = [finish(p, work / f"c{i}.jsonl", f"concurrent run {i}", 3, started)
                        for i, p in zip((1, 2), procs, strict=True)]
                results += pair
                both = Result("2 concurrent runs (3 hosts)", 6, sum(r.scenarios for r in pair),
                              sum(r.passed for r in pair), max(r.seconds for r in pair))
                results.append(both)
            finally:
                lab.stop()
    base = results[0].per_minute
    print(f"\n{'run':32} {'devices':>7} {'scenarios':>9} {'passed':>6} {'seconds':>8} {'per min':>8} {'efficiency':>10}")
    for r in results:
        eff = r.per_minute / (base * r.devices / 2) if base and "concurrent run " not in r.label else float("nan")
        print(f"{r.label:32} {r.devices:>7} {r.scenarios:>9} {r.passed:>6} {r.seconds:>8.1f} "
              f"{r.per_minute:>8.1f} {eff:>10.2f}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) | {"per_minute": r.per_minute} for r in results], indent=1))


if __name__ == "__main__":
    main()
