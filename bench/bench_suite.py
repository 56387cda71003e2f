"""Suite benchmark against the limit: the scenario catalogue on 1, 2 and 4 virtual emulators, under
`fast` and `realistic` device timing, with and without snapshot resets and prefix sharing.

    .venv/bin/python bench/bench_suite.py [--timing fast realistic] [--devices 1 2 4]
        [--configs cold snapshot-resets full] [--paths scenarios] [--json out.json]

The limit of a run is what the devices themselves forced: the sum of every delay they imposed (boot,
snapshot load, wizard page transition, activation reply), read from their own `EmuTiming` log lines
through adb logcat (bench/emu_timing.py), divided by the number of devices. No harness can finish
the catalogue faster on those devices. Per run it reports wall time, scenarios per minute, the limit,
the ratio wall / limit, and the parallel efficiency (throughput at N devices / (N x throughput at 1
device), when the same timing and configuration ran on 1 device). Per step kind it reports the
harness's own time: the step's wall time (Allure's step start/stop) minus the device's imposed waits
within it (the EmuTiming intervals placed on the same clock), against one `shell true` round trip
through the harness's own DeviceSession (adbutils, as the harness talks to a device) and at the
protocol level (raw socket: adb server + emulator only, bench_emulator.raw_service).

Configurations (agreed option names, issue 12):
- `cold`: every reset a cold boot, every scenario all its steps (`--no-snapshot-resets
  --no-prefix-sharing`; a harness without those options has no other mode, so its plain run is cold);
- `snapshot-resets`: resets load a snapshot, no prefix sharing (`--no-prefix-sharing`);
- `full`: both on (the harness's default).
A configuration the harness under test has no option for is reported "not available", never run as
something else. Targets (issue 12): wall within 1.3x of the limit under `realistic`; >= 85 %
parallel efficiency at 4 devices; the harness's own time per step within 2x of one round trip.

Load: the 1-minute load average is sampled every 5 s during each run (mean and max are reported): on
a shared machine the figures move with it. Run by hand; never part of the test run. A realistic run
of the whole catalogue at 4 devices takes tens of minutes (the devices mostly sleep).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))  # bench_emulator, emu_timing, also when imported from elsewhere

from bench_emulator import raw_service
from emu_timing import ENV_DIR, Delay, ScenarioSpan, cut_by_boots, read_allure, read_plugin_dir
from own_time import Interval, Split, covered, read_calls, split

from harness.backends.base import BackendOptions
from harness.backends.virtual import VirtualBackend
from harness.cli import RunRequest, pytest_argv, read_events
from harness.scenario.loader import load_paths

CONFIGS = {  # name -> the options it needs from the harness under test
    "cold": ("--no-snapshot-resets", "--no-prefix-sharing"),
    "snapshot-resets": ("--no-prefix-sharing",),
    "full": (),
}
FEATURE_OPTIONS = ("--no-snapshot-resets", "--no-prefix-sharing")
TARGET_RATIO, TARGET_EFFICIENCY, TARGET_RTTS = 1.3, 0.85, 2.0


@dataclass
class StepSample:
    kind: str
    wall: float
    device: float  # seconds of device-imposed delay inside the step
    # own time split from the harness's side (own_time.split): None when no calls were recorded
    split: Split | None = None

    @property
    def own(self) -> float:
        return max(0.0, self.wall - self.device)


@dataclass
class SuiteRun:
    timing: str
    config: str
    devices: int
    scenarios: int = 0
    wall_seconds: float = 0.0
    per_minute: float = 0.0
    limit_seconds: float = 0.0
    efficiency: float | None = None
    outcomes: dict[str, int] = field(default_factory=dict)
    delays: dict[str, tuple[int, float]] = field(default_factory=dict)  # kind -> (count, seconds), all devices
    unplaced_delays: int = 0  # delays inside no step (outside scenarios, or a moved device clock)
    steps: list[StepSample] = field(default_factory=list)
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)  # 1-min load average: at start, mean, max
    exit_code: int = 0
    available: bool = True
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.wall_seconds / self.limit_seconds if self.limit_seconds > 0 else None

    @property
    def in_steps(self) -> float:
        """Share of devices x wall spent inside scenario steps (the rest: pytest, provisioning, evidence)."""
        return sum(s.wall for s in self.steps) / (self.wall_seconds * self.devices) if self.wall_seconds else 0.0


@dataclass(frozen=True)
class RoundTrips:
    """Median seconds of one `shell true`, on one booted virtual emulator."""

    session_s: float  # harness DeviceSession.shell (adbutils, as the harness makes every device call)
    protocol_s: float  # raw socket: adb server + emulator only
    samples: int


# --------------------------------------------------------------------------------------------
# The harness under test
# --------------------------------------------------------------------------------------------

def harness_options() -> set[str]:
    """Which of the feature options the harness in this tree has (from its own `pytest --help`)."""
    out = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"], cwd=ROOT,
                         capture_output=True, text=True, check=False).stdout
    return {opt for opt in FEATURE_OPTIONS if opt in out}


def config_args(config: str, available: set[str]) -> tuple[str, ...] | None:
    """The options that select `config`, or None when the harness cannot run it."""
    if not available:  # a harness from before snapshots: every reset is a cold boot, nothing shared
        return () if config == "cold" else None
    wanted = CONFIGS[config]
    return wanted if set(wanted) <= available else None


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    dirty = " (+uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    return f"{git('rev-parse', '--short', 'HEAD')} {git('log', '-1', '--format=%s')[:60]}{dirty}"


# --------------------------------------------------------------------------------------------
# One run
# --------------------------------------------------------------------------------------------

class LoadSampler:
    def __init__(self, every: float = 5.0) -> None:
        self.samples = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> tuple[float, float, float]:
        self._stop.set()
        self._thread.join()
        return self.samples[0], statistics.mean(self.samples), max(self.samples)


def run_suite(paths: list[str], devices: int, timing: str, config: str, options: tuple[str, ...],
              keep: Path | None = None) -> SuiteRun:
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp_name:
        tmp = keep or Path(tmp_name)
        (tmp / "emu").mkdir(parents=True, exist_ok=True)
        events, allure = tmp / "events.jsonl", tmp / "allure"
        workers = ("-n", str(devices)) if devices > 1 else ()
        args = (*paths, *workers, "--backend", "virtual", "--device-prop", f"timing={timing}", *options,
                "-p", "emu_timing", "-p", "own_time", "-q")
        env = {**os.environ, ENV_DIR: str(tmp / "emu"),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH), os.environ.get("PYTHONPATH")]))}
        sampler = LoadSampler()
        started = time.monotonic()
        proc = subprocess.run(pytest_argv(RunRequest(args, allure), events), cwd=ROOT, env=env,
                              capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        load = sampler.stop()
        _, records = read_events(events)
        spans, attached = read_allure(allure) if allure.exists() else ([], [])
        delays = cut_by_boots([*attached, *read_plugin_dir(tmp / "emu")])
        calls = read_calls(tmp / "emu")
        if keep is not None:
            (tmp / "pytest.out").write_text(proc.stdout + proc.stderr)
    if not records:  # pytest never ran a scenario: show why instead of a table of zeros
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
    run = SuiteRun(timing, config, devices, len(records), wall, 60 * len(records) / wall if wall else 0.0,
                   load=load, exit_code=proc.returncode)
    for rec in records:
        run.outcomes[rec["outcome"]] = run.outcomes.get(rec["outcome"], 0) + 1
    run.limit_seconds = sum(d.seconds for d in delays) / devices
    for d in delays:
        count, seconds = run.delays.get(d.kind, (0, 0.0))
        run.delays[d.kind] = (count + 1, seconds + d.seconds)
    run.steps, run.unplaced_delays = place(spans, delays, calls)
    return run


def place(spans: list[ScenarioSpan], delays: list[Delay],
          calls: list[Interval] | None = None) -> tuple[list[StepSample], int]:
    """Each step with the device-imposed seconds inside it (and, given the harness's recorded calls,
    its own time split); and how many delays fell in no step."""
    by_serial: dict[str, list[Delay]] = {}
    for d in delays:
        by_serial.setdefault(d.serial, []).append(d)
    calls_of: dict[str, list[Interval]] = {}
    for c in calls or []:
        calls_of.setdefault(c.serial, []).append(c)
    samples, placed = [], set()
    for span in spans:
        mine = by_serial.get(span.serial, [])
        for step in span.steps:
            inside = [d for d in mine if d.overlap(step.start, step.stop) > 0]
            placed.update(inside)
            spans_in = [(d.start, d.end) for d in inside]
            recorded = [c for c in calls_of.get(span.serial, []) if c.end > step.start and c.start < step.stop]
            samples.append(StepSample(step.kind, step.stop - step.start, covered(spans_in, step.start, step.stop),
                                      split(step.start, step.stop, spans_in, recorded) if calls else None))
    return samples, len(set(delays) - placed)


# --------------------------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------------------------

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
    """`shell true` on one provisioned virtual emulator: through the harness's session, and raw."""
    backend = VirtualBackend(BackendOptions())
    try:
        handle = backend.provision(1)[0]
        session = backend.device_ops(handle).current_session()  # the DeviceSession scenarios run on
        assert raw_service(handle.adb_server_port, handle.serial, "shell:true") == b""
        return RoundTrips(
            session_s=_median_of(lambda: session.shell(["true"]), samples),
            protocol_s=_median_of(lambda: raw_service(handle.adb_server_port, handle.serial, "shell:true"), samples),
            samples=samples)
    finally:
        backend.teardown()


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------

def _pct(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "-"


def print_runs(runs: list[SuiteRun]) -> None:
    print(f"{'timing':<9} {'config':<15} {'dev':>3} {'scen':>4} {'wall s':>7} {'/min':>6} {'limit s':>7}"
          f" {'ratio':>5} {'effic':>5} {'steps%':>6} {'load 0/avg/max':>15}  outcomes")
    for r in runs:
        if not r.available:
            print(f"{r.timing:<9} {r.config:<15} {r.devices:>3}  not available: {r.note}")
            continue
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(r.outcomes.items()))
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        print(f"{r.timing:<9} {r.config:<15} {r.devices:>3} {r.scenarios:>4} {r.wall_seconds:>7.1f}"
              f" {r.per_minute:>6.1f} {r.limit_seconds:>7.1f} {ratio:>5} {_pct(r.efficiency):>5}"
              f" {r.in_steps:>6.0%} {r.load[0]:>5.1f}/{r.load[1]:>4.1f}/{r.load[2]:>4.1f}  {outcomes}")
    print("limit: sum of the devices' own imposed delays / devices; ratio: wall / limit; effic: throughput /"
          " (devices x the 1-device throughput, same timing and config); steps%: devices x wall inside steps")
    for r in runs:
        if r.available and r.delays:
            parts = ", ".join(f"{k} {n} x = {s:.0f} s" for k, (n, s) in sorted(r.delays.items()))
            print(f"  {r.timing} {r.config} {r.devices} dev: delays {parts}; {r.unplaced_delays} outside every step")


def step_table(run: SuiteRun) -> list[dict[str, float | int | str]]:
    by_kind: dict[str, list[StepSample]] = {}
    for s in run.steps:
        by_kind.setdefault(s.kind, []).append(s)
    rows: list[dict[str, float | int | str]] = []
    for kind, samples in sorted(by_kind.items(), key=lambda kv: -sum(s.wall for s in kv[1])):
        own = sorted(s.own for s in samples)
        row: dict[str, float | int | str] = {
            "kind": kind, "n": len(samples), "wall_p50": statistics.median(s.wall for s in samples),
            "device_p50": statistics.median(s.device for s in samples), "own_p50": statistics.median(own),
            "own_p95": own[min(len(own) - 1, max(0, round(0.95 * len(own)) - 1))],
            "own_mean": statistics.mean(own), "own_total": sum(own)}
        split_samples = [(s, s.split) for s in samples if s.split is not None]
        splits = [x for _, x in split_samples]
        if splits:  # medians of each part (they need not add up to the own p50)
            row.update(calls_p50=statistics.median(x.calls for x in splits),
                       in_calls_p50=statistics.median(x.in_calls for x in splits),
                       pauses_p50=statistics.median(max(0.0, x.waiting - s.device) for s, x in split_samples),
                       rest_p50=statistics.median(x.rest for x in splits),
                       rest_mean=statistics.mean(x.rest for x in splits),
                       # own time outside pauses, per device call: what the harness adds to each call
                       per_call_p50=statistics.median((x.in_calls + x.rest) / max(1, x.calls) for x in splits))
        rows.append(row)
    return rows


def print_steps(run: SuiteRun, rtt: RoundTrips | None) -> None:
    print(f"steps, {run.timing} {run.config} at {run.devices} device(s) (ms; own = wall - the device's imposed"
          " wait inside the step)")
    print(f"{'step':<14} {'n':>4} {'wall p50':>9} {'device p50':>10} {'own p50':>8} {'own p95':>8} {'own mean':>8}"
          f" {'own total s':>11} {'p50/rtt':>8}")
    table = step_table(run)
    for row in table:
        ratio = f"{float(row['own_p50']) / rtt.session_s:>7.1f}x" if rtt else "-"
        print(f"{row['kind']:<14} {row['n']:>4} {float(row['wall_p50']) * 1000:>9.0f}"
              f" {float(row['device_p50']) * 1000:>10.0f} {float(row['own_p50']) * 1000:>8.0f}"
              f" {float(row['own_p95']) * 1000:>8.0f} {float(row['own_mean']) * 1000:>8.0f}"
              f" {float(row['own_total']):>11.1f} {ratio:>8}")
    rows = [row for row in table if "calls_p50" in row]
    if rows:
        print("own time split (ms, p50 of each part): calls = device calls begun in the step; in calls = time"
              " inside them; pauses = the harness's sleeps outside calls and device delays; rest = neither")
        print("per call = (in calls + rest) / calls: the step's own time outside pauses, per device call")
        print(f"{'step':<14} {'calls':>6} {'in calls':>9} {'pauses':>8} {'rest p50':>9} {'rest mean':>9}"
              f" {'rest/rtt':>8} {'per call':>8} {'/rtt':>6}")
        for row in rows:
            rest_ratio = f"{float(row['rest_p50']) / rtt.session_s:>7.1f}x" if rtt else "-"
            call_ratio = f"{float(row['per_call_p50']) / rtt.session_s:>5.1f}x" if rtt else "-"
            print(f"{row['kind']:<14} {float(row['calls_p50']):>6.0f} {float(row['in_calls_p50']) * 1000:>9.0f}"
                  f" {float(row['pauses_p50']) * 1000:>8.0f} {float(row['rest_p50']) * 1000:>9.1f}"
                  f" {float(row['rest_mean']) * 1000:>9.1f} {rest_ratio:>8}"
                  f" {float(row['per_call_p50']) * 1000:>8.1f} {call_ratio:>6}")
    if rtt:
        print(f"rtt: one `shell true` through the harness's DeviceSession {rtt.session_s * 1000:.2f} ms"
              f" (protocol level {rtt.protocol_s * 1000:.2f} ms), median of {rtt.samples}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timing", nargs="+", choices=("fast", "realistic"), default=["fast"])
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--configs", nargs="+", choices=tuple(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--paths", nargs="+", default=["scenarios"])
    parser.add_argument("--no-rtt", action="store_true", help="skip the round-trip measurement")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep each run's events, Allure results and pytest output under this folder")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    scenarios = load_paths([ROOT / p for p in args.paths])
    available = harness_options()
    commit = git_commit()
    print(f"{len(scenarios)} scenarios ({sum(len(s.steps) for s in scenarios)} steps) under {' '.join(args.paths)};"
          f" harness {commit}; feature options: {', '.join(sorted(available)) or 'none'};"
          f" {os.cpu_count()} cores", flush=True)
    runs: list[SuiteRun] = []
    for timing in args.timing:
        for config in args.configs:
            options = config_args(config, available)
            for n in sorted(args.devices):
                if options is None:
                    runs.append(SuiteRun(timing, config, n, available=False,
                                         note="the harness under test has no option for it"))
                    continue
                keep = args.keep / f"{timing}-{config}-{n}" if args.keep else None
                runs.append(run_suite(args.paths, n, timing, config, options, keep))
                r = runs[-1]
                print(f"  {timing} {config} {n} device(s): {r.wall_seconds:.1f} s, limit {r.limit_seconds:.1f} s,"
                      f" load {r.load[1]:.1f}", flush=True)
            ones = [r for r in runs if (r.timing, r.config, r.devices) == (timing, config, 1) and r.available]
            if ones and ones[0].per_minute:
                for r in runs:
                    if (r.timing, r.config) == (timing, config) and r.available:
                        r.efficiency = r.per_minute / (r.devices * ones[0].per_minute)
    rtt = None if args.no_rtt else round_trips()
    print()
    print_runs(runs)
    for r in runs:
        if r.available and r.steps:
            print()
            print_steps(r, rtt)
    if args.json:
        args.json.write_text(json.dumps({
            "paths": args.paths, "commit": commit, "feature_options": sorted(available),
            "scenarios": len(scenarios), "cores": os.cpu_count(),
            "runs": [{**{k: v for k, v in asdict(r).items() if k != "steps"}, "ratio": r.ratio,
                      "in_steps": r.in_steps, "step_table": step_table(r)} for r in runs],
            "round_trips": asdict(rtt) if rtt else None}, indent=1))


if __name__ == "__main__":
    main()
