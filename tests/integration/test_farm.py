"""A farm on this machine: 3 "hosts" (adb servers on loopback ports) x 2 virtual emulators, one Redis,
concurrent runs leasing from it. Verdicts come from the real runtime on real devices.

The `farm` and `redis_url` fixtures (tests/integration/conftest.py) are per module: the fault test
that leaves the farm broken has a module, and so a farm, of its own (test_farm_faults.py), and runs
in parallel with these."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Self

import redis

from tests.farmlab import FarmLab
from tests.support import REPO_ROOT, VENV_BIN, free_port


def run_args(lab: FarmLab, url: str, summary: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "scenarios/smoke", "-q", "-p", "no:cacheprovider",
            "--farm", str(lab.inventory), "--redis", url, "--lease-wait", "120",
            "--harness-summary", str(summary), *extra]


def records(summary: Path) -> list[dict[str, object]]:
    lines = summary.read_text().splitlines() if summary.exists() else []
    return [r for r in map(json.loads, lines) if r.get("event") == "result"]


class LeaseWatch:
    """Polls the farm's lease keys in Redis while runs go on: device id -> every holder seen."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, decode_responses=True)
        self.seen: dict[str, set[str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _poll(self) -> None:
        while not self._stop.wait(0.1):
            for key in self.client.scan_iter(match="regionlock:lab:lease:*"):
                holder = self.client.get(key)
                if holder:
                    self.seen.setdefault(key.removeprefix("regionlock:lab:lease:"), set()).add(holder)


def test_two_concurrent_runs_never_share_a_device_and_judge_right(farm: FarmLab, redis_url: str,
                                                                  tmp_path: Path) -> None:
    summaries = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    started = time.monotonic()
    with LeaseWatch(redis_url) as watch:
        runs = [subprocess.Popen(run_args(farm, redis_url, s, "-n", "2"), cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True) for s in summaries]
        outputs = [r.communicate(timeout=400)[0] for r in runs]
    elapsed = time.monotonic() - started
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-3000:]
    per_run = [records(s) for s in summaries]
    for recs in per_run:  # every verdict right: the smoke catalogue passes; a custom ROM is not on this farm
        outcomes = {r["scenario"]: r["outcome"] for r in recs}
        assert len(outcomes) == 6
        assert [s for s, o in outcomes.items() if o != "passed"] == [
            "A custom ROM has no activation service and never locks, even in Tehran"]
        assert outcomes["A custom ROM has no activation service and never locks, even in Tehran"] == "skipped"
    # the device side: the serials each run's scenarios ran on are disjoint (leases last the run)
    devices = [{str(r["device"]) for r in recs if r["device"]} for recs in per_run]
    assert devices[0] and devices[1] and not devices[0] & devices[1]
    # Redis: every device had one holder, and both runs held two devices each
    assert all(len(holders) == 1 for holders in watch.seen.values()), watch.seen
    holders = {h.split(":")[1] for hs in watch.seen.values() for h in hs}
    assert len(holders) == 2 and len(watch.seen) == 4, watch.seen
    # and nothing is held once both ended
    client = redis.Redis.from_url(redis_url)
    assert not list(client.scan_iter(match="regionlock:lab:lease:*"))
    print(f"two concurrent runs of 6 scenarios on 2 devices each: {elapsed:.1f} s")


def test_devices_lists_leases_quarantine_and_an_unreachable_host(farm: FarmLab, redis_url: str,
                                                                 tmp_path: Path) -> None:
    inventory = tmp_path / "farm.yaml"
    dead = free_port()
    inventory.write_text(farm.inventory.read_text() + f"  - adb: 127.0.0.1:{dead}\n")
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    first = farm.emulators[0]
    ident = f"127.0.0.1:{first.adb_port}/{first.serial}"
    client.set(f"regionlock:lab:lease:{ident}", "ci-7:4242:run", px=60000)
    client.set(f"regionlock:lab:quarantine:127.0.0.1:{first.adb_port}/{farm.emulators[1].serial}",
               json.dumps({"reason": "3 consecutive infrastructure failures", "evidence": "adb: closed",
                           "by": "ci-7:4242:run", "at": 0}))
    try:
        out = subprocess.run([str(VENV_BIN / "harness"), "devices", "--farm", str(inventory), "--redis", redis_url],
                             capture_output=True, text=True, timeout=120, check=False, env={"COLUMNS": "250", "PATH": ""})
        assert out.returncode == 0, out.stderr
        text = out.stdout
        assert f"127.0.0.1:{dead}" in text and "unreachable" in text
        assert text.count(" device ") == 6 and "ci-7:4242:run" in text and "reference" in text
        assert "3 consecutive infrastructure failures" in text
        released = subprocess.run([str(VENV_BIN / "harness"), "farm", "release", farm.emulators[1].serial,
                                   "--farm", str(inventory), "--redis", redis_url],
                                  capture_output=True, text=True, timeout=60, check=False)
        assert released.returncode == 0 and "released" in released.stdout, released.stdout + released.stderr
        assert not list(client.scan_iter(match="regionlock:lab:quarantine:*"))
    finally:
        client.delete(f"regionlock:lab:lease:{ident}")


def test_a_run_whose_devices_are_all_quarantined_stops_with_a_clear_error(farm: FarmLab, redis_url: str,
                                                                          tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    keys = [f"regionlock:lab:quarantine:127.0.0.1:{e.adb_port}/{e.serial}" for e in farm.emulators]
    for key in keys:
        client.set(key, json.dumps({"reason": "device does not answer", "by": "test", "at": 0}))
    try:
        started = time.monotonic()
        out = subprocess.run(run_args(farm, redis_url, tmp_path / "s.jsonl", "-n", "2"), cwd=REPO_ROOT,
                             capture_output=True, text=True, timeout=120, check=False)
        assert time.monotonic() - started < 60
        assert out.returncode == 8, out.stdout[-2000:]
        assert "has 0 usable device(s), this run needs 2; quarantined:" in out.stdout
        assert "harness farm release SERIAL" in out.stdout
    finally:
        client.delete(*keys)


def leased_devices(client: redis.Redis) -> list[str]:
    return sorted(k.removeprefix("regionlock:lab:lease:") for k in client.scan_iter(match="regionlock:lab:lease:*"))

