"""Real faults on a farm (tests/farmlab.py: 3 hosts x 2 virtual emulators, one Redis): kill -9 of an
emulator and of a host's adb server during a run is never a verdict.

A module of its own because the test leaves its farm broken: the `farm` fixture is per module, so the
other farm tests (test_farm.py) get a whole farm and run in parallel with this one.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis

from tests.farmlab import FarmLab
from tests.integration.test_farm import leased_devices, records, run_args
from tests.support import REPO_ROOT

# The killed emulator is never respawned (its supervisor is told so), so the harness waits the whole
# farm.yaml `boot_timeout` before it gives the device up: 10 s instead of 30 here, the fault is the same.
FARM_BOOT_TIMEOUT = 10


def test_kill9_of_an_emulator_and_of_an_adb_server_mid_run_is_never_a_verdict(farm: FarmLab, redis_url: str,
                                                                              tmp_path: Path) -> None:
    """It leaves the farm with a dead emulator and a dead host: its module has a farm of its own."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    summary = tmp_path / "s.jsonl"
    proc = subprocess.Popen(run_args(farm, redis_url, summary, "-n", "2", "--quarantine-after", "2", "--retries", "2"),
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (records(summary) and len(leased_devices(client)) == 2):
        time.sleep(0.2)
    leased = leased_devices(client)
    assert len(leased) == 2, proc.communicate(timeout=60)[0][-3000:]
    by_serial = {e.serial: e for e in farm.emulators}
    victim = by_serial[leased[0].partition("/")[2]]
    victim.kill9()  # the emulator crashes and nothing brings it back
    other = by_serial[leased[1].partition("/")[2]]
    host = next(h for h in farm.hosts if other in h.emulators)
    host.kill_server()  # kill -9 of that host's adb server: its devices are gone from the farm
    output = proc.communicate(timeout=400)[0]
    recs = records(summary)
    assert len(recs) == 6, output[-3000:]
    # a fault is never a product defect: nothing is "failed"
    assert [r["scenario"] for r in recs if r["outcome"] == "failed"] == [], output[-3000:]
    quarantined = {k.removeprefix("regionlock:lab:quarantine:") for k in client.scan_iter(
        match="regionlock:lab:quarantine:*")}
    assert f"127.0.0.1:{victim.adb_port}/{victim.serial}" in quarantined, quarantined
    used = {str(r["device"]) for r in recs}
    assert used - {victim.serial, other.serial}, "the scenarios after the faults moved to other devices"
    # the affected scenarios were run again on a healthy device and judged right
    assert [r["scenario"] for r in recs if r["outcome"] not in ("passed", "skipped")] == [], output[-3000:]
    assert proc.returncode == 0, output[-3000:]
