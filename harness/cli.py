"""The `harness` command: run scenarios, look at devices, check the lab, build the report.

`harness run` is pytest underneath (the plugin does the work); this module only builds the pytest
command line, shows progress from the plugin's event file and prints the summary table. Keeping
pytest in a subprocess means `-n 4`, `-k`, `-m` and every pytest option behave exactly as in a plain
`pytest` run, and a crash in a run can never take the CLI's summary with it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.outcomes import EXIT_MEANING, ExitCode
from harness.run_process import (
    RUN_MARK,
    Stopper,
    beat,
    interrupt_with_parent,
    scratch_dir,
    stop_processes_of,
    sweep_stale_runs,
)

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Region-lock test harness: scenarios on Android devices, with evidence.")
console = Console()

VERDICT_STYLE = {"passed": "green", "failed": "red", "error": "yellow", "skipped": "cyan"}


def main() -> None:
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 160  # CI logs: room for the table's columns (rich assumes 80 off a terminal)
    app()


# --------------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------------


RUNS_DIR = Path("harness-runs")  # one folder per run: two runs in one folder never mix


@dataclass(frozen=True)
class RunRequest:
    """One `harness run`: pytest's arguments as given (passed through untouched) and where results go."""

    args: tuple[str, ...]
    alluredir: Path
    clean_results: bool = False  # an explicit --alluredir: earlier results go, once collection succeeded


def pytest_argv(req: RunRequest, events: Path) -> list[str]:
    """The pytest command line for a run (pure: tested without running anything)."""
    argv = [sys.executable, "-m", "pytest", *req.args]
    if not _has_option(req.args, "--alluredir"):
        argv += ["--alluredir", str(req.alluredir)]
    if req.clean_results:
        argv.append("--harness-clean-results")
    return argv + ["--harness-summary", str(events), "-rfEs", "--tb=line", "-o", "console_output_style=classic"]


def _has_option(args: Sequence[str], flag: str) -> bool:
    return any(a == flag or a.startswith(flag + "=") for a in args)


def option_value(args: Sequence[str], flag: str) -> str | None:
    """The value of `--flag V` / `--flag=V` among pass-through arguments (the last one wins)."""
    found = None
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith(flag + "="):
            found = arg.split("=", 1)[1]
    return found


def with_default_paths(args: Sequence[str], cwd: Path) -> tuple[str, ...]:
    """`harness run FOLDER` runs the scenarios in FOLDER whatever it is called (the folder becomes a
    scenario folder); with no path, `scenarios` when the current folder has one."""
    folders = [Path(cwd, a).resolve() for a in args if not a.startswith("-") and Path(cwd, a).is_dir()]
    named = folders or any(not a.startswith("-") and Path(cwd, a.split("::")[0]).exists() for a in args)
    if not named and (cwd / "scenarios").is_dir():
        return ("scenarios", *args)
    extra = [part for folder in folders for part in ("--scenario-dir", folder.name)]
    return (*args, *extra)


def new_run_dir(base: Path) -> Path:
    """`harness-runs/20261126-023512-4242`: a time-ordered, never-shared folder for one run."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    path = base / f"{stamp}-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=False)
    return path


@dataclass
class RunEvents:
    """What the plugin's event file says about a run."""

    total: int | None = None  # scenarios collected
    records: list[dict[str, Any]] = field(default_factory=list)  # one per finished scenario (last attempt)
    errors: list[dict[str, Any]] = field(default_factory=list)  # scenario files that did not load
    left_out: list[tuple[str, str]] = field(default_factory=list)  # YAML not collected: (path, why)


def read_events(path: Path) -> tuple[int | None, list[dict[str, Any]]]:
    """(collected count, finished records) from the plugin's JSON-lines event file."""
    run = read_all_events(path)
    return run.total, run.records


def read_all_events(path: Path) -> RunEvents:
    run = RunEvents()
    if not path.exists():
        return run
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = _printable(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line being written right now
        kind = event.get("event")
        if kind == "collected":
            run.total = int(event["count"])
        elif kind == "result":
            run.records = [r for r in run.records if r.get("nodeid") != event.get("nodeid")] + [event]
        elif kind == "collect-error":
            run.errors.append(event)
        elif kind == "not-collected":
            run.left_out = [(str(p), str(why)) for p, why in event["files"]]
    return run


def _printable(value: Any) -> Any:
    """Lone surrogates (a `"\\ud800"` escape in a scenario name) cannot be printed: replace them."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


RUN_HELP = """Run scenarios on devices (pytest underneath) and print a summary.

Every argument is pytest's: paths, -n N / -n auto, -k, -m, --lf, -x, --maxfail N, --junitxml FILE,
--reruns N, and the harness plugin's --backend, --devices, --serial, --policy, --exit-proxy,
--retries, --scenario-timeout, --allow-all-skipped, --no-snapshot-resets, --no-prefix-sharing (`pytest --help`, section "regionlock harness").
Defaults come from [tool.regionlock] / harness.toml. Results go to harness-runs/<run>/ unless
--alluredir is given. Exit: 0 passed, 1 product failure, 8 lab failure only, 9 all skipped,
2-5 pytest's (2: a scenario file did not load), 128+N when stopped by signal N."""


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, help=RUN_HELP)
def run(
    ctx: typer.Context,
    log: Annotated[Path | None, typer.Option(help="pytest's output (default: <run dir>/harness-run.log)")] = None,
    runs_dir: Annotated[Path, typer.Option(help="where per-run folders go")] = RUNS_DIR,
) -> None:
    sweep_stale_runs()
    args = with_default_paths(ctx.args, Path.cwd())
    _check_policy_or_exit(args)
    run_dir = new_run_dir(runs_dir)
    explicit = option_value(args, "--alluredir")
    req = RunRequest(args, Path(explicit) if explicit else run_dir / "allure-results", clean_results=bool(explicit))
    log = log or run_dir / "harness-run.log"
    events = run_dir / "events.jsonl"
    code, stopped_by = _run_pytest(req, events, log)
    _print_summary(read_all_events(events), code, req, log)
    write_executor(req.alluredir, run_dir.name)
    _link_latest(runs_dir, run_dir)
    if stopped_by:
        console.print(f"[yellow]stopped by signal {stopped_by}: the table shows what finished[/]")
        code = 128 + stopped_by
    raise typer.Exit(code)


def _check_policy_or_exit(args: Sequence[str]) -> None:
    """A bad --policy is reported here, on the console, before pytest or any device starts (the
    plugin refuses it too, but its message would only reach the log)."""
    policy = option_value(args, "--policy")
    if not policy or (option_value(args, "--backend") or "virtual") != "virtual":
        return
    from harness.backends.base import BackendError
    from harness.backends.virtual import check_policy

    try:
        check_policy(policy)
    except BackendError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(ExitCode.USAGE_ERROR) from None


def _run_pytest(req: RunRequest, events: Path, log: Path) -> tuple[int, int]:
    """Run pytest to its end; on SIGTERM/SIGINT ask it to stop (it tears its devices down), and kill
    it after a grace period. Returns (exit code, the signal that stopped the run or 0)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    scratch = scratch_dir(os.getpid())
    scratch.mkdir(exist_ok=True)
    env = {**os.environ, RUN_MARK: str(os.getpid()), "TMPDIR": str(scratch)}
    stopper = Stopper()
    try:
        with open(log, "wb") as out, stopper.installed():
            # own session: a terminal's Ctrl-C reaches only us, and we pass it on once, in order
            proc = subprocess.Popen(pytest_argv(req, events), stdout=out, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True,
                                    preexec_fn=interrupt_with_parent)  # noqa: PLW1509 -- only prctl
            _watch(proc, events, stopper)
        return int(proc.returncode), stopper.signum
    finally:
        stop_processes_of(os.getpid())  # anything the run started that outlived pytest (an adb server)
        shutil.rmtree(scratch, ignore_errors=True)


def _watch(proc: subprocess.Popen[bytes], events: Path, stopper: Stopper) -> None:
    shown: set[str] = set()
    with _progress() as progress:
        task = progress.add_task("starting devices", total=None) if progress else None
        while proc.poll() is None:
            beat(os.getpid())  # a later run's sweep reads when this CLI was last alive
            stopper.forward(proc)
            _show_progress(progress, task, events, shown)
            time.sleep(0.2)
        _show_progress(progress, task, events, shown)


def write_executor(alluredir: Path, run_name: str) -> None:
    """Allure's executor.json: the Trend and History pages label each run by its folder name."""
    if alluredir.is_dir():
        executor = {"name": "harness run", "type": "local", "buildName": run_name,
                    "buildOrder": int(time.time()), "reportName": "Region-lock scenarios"}
        (alluredir / "executor.json").write_text(json.dumps(executor))


def _link_latest(base: Path, run_dir: Path) -> None:
    """`harness-runs/latest` -> this run, for `harness report` (the run that finished last wins)."""
    link = base / "latest"
    tmp = base / f".latest-{os.getpid()}"
    try:
        tmp.symlink_to(run_dir.name)
        tmp.replace(link)
    except OSError:
        tmp.unlink(missing_ok=True)


@contextmanager
def _progress() -> Iterator[Progress | None]:
    """A live bar on a terminal; None elsewhere (CI): then one line per finished scenario."""
    if not console.is_terminal:
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        yield progress


def _show_progress(progress: Progress | None, task: Any, events: Path, shown: set[str]) -> None:
    total, records = read_events(events)
    if progress is None:
        for rec in records:
            if rec["nodeid"] not in shown:
                shown.add(rec["nodeid"])
                console.print(progress_line(rec, len(shown), total), markup=False, highlight=False, soft_wrap=True)
        return
    if total is None:
        return
    bad = sum(r["outcome"] in ("failed", "error") for r in records)
    desc = f"scenarios ({bad} not passed)" if bad else "scenarios"
    progress.update(task, total=total, completed=len(records), description=desc)


def progress_line(rec: dict[str, Any], done: int, total: int | None) -> str:
    """`[3/40] FAILED  havana-cubacel  Havana (Cuba)  emulator-16000  12.3s  <message>` (no markup)."""
    parts = [f"[{done}/{total or '?'}]", rec["outcome"].upper().ljust(7), rec.get("id") or rec["scenario"],
             rec.get("territory", ""), rec.get("device", ""), f"{rec['duration']:.1f}s"]
    if rec["outcome"] != "passed" and rec.get("message"):
        parts.append(rec["message"])
    return "  ".join(p for p in parts if p)


ORDER = {"failed": 0, "error": 1, "skipped": 2, "passed": 3}


def _print_summary(run: RunEvents, code: int, req: RunRequest, log: Path) -> None:
    records, errors = run.records, run.errors
    for err in errors:  # a scenario file that did not load: the loader's file:line message
        console.print(f"[red]{escape(err['message'])}[/]", highlight=False, soft_wrap=True)
    for path, why in run.left_out:
        console.print(f"[yellow]not collected: {escape(path)}: {escape(why)}[/]", highlight=False)
    if records:
        console.print(summary_table(records))
        for rec in sorted(records, key=lambda r: ORDER.get(r["outcome"], 9)):
            if rec["outcome"] in ("failed", "error") and rec.get("message"):
                console.print(f"[bold]{escape(rec.get('id') or rec['scenario'])}[/]: {escape(rec['message'])}",
                              highlight=False)
    counts = {word: sum(r["outcome"] == word for r in records) for word in VERDICT_STYLE}
    retried = sum(int(r.get("retries", 0)) for r in records)
    line = ", ".join(f"{n} {w}" for w, n in counts.items() if n) or "no scenarios ran"
    console.print(line + (f" ({retried} lab retries)" if retried else ""))
    if code == ExitCode.NOTHING_TESTED:
        reasons = sorted({r.get("message", "") for r in records})
        console.print(f"[yellow]nothing was tested: every scenario was skipped ({escape('; '.join(reasons))}); "
                      "exit 9 (--allow-all-skipped accepts this)[/]", highlight=False)
    console.print(f"Allure results: {req.alluredir.resolve()}  (HTML: harness report)")
    console.print(f"pytest output: {log}")
    if code in (ExitCode.INTERRUPTED, ExitCode.INTERNAL_ERROR, ExitCode.USAGE_ERROR) and not errors:
        for text in _log_errors(log):
            console.print(f"[red]{escape(text)}[/]", highlight=False, soft_wrap=True)  # whole lines: greppable
    meaning = EXIT_MEANING.get(ExitCode(code)) if code in set(ExitCode) else None
    console.print(f"exit {code}" + (f": {meaning}" if meaning else ""))


def _log_errors(log: Path) -> list[str]:
    """The end of pytest's output: a usage error or a crash is short there, and the console must say it."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [ln for ln in lines if ln.strip()][-15:]


def summary_table(records: list[dict[str, Any]]) -> Table:
    """Failures first: scenario id (with its matrix row), territory, deciding signal, expected, seen."""
    table = Table(title="Scenario results")
    why = any(rec.get("oracle") for rec in records)  # `expect: policy` rows: the oracle's reasoning
    for column in ("scenario", "verdict", "expected", "seen", "territory", "signal", "device", "time",
                   *(["expected because"] if why else [])):
        table.add_column(column, justify="right" if column == "time" else "left")
    for rec in sorted(records, key=lambda r: ORDER.get(r["outcome"], 9)):
        style = VERDICT_STYLE.get(rec["outcome"], "")
        verdict = {"failed": "FAILED", "error": "lab error" if rec.get("kind") == "infrastructure" else "ERROR"}.get(
            rec["outcome"], rec["outcome"])
        cells = [rec.get(key) or "-" for key in ("expected", "observed", "territory", "signal", "device")]
        table.add_row(escape(rec.get("id") or rec["scenario"]), f"[{style}]{verdict}[/]", *map(escape, cells),
                      f"{rec['duration']:.1f}s", *([escape("\n".join(rec.get("oracle") or []))] if why else []))
    return table


# --------------------------------------------------------------------------------------------
# devices
# --------------------------------------------------------------------------------------------

DEVICE_PROPS = {
    "sim": ("gsm.sim.state", "gsm.sim.operator.numeric", "gsm.sim.operator.iso-country"),
    "network": ("gsm.operator.numeric", "gsm.operator.iso-country", "gsm.operator.isroaming"),
}
DEVICE_COLUMNS = ("serial", "sim", "network", "position", "profile", "decision")
_LAST_LOCATION = re.compile(r"last location=Location\[(\w+) (-?[\d.]+),(-?[\d.]+)")


def parse_position(dumpsys_location: str) -> str:
    """`dumpsys location` → `gps 23.11360,-82.36660` (the first provider with a fix), or `-`."""
    match = _LAST_LOCATION.search(dumpsys_location)
    return f"{match.group(1)} {match.group(2)},{match.group(3)}" if match else "-"


def describe_device(session: Any, profiles: Any) -> dict[str, str]:
    """One row of `harness devices`, read over adb (no console needed: works on a farm).

    The profile column is the firmware profile the device gets and why; the decision column is the
    profile's decision sign when it is a property (a log or screen sign is read during a run).
    """
    from harness.errors import HarnessError

    props = session.getprops()
    row = {"serial": session.serial}
    for column, keys in DEVICE_PROPS.items():
        row[column] = " ".join(props[k] for k in keys if props.get(k)) or "-"
    row["position"] = parse_position(session.shell(["dumpsys", "location"], timeout=10).output)
    try:
        choice = profiles.choose(session)
    except HarnessError as exc:
        row["profile"] = f"none: {exc}"
        return row
    row["profile"] = choice.describe()
    sign = choice.profile.decision
    kind = sign.kind() if sign is not None else "none"
    row["decision"] = (props.get(sign.property) or "(not yet)") if sign is not None and sign.property \
        else f"({kind} sign: read during a run)"
    return row


@app.command()
def devices(
    port: Annotated[int | None, typer.Option(help="adb server port (default: $ANDROID_ADB_SERVER_PORT or 5037)")] = None,
    host: Annotated[str, typer.Option(help="adb server host")] = "127.0.0.1",
    profile: Annotated[str | None, typer.Option(help="firmware profile NAME|PATH for every device")] = None,
    profiles: Annotated[Path | None, typer.Option(help="a directory of the lab's own profiles")] = None,
    farm: Annotated[Path | None, typer.Option(help="list every device of this farm inventory instead")] = None,
    redis: Annotated[str | None, typer.Option(help="farm: the Redis holding leases and quarantine")] = None,
) -> None:
    """List devices on an adb server with SIM, network, position, matched profile (and why) and decision."""
    import adbutils

    from harness.errors import HarnessError
    from harness.profile_match import ProfileSource
    from harness.session import DeviceSession

    if farm is not None:
        farm_devices(farm, redis, ProfileSource(profile, profiles))
        return
    client = adbutils.AdbClient(host=host, port=port or int(os.environ.get("ANDROID_ADB_SERVER_PORT", "5037")))
    source = ProfileSource(profile, profiles)
    table = Table(title=f"Devices on adb server {host}:{client.port}")
    for column in DEVICE_COLUMNS:
        table.add_column(column)
    try:
        found = client.device_list()
    except adbutils.AdbError as exc:
        console.print(f"[red]adb server {host}:{client.port} not reachable: {exc}[/]")
        raise typer.Exit(2) from exc
    for device in found:
        try:
            row = describe_device(DeviceSession(device.serial, client, None, None), source)
        except (adbutils.AdbError, HarnessError) as exc:
            row = {"serial": device.serial, "sim": f"unreachable: {exc}"}
        table.add_row(*(row.get(c, "-") for c in DEVICE_COLUMNS))
    console.print(table)


def farm_devices(path: Path, redis_url: str | None, source: Any) -> None:
    """`harness devices --farm`: every farm device with host, state, labels, profile, lease, quarantine."""
    from harness.errors import HarnessError
    from harness.farm import listing

    inventory, state = _open_farm(path, redis_url)

    def profile_of(device: Any) -> str:
        from harness.farm.discovery import adb_client
        from harness.session import DeviceSession

        try:
            return str(source.choose(DeviceSession(device.serial, adb_client(device.adb), None, None)).describe())
        except (HarnessError, OSError, RuntimeError) as exc:
            return f"none: {exc}"

    table = Table(title=f"Farm {inventory.name} ({path})")
    for column in listing.COLUMNS:
        table.add_column(column)
    for row in listing.farm_rows(inventory, state, profile_of):
        table.add_row(*(row[c] for c in listing.COLUMNS))
    console.print(table)


def _open_farm(path: Path, redis_url: str | None) -> tuple[Any, Any]:
    from harness.errors import HarnessError
    from harness.farm.inventory import load_inventory
    from harness.farm.state import open_state

    try:
        inventory = load_inventory(path)
        return inventory, open_state(redis_url, inventory.name)
    except HarnessError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


farm_app = typer.Typer(no_args_is_help=True, help="The device farm: return quarantined devices.")
app.add_typer(farm_app, name="farm")


@farm_app.command("release")
def farm_release(
    serial: Annotated[str, typer.Argument(help="SERIAL, or host:port/SERIAL when serials repeat across hosts")],
    farm: Annotated[Path, typer.Option(help="the farm inventory")],
    redis: Annotated[str, typer.Option(help="the Redis holding the farm's quarantine (without Redis a "
                                            "quarantine lasts only for the run that made it)")],
) -> None:
    """Return a quarantined device to the farm (its failure count starts again at 0)."""
    from harness.farm.listing import release

    inventory, state = _open_farm(farm, redis)
    released = release(inventory, state, serial)
    if not released:
        console.print(f"[yellow]{serial} is not quarantined on farm {inventory.name}[/]")
        raise typer.Exit(1)
    for ident in released:
        console.print(f"released {ident}")


# --------------------------------------------------------------------------------------------
# profile
# --------------------------------------------------------------------------------------------

profile_app = typer.Typer(no_args_is_help=True, help="Firmware profiles: list them, capture a skeleton.")
app.add_typer(profile_app, name="profile")


@profile_app.command("list")
def profile_list(
    profiles: Annotated[Path | None, typer.Option(help="a directory of the lab's own profiles")] = None,
) -> None:
    """The firmware profiles known (the lab's first), with their match rules and where they come from."""
    from harness.profile_match import ProfileSource

    source = ProfileSource(directory=profiles)
    table = Table(title="Firmware profiles")
    for column in ("name", "match", "decision", "source"):
        table.add_column(column)
    for p in (*source.user(), *source.shipped()):
        rules = "; ".join(", ".join([*(f"{k}~{v}" for k, v in r.props.items()), *r.packages]) for r in p.match)
        table.add_row(p.name, rules or "(by name only)", p.decision.kind() if p.decision else "none", p.source)
    console.print(table)


@profile_app.command("capture")
def profile_capture(
    page: Annotated[str, typer.Option(help="name of the wizard page shown on the device")],
    output: Annotated[Path, typer.Option("-o", "--output", help="profile file to write (or add the page to)")],
    serial: Annotated[str | None, typer.Option(help="device serial (default: the only device)")] = None,
    name: Annotated[str | None, typer.Option(help="profile name (default: the file's stem)")] = None,
    port: Annotated[int | None, typer.Option(help="adb server port (default: $ANDROID_ADB_SERVER_PORT or 5037)")] = None,
    host: Annotated[str, typer.Option(help="adb server host")] = "127.0.0.1",
) -> None:
    """Dump the screen a device shows and write a profile skeleton for that wizard page.

    A new file gets a loadable skeleton (match rule from the device's brand and the app's package,
    the page's recogniser and title, a guessed forward tap, TODO placeholders); an existing one gets
    the page added. Tappable elements are listed as comments: the candidate actions.
    """
    import adbutils
    import yaml

    from harness.capture import add_page, read_screen, render, skeleton
    from harness.session import DeviceSession

    client = adbutils.AdbClient(host=host, port=port or int(os.environ.get("ANDROID_ADB_SERVER_PORT", "5037")))
    serials = [serial] if serial else [d.serial for d in client.device_list()]
    if len(serials) != 1:
        console.print(f"[red]name the device with --serial (found: {', '.join(serials) or 'none'})[/]")
        raise typer.Exit(2)
    session = DeviceSession(serials[0], client, None, None)
    try:
        screen = read_screen(session.dump_hierarchy())
        props = session.getprops()
    finally:
        session.close()
    if output.exists():
        profile = add_page(yaml.safe_load(output.read_text()) or {}, page, screen,
                           props.get("persist.sys.locale", "en-US"))
    else:
        profile = skeleton(name or output.stem, page, screen, props)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(profile, page, screen))
    console.print(f"wrote {output}: page {page!r} recognised by {screen.recognise}, "
                  f"{len(screen.candidates)} candidate taps")


# --------------------------------------------------------------------------------------------
# doctor
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


def _check_adb() -> Check:
    import adbutils

    path = adbutils.adb_path()
    result = subprocess.run([path, "version"], capture_output=True, text=True, timeout=20, check=False)
    first = result.stdout.splitlines()[0] if result.stdout else result.stderr.strip()
    return Check("adb binary", result.returncode == 0, f"{path}: {first}")


def _check_ports() -> Check:
    from harness.backends.virtual import free_console_port, free_port

    return Check("free ports", True, f"adb server {free_port()}, console {free_console_port()}")


def _check_kvm() -> Check:
    ok = os.access("/dev/kvm", os.R_OK | os.W_OK)
    return Check("/dev/kvm", ok, "usable (SDK emulator acceleration)" if ok else "missing: only the virtual "
                 "backend works (it needs no KVM)", required=False)


def _check_sdk() -> Check:
    root = os.environ.get("ANDROID_SDK_ROOT") or os.environ.get("ANDROID_HOME")
    emulator = Path(root, "emulator", "emulator") if root else None
    ok = bool(emulator and emulator.exists())
    return Check("Android SDK emulator", ok, str(emulator) if ok else
                 "ANDROID_SDK_ROOT/emulator not found: only the virtual and adb backends", required=False)


def _check_allure_cli() -> Check:
    tool = allure_command()
    return Check("Allure CLI (harness report)", tool is not None,
                 " ".join(tool) if tool else ALLURE_HOWTO, required=False)


def _check_virtual_emulator() -> Check:
    from harness.backends.base import BackendOptions
    from harness.backends.virtual import VirtualBackend

    backend = VirtualBackend(BackendOptions())
    started = time.monotonic()
    try:
        handle = backend.provision(1)[0]
        return Check("virtual emulator", True, f"{handle.serial} booted in {time.monotonic() - started:.1f}s")
    except Exception as exc:  # noqa: BLE001 -- doctor reports every failure, it never crashes
        return Check("virtual emulator", False, str(exc))
    finally:
        backend.teardown()


def _print_config(args: list[str]) -> bool:
    """The plugin prints it (`pytest --harness-config`): the same merge a run does, nothing to keep in sync."""
    result = subprocess.run([sys.executable, "-m", "pytest", "--harness-config", "-p", "no:cacheprovider", *args],
                            capture_output=True, text=True, timeout=60, check=False)
    ok = result.returncode == 0
    console.print("[bold]configuration[/]" if ok else "[red]configuration: FAIL[/]")
    for line in (result.stdout + ("" if ok else result.stderr)).strip().splitlines():
        console.print(f"  {line}", highlight=False)
    return ok


CHECKS = (_check_adb, _check_ports, _check_kvm, _check_sdk, _check_allure_cli, _check_virtual_emulator)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def doctor(ctx: typer.Context) -> None:
    """Print the merged configuration (config file + the options given here), then check the lab:
    adb, ports, KVM, SDK, Allure CLI, and that a virtual emulator boots."""
    failed = not _print_config(list(ctx.args))
    for check in CHECKS:
        try:
            result = check()
        except Exception as exc:  # noqa: BLE001 -- one broken check must not hide the others
            result = Check(check.__name__.removeprefix("_check_"), False, str(exc))
        mark = "[green]ok[/]" if result.ok else ("[red]FAIL[/]" if result.required else "[yellow]missing[/]")
        console.print(f"{mark:>18}  {result.name}: {result.detail}")
        failed |= result.required and not result.ok
    raise typer.Exit(1 if failed else 0)


# --------------------------------------------------------------------------------------------
# schema, report
# --------------------------------------------------------------------------------------------


@app.command()
def schema(output: Annotated[Path | None, typer.Option("-o", "--output", help="write here")] = None) -> None:
    """Print (or write) the JSON Schema of scenario files, for editors and CI."""
    from harness.scenario.schema import json_schema

    text = json.dumps(json_schema(), indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n")
        console.print(f"wrote {output}")


ALLURE_HOWTO = ("install the Allure 2 CLI (needs Java 17+, Debian: default-jre-headless): `npm install "
                "allure-commandline` in the project (scripts/setup.sh does), or `npm install -g allure-commandline`")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def allure_command() -> list[str] | None:
    """The Allure 2 CLI: on PATH, the project's node_modules (scripts/setup.sh), else npx; all need Java."""
    if not shutil.which("java"):
        return None
    if shutil.which("allure"):
        return ["allure"]
    local = PROJECT_ROOT / "node_modules" / ".bin" / "allure"
    if local.exists():
        return [str(local)]
    if shutil.which("npx"):
        return ["npx", "--yes", "allure-commandline@2"]
    return None


def latest_results(runs_dir: Path = RUNS_DIR) -> Path:
    """The newest run's Allure results (`harness-runs/latest`, else the newest run folder)."""
    latest = runs_dir / "latest"
    if latest.exists():
        return latest / "allure-results"
    runs = sorted(p for p in runs_dir.glob("*-*") if p.is_dir()) if runs_dir.is_dir() else []
    return runs[-1] / "allure-results" if runs else Path("allure-results")


def carry_history(report_dir: Path, results: Path) -> bool:
    """Copy the previous report's history/ into the results, so Trend and History continue (Allure 2's
    documented way). Returns whether there was one."""
    history = report_dir / "history"
    if not history.is_dir():
        return False
    shutil.copytree(history, results / "history", dirs_exist_ok=True)
    return True


@app.command()
def report(
    alluredirs: Annotated[list[Path] | None, typer.Option(
        "--alluredir", help="Allure results (default: the latest run's, harness-runs/latest/allure-results); "
                            "repeat it to merge shards into one report")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML report directory")] = Path("allure-report"),
    single_file: Annotated[bool, typer.Option("--single-file", help="one self-contained index.html")] = False,
) -> None:
    """Build the Allure HTML report; the previous report's history carries forward (Trend, History).
    Several --alluredir (the shards of one run) are merged into one report."""
    results = merged_shards(alluredirs, output) if alluredirs else latest_results()
    if not results.is_dir():
        console.print(f"[red]{results} does not exist: run `harness run` first[/]")
        raise typer.Exit(2)
    tool = allure_command()
    if tool is None:
        console.print(f"[red]no Allure CLI here[/]: {ALLURE_HOWTO}")
        raise typer.Exit(2)
    carried = carry_history(output, results)
    argv = [*tool, "generate", str(results), "-o", str(output), "--clean", *(["--single-file"] if single_file else [])]
    result = subprocess.run(argv, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        console.print(f"[red]allure generate failed[/]: {result.stdout}{result.stderr}", highlight=False)
        raise typer.Exit(result.returncode)
    note = " (history carried forward)" if carried else ""
    console.print(f"report: {(output / 'index.html').resolve()}{note}  (serve it: {' '.join(tool)} open {output})")


def merged_shards(dirs: list[Path], output: Path) -> Path:
    """One results folder: the only one given, or the shards merged next to the report."""
    if len(dirs) == 1:
        return dirs[0]
    from harness.farm.merge import MergeError, merge_results

    into = output.with_name(output.name + "-results")
    shutil.rmtree(into, ignore_errors=True)
    try:
        count = merge_results(dirs, into)
    except MergeError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    console.print(f"merged {count} results from {len(dirs)} shards into {into}")
    return into


if __name__ == "__main__":  # pragma: no cover
    main()


from harness import commands  # issue-10 commands (coverage, repro), kept in their own module

commands.register(app)
