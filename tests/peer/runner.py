"""Runs the device test suites adbutils and uiautomator2 ship against one virtual emulator.

`scripts/peer-suites.sh [SUITE...]` (suites: adbutils, u2-mobile, u2-demo; default all).

Where the suites come from (nothing is fetched while they run):
- adbutils `e2etests/` is in adbutils' PyPI sdist. `scripts/setup.sh` downloads the sdist of the
  *installed* adbutils version once with pip into `.peer-cache/` (gitignored) and unpacks it there.
- uiautomator2's `mobile_tests/` and `demo_tests/` are not in its sdist; they are vendored, with
  uiautomator2's MIT licence, under `third_party/uiautomator2/`.

Each suite runs in its own pytest process, in a scratch copy of its folder (the suites write files
into the working directory), with `tests.peer.plugin` loaded, against one virtual emulator (default
firmware, fast timing) on a private adb server (OS-chosen port, HOME in a temporary folder).
Prints pass/fail counts per suite, each not-runnable test with its reason, and every unexpected
failure; exits 1 when there is an unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from harness.backends.base import ADB_SERVER_ENV
from tests.support import (
    REPO_ROOT,
    OutputCollector,
    adb_path,
    free_console_port,
    free_port,
    virtual_emulator_command,
    wait_until,
)

CACHE = REPO_ROOT / ".peer-cache"
VENDORED = REPO_ROOT / "third_party" / "uiautomator2"
PER_TEST_TIMEOUT = 60


@dataclass(frozen=True)
class Suite:
    name: str
    title: str

    def source(self) -> Path:
        if self.name == "adbutils":
            return adbutils_e2etests()
        return VENDORED / {"u2-mobile": "mobile_tests", "u2-demo": "demo_tests"}[self.name]


SUITES = (Suite("adbutils", f"adbutils {version('adbutils')} e2etests/"),
          Suite("u2-mobile", "uiautomator2 3.7.0 mobile_tests/"),
          Suite("u2-demo", "uiautomator2 3.7.0 demo_tests/"))


@dataclass(frozen=True)
class Result:
    nodeid: str
    outcome: str  # passed | failed | error | skipped | xfailed
    reason: str
    seconds: float


# --------------------------------------------------------------------------------------------
# The suites' files
# --------------------------------------------------------------------------------------------

def adbutils_e2etests(fetch: bool = False) -> Path:
    """`e2etests/` of the installed adbutils' sdist, unpacked under .peer-cache/.

    Only `fetch` (scripts/setup.sh) downloads it, with pip; a run never does."""
    ver = version("adbutils")
    target = CACHE / f"adbutils-{ver}"
    if (target / "e2etests").is_dir():
        return target / "e2etests"
    if not fetch:
        raise SystemExit(f"{target}/e2etests is missing: run scripts/setup.sh (it fetches adbutils' sdist once)")
    CACHE.mkdir(exist_ok=True)
    sdist = CACHE / f"adbutils-{ver}.tar.gz"
    if not sdist.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        f"adbutils=={ver}", "-d", str(CACHE)], check=True)
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(f"adbutils-{ver}/e2etests/")
                   or m.name == f"adbutils-{ver}/LICENSE"]
        tar.extractall(CACHE, members=members, filter="data")
    return target / "e2etests"


# --------------------------------------------------------------------------------------------
# The device
# --------------------------------------------------------------------------------------------

class Lab:
    """A private adb server and one virtual emulator, in a temporary HOME."""

    def __init__(self, root: Path) -> None:
        self.root = root
        home = root / "home"
        (home / ".android" / "avd").mkdir(parents=True)
        self.port = free_port()
        self.env = {**os.environ, **ADB_SERVER_ENV, "HOME": str(home), "ANDROID_EMULATOR_HOME": str(home / ".android"),
                    "ANDROID_AVD_HOME": str(home / ".android" / "avd"),
                    "ANDROID_ADB_SERVER_PORT": str(self.port)}
        self.env.pop("ANDROID_SERIAL", None)
        self.emulator: subprocess.Popen[bytes] | None = None
        self.serial = ""

    def adb(self, *args: str, timeout: float = 30) -> str:
        done = subprocess.run([adb_path(), "-P", str(self.port), *args], env=self.env, capture_output=True, check=False,
                              text=True, timeout=timeout)
        return done.stdout

    def start(self) -> None:
        self.adb("start-server")
        console = free_console_port()
        self.serial = f"emulator-{console}"
        command = [*virtual_emulator_command(), "-port", str(console), "-no-window", "-no-audio",
                   "--data-dir", str(self.root / "device")]
        self.emulator = subprocess.Popen(command, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output = OutputCollector(self.emulator)
        if output.wait_for("Boot completed in", 30) is None:
            raise RuntimeError(f"the virtual emulator did not boot:\n{output.text}")
        wait_until(lambda: f"{self.serial}\tdevice" in self.adb("devices"), 30, 0.2,
                   f"{self.serial} on the adb server")

    def stop(self) -> None:
        if self.emulator is not None and self.emulator.poll() is None:
            self.emulator.terminate()
            try:
                self.emulator.wait(10)
            except subprocess.TimeoutExpired:
                self.emulator.kill()
        self.adb("kill-server")


# --------------------------------------------------------------------------------------------
# Running and reporting
# --------------------------------------------------------------------------------------------

def run_suite(suite: Suite, lab: Lab, extra: list[str]) -> list[Result]:
    work = lab.root / suite.name
    shutil.copytree(suite.source(), work)
    (work / "pytest.ini").write_text("[pytest]\n")  # the suite's own rootdir, not ours
    results = lab.root / f"{suite.name}.jsonl"
    env = {**lab.env, "ANDROID_SERIAL": lab.serial, "PEER_SUITE": suite.name, "PEER_RESULTS": str(results),
           "PEER_TEST_TIMEOUT": str(PER_TEST_TIMEOUT),
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), lab.env.get("PYTHONPATH", "")])}
    log = CACHE / f"{suite.name}.log"  # the suite's own pytest output, for the details
    CACHE.mkdir(exist_ok=True)
    with log.open("wb") as out:
        subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.peer.plugin", "-p", "no:cacheprovider",
                        "-q", "-rN", "--tb=short", "--rootdir", str(work), "-c", str(work / "pytest.ini"),
                        *extra, str(work)], cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=out,
                       stderr=subprocess.STDOUT, check=False)
    if not results.exists():
        return []
    return [Result(**json.loads(line)) for line in results.read_text().splitlines()]


def report(suite: Suite, results: list[Result], seconds: float) -> bool:
    """Prints the suite's figures; True when nothing failed unexpectedly."""
    counts = Counter(r.outcome for r in results)
    not_runnable = [r for r in results if r.outcome == "skipped" and r.reason.startswith("not runnable")]
    print(f"\n== {suite.title} (pytest output: {CACHE.name}/{suite.name}.log): "
          f"{counts['passed']} passed, {counts['failed'] + counts['error']} failed, "
          f"{counts['xfailed']} failed as known gaps, "
          f"{len(not_runnable)} not runnable here, {counts['skipped'] - len(not_runnable)} skipped by the "
          f"suite itself ({seconds:.0f} s)")
    by_reason: dict[str, list[str]] = {}
    for r in not_runnable:
        by_reason.setdefault(r.reason.removeprefix("not runnable here: "), []).append(r.nodeid)
    for reason, nodeids in by_reason.items():
        print(f"   not runnable ({len(nodeids)}), {reason}:\n      " + "\n      ".join(nodeids))
    for r in results:
        if r.outcome == "xfailed":
            print(f"   known gap     {r.nodeid}: {r.reason.removeprefix('known gap: ')}")
    failed = [r for r in results if r.outcome in ("failed", "error")]
    for r in failed:
        print(f"   FAILED        {r.nodeid} ({r.seconds:.1f} s): {r.reason[:200]}")
    return not failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="peer-suites.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("suites", nargs="*", choices=[[], *[s.name for s in SUITES]], default=[],
                        help="suites to run (default: all)")
    parser.add_argument("-k", dest="keyword", help="pytest -k expression passed to each suite")
    parser.add_argument("--fetch", action="store_true", help="only fetch adbutils' sdist into .peer-cache/")
    args = parser.parse_args(argv)
    if args.fetch:
        print(adbutils_e2etests(fetch=True))
        return 0
    chosen = [s for s in SUITES if not args.suites or s.name in args.suites]
    extra = ["-k", args.keyword] if args.keyword else []
    ok = True
    with tempfile.TemporaryDirectory(prefix="peer-suites-") as tmp:
        lab = Lab(Path(tmp))
        try:
            lab.start()
            for suite in chosen:
                started = time.monotonic()
                ok = report(suite, run_suite(suite, lab, extra), time.monotonic() - started) and ok
        finally:
            lab.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
