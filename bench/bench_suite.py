"""Suite benchmark: a scenario catalogue on 1, 2 and 4 virtual emulators.

Reports, per device count, scenarios per minute and parallel efficiency (throughput at N devices /
(N x throughput at 1)); per step kind, the median and p95 seconds the runner spent in that step;
and, for the spoof steps, their median expressed in adb round trips measured two ways on a booted
virtual emulator, so a slow harness shows up as overhead instead of hiding in device time:

- through `harness.session.LowLatencyDevice` (adbutils, what the harness itself pays per shell call);
- at the protocol level (`host:transport:SERIAL` then `shell:true` on our own socket, no client
  sleeps: the adb server plus the emulator only; the helper is bench_emulator.raw_service).

    .venv/bin/python bench/bench_suite.py [--devices 1 2 4] [--paths scenarios/smoke] [--json out.json]

`--paths scenarios` runs the whole catalogue. Run by hand or nightly; never part of the test run. On a
2-core machine expect efficiency to drop above 2 devices: the emulators and the workers share the cores.
Step timings come from the `steps` field of the plugin's `--harness-summary` result events; a scenario
that did not complete (failed, error, skipped) has none, so only completed scenarios feed the step table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # bench_emulator, also when imported from elsewhere

from bench_emulator import raw_service

from harness.backends.base import BackendOptions
from harness.backends.virtual import VirtualBackend, _adb_client
from harness.cli import RunRequest, pytest_argv, read_events
from harness.scenario.loader import load_paths
from harness.session import LowLatencyDevice

# Steps that only change what the device reports (props, console, settings): the ones whose cost
# should be a handful of adb round trips, hence the round-trip ratio.
SPOOF_KINDS = ("sim", "network", "location", "locale", "wifi", "data", "airplane", "timezone")


@dataclass
class SuiteRun:
    devices: int
    scenarios: int
    wall_seconds: float
    per_minute: float
    efficiency: float = 1.0
    outcomes: dict[str, int] = field(default_factory=dict)
    step_seconds: list[tuple[str, float]] = field(default_factory=list)  # completed scenarios only
    exit_code: int = 0

    @property
    def busy_share(self) -> float:
        """Share of the devices' wall time spent inside scenario steps (the rest: pytest, provisioning)."""
        return sum(s for _, s in self.step_seconds) / (self.wall_seconds * self.devices) if self.wall_seconds else 0.0


@dataclass(frozen=True)
class StepStats:
    kind: str
    count: int
    p50_s: float
    p95_s: float


@dataclass(frozen=True)
class RoundTrips:
    """Median seconds of `shell true`, each way, on one booted virtual emulator."""

    low_latency_s: float
    protocol_s: float
    samples: int


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def step_stats(samples: list[tuple[str, float]]) -> list[StepStats]:
    by_kind: dict[str, list[float]] = {}
    for kind, seconds in samples:
        by_kind.setdefault(kind, []).append(seconds)
    return [StepStats(kind, len(v), statistics.median(v), p95(v)) for kind, v in sorted(by_kind.items())]


def run_suite(paths: list[str], devices: int) -> SuiteRun:
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        events = Path(tmp) / "events.jsonl"
        workers = ("-n", str(devices)) if devices > 1 else ()
        req = RunRequest((*paths, *workers, "--backend", "virtual", "-q"), Path(tmp) / "allure")
        started = time.monotonic()
        proc = subprocess.run(pytest_argv(req, events), cwd=ROOT, capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        _, records = read_events(events)
    if not records:  # pytest never ran a scenario: show why instead of a table of zeros
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
    outcomes: dict[str, int] = {}
    steps: list[tuple[str, float]] = []
    for rec in records:
        outcomes[rec["outcome"]] = outcomes.get(rec["outcome"], 0) + 1
        steps += [(str(kind), float(seconds)) for kind, seconds in rec.get("steps", [])]
    per_minute = 60 * len(records) / wall if wall else 0.0
    return SuiteRun(devices, len(records), wall, per_minute, outcomes=outcomes, step_seconds=steps,
                    exit_code=proc.returncode)


def _median_of(call: Callable[[], object], samples: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        call()
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def round_trips(samples: int = 50) -> RoundTrips:
    """`shell true` on one provisioned virtual emulator: as the harness talks to it, and raw."""
    backend = VirtualBackend(BackendOptions())
    try:
        handle = backend.provision(1)[0]
        device = LowLatencyDevice(_adb_client(handle), serial=handle.serial)  # as DeviceSession builds it
        assert raw_service(handle.adb_server_port, handle.serial, "shell:true") == b""
        return RoundTrips(
            low_latency_s=_median_of(lambda: device.shell("true"), samples),
            protocol_s=_median_of(lambda: raw_service(handle.adb_server_port, handle.serial, "shell:true"), samples),
            samples=samples)
    finally:
        backend.teardown()


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------

def print_runs(runs: list[SuiteRun], steps_per_pass: int) -> None:
    print(f"{'devices':>7} {'scenarios':>9} {'steps':>6} {'wall s':>8} {'per min':>8} {'efficiency':>10}"
          f" {'in steps':>8}  outcomes")
    for r in runs:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r.outcomes.items()))
        print(f"{r.devices:>7} {r.scenarios:>9} {steps_per_pass:>6} {r.wall_seconds:>8.1f} {r.per_minute:>8.1f}"
              f" {r.efficiency:>10.0%} {r.busy_share:>8.0%}  {outcomes}")


def print_steps(runs: list[SuiteRun], rtt: RoundTrips) -> None:
    """One row per step kind: count and p50/p95 ms at each device count, then the round-trip ratios."""
    per_run = [{s.kind: s for s in step_stats(r.step_seconds)} for r in runs]
    kinds = sorted({k for stats in per_run for k in stats}, key=lambda k: (k not in SPOOF_KINDS, k))
    head = f"{'step':<13} {'n':>4}"
    for r in runs:
        head += f" {f'p50 ms @{r.devices}':>11} {f'p95 ms @{r.devices}':>11}"
    head += f" {'/ LowLat rtt':>12} {'/ proto rtt':>11}"
    print(head)
    for kind in kinds:
        first = per_run[0].get(kind)
        line = f"{kind:<13} {first.count if first else 0:>4}"
        for stats in per_run:
            s = stats.get(kind)
            line += f" {s.p50_s * 1000:>11.1f} {s.p95_s * 1000:>11.1f}" if s else f" {'-':>11} {'-':>11}"
        if kind in SPOOF_KINDS and first:
            line += f" {first.p50_s / rtt.low_latency_s:>11.1f}x {first.p50_s / rtt.protocol_s:>10.0f}x"
        print(line)
    print(f"n: step count in the {runs[0].devices}-device run; the ratios divide its spoof-step p50 by the median"
          f" `shell true` round trip (n={rtt.samples}):")
    print(f"  LowLatencyDevice (adbutils, as the harness): {rtt.low_latency_s * 1000:.2f} ms;"
          f" protocol (raw socket, adb server + emulator): {rtt.protocol_s * 1000:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--paths", nargs="+", default=["scenarios/smoke"])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    scenarios = load_paths([ROOT / p for p in args.paths])
    steps_per_pass = sum(len(s.steps) for s in scenarios)
    print(f"{len(scenarios)} scenarios ({steps_per_pass} steps) under {' '.join(args.paths)}", flush=True)
    runs = []
    for n in args.devices:
        runs.append(run_suite(args.paths, n))
        print(f"  {n} device(s): {runs[-1].wall_seconds:.1f} s", flush=True)
    base = runs[0].per_minute / runs[0].devices if runs and runs[0].per_minute else 0.0
    for r in runs:
        r.efficiency = r.per_minute / (r.devices * base) if base else 0.0
    rtt = round_trips()
    print()
    print_runs(runs, steps_per_pass)
    print("efficiency: throughput / (devices x throughput at the first count); in steps: share of"
          " devices x wall spent inside scenario steps")
    print()
    print_steps(runs, rtt)
    if args.json:
        args.json.write_text(json.dumps({
            "paths": args.paths, "steps_per_pass": steps_per_pass,
            "runs": [{**asdict(r), "busy_share": r.busy_share} for r in runs],
            "step_stats": {r.devices: [asdict(s) for s in step_stats(r.step_seconds)] for r in runs},
            "round_trips": asdict(rtt)}, indent=1))


if __name__ == "__main__":
    main()
