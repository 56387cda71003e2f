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
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Region-lock test harness: scenarios on Android devices, with evidence.")
console = Console()

VERDICT_STYLE = {"passed": "green", "failed": "red", "error": "yellow", "skipped": "cyan"}


def main() -> None:
    app()


# --------------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRequest:
    paths: tuple[str, ...]
    workers: int
    keyword: str | None
    marker: str | None
    backend: str
    alluredir: Path
    devices: int | None = None
    serials: tuple[str, ...] = ()
    policy: str | None = None
    exit_proxies: tuple[str, ...] = ()  # "CC=host:port"
    profile: str | None = None  # firmware profile NAME|PATH for every device
    profiles_dir: Path | None = None  # the lab's own profiles
    device_props: tuple[str, ...] = ()  # "KEY=VALUE" for every virtual emulator's -prop
    extra: tuple[str, ...] = ()
    sdk: str | None = None
    avds: tuple[str, ...] = ()


def pytest_argv(req: RunRequest, events: Path) -> list[str]:
    """The pytest command line for a run (pure: tested without running anything)."""
    argv = [sys.executable, "-m", "pytest", *req.paths, "-p", "harness.pytest_plugin",
            "--backend", req.backend, "--alluredir", str(req.alluredir), "--clean-alluredir",
            "--harness-summary", str(events), "-q", "-rfEs", "--tb=line", "-o", "console_output_style=classic"]
    if req.workers > 1:
        argv += ["-n", str(req.workers)]
    profiles_dir = str(req.profiles_dir) if req.profiles_dir else None
    for flag, value in (("-k", req.keyword), ("-m", req.marker), ("--policy", req.policy),
                        ("--profile", req.profile), ("--profiles", profiles_dir), ("--sdk", req.sdk)):
        if value:
            argv += [flag, value]
    if req.devices:
        argv += ["--devices", str(req.devices)]
    for flag, values in (("--serial", req.serials), ("--exit-proxy", req.exit_proxies), ("--avd", req.avds),
                         ("--device-prop", req.device_props)):
        for value in values:
            argv += [flag, value]
    return argv + list(req.extra)


def read_events(path: Path) -> tuple[int | None, list[dict[str, Any]]]:
    """(collected count, finished records) from the plugin's JSON-lines event file."""
    total: int | None = None
    records: list[dict[str, Any]] = []
    if not path.exists():
        return total, records
    for line in path.read_text().splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line being written right now
        if event.get("event") == "collected":
            total = int(event["count"])
        elif event.get("event") == "result":
            records.append(event)
    return total, records


@app.command()
def run(
    paths: Annotated[list[str] | None, typer.Argument(help="scenario files or folders")] = None,
    workers: Annotated[int, typer.Option("-n", "--workers", help="parallel devices (xdist workers)")] = 1,
    keyword: Annotated[str | None, typer.Option("-k", help="select by name: pytest -k expression")] = None,
    marker: Annotated[str | None, typer.Option("-m", help="select by tag: pytest -m expression")] = None,
    backend: Annotated[str, typer.Option(help="virtual | sdk | adb | module:factory")] = "virtual",
    devices: Annotated[int | None, typer.Option(help="devices to provision (default: one per worker)")] = None,
    serial: Annotated[list[str] | None, typer.Option(help="adb backend: device serial (repeatable)")] = None,
    policy: Annotated[str | None, typer.Option(help="virtual backend: firmware policy")] = None,
    exit_proxy: Annotated[list[str] | None, typer.Option(
        help="CC=host:port of an HTTP proxy exiting in country CC, for `ip:` steps (repeatable)")] = None,
    profile: Annotated[str | None, typer.Option(
        help="firmware profile NAME|PATH for every device (default: matched per device)")] = None,
    profiles: Annotated[Path | None, typer.Option(help="a directory of the lab's own firmware profiles")] = None,
    device_prop: Annotated[list[str] | None, typer.Option(
        help="virtual backend: KEY=VALUE given to every emulator as -prop, e.g. firmware=norvik (repeatable)")] = None,
    alluredir: Annotated[Path, typer.Option(help="Allure results directory")] = Path("allure-results"),
    log: Annotated[Path | None, typer.Option(help="pytest output (default: <alluredir>/../harness-run.log)")] = None,
    sdk: Annotated[str | None, typer.Option(help="sdk backend: Android SDK folder")] = None,
    avd: Annotated[list[str] | None, typer.Option(help="sdk backend: [FIRMWARE=]AVD name (repeatable)")] = None,
) -> None:
    """Run scenarios on devices and print a summary; exit code 0 only if every scenario passed."""
    if policy and backend == "virtual":
        _check_policy_or_exit(policy)
    req = RunRequest(tuple(paths or ["scenarios"]), workers, keyword, marker, backend, alluredir, devices,
                     tuple(serial or ()), policy, tuple(exit_proxy or ()), profile, profiles,
                     device_props=tuple(device_prop or ()), sdk=sdk, avds=tuple(avd or ()))
    log = log or alluredir.resolve().parent / "harness-run.log"
    with tempfile.TemporaryDirectory(prefix="harness-run-") as tmp:
        events = Path(tmp) / "events.jsonl"
        code = _run_pytest(req, events, log)
        _, records = read_events(events)
    _print_summary(records, code, req, log)
    raise typer.Exit(code)


def _check_policy_or_exit(policy: str) -> None:
    """A bad --policy is reported here, on the console, before pytest or any device starts."""
    from harness.backends.base import BackendError
    from harness.backends.virtual import check_policy

    try:
        check_policy(policy)
    except BackendError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(4) from None  # pytest's usage-error code


def _run_pytest(req: RunRequest, events: Path, log: Path) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out, _progress() as progress:
        proc = subprocess.Popen(pytest_argv(req, events), stdout=out, stderr=subprocess.STDOUT)
        task = progress.add_task("starting devices", total=None)
        try:
            while proc.poll() is None:
                _update_progress(progress, task, events)
                time.sleep(0.2)
        except KeyboardInterrupt:
            proc.send_signal(2)  # let pytest tear the devices down
            proc.wait()
            raise
        _update_progress(progress, task, events)
    return int(proc.returncode)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


def _update_progress(progress: Progress, task: Any, events: Path) -> None:
    total, records = read_events(events)
    if total is None:
        return
    bad = sum(r["outcome"] in ("failed", "error") for r in records)
    desc = f"scenarios ({bad} not passed)" if bad else "scenarios"
    progress.update(task, total=total, completed=len(records), description=desc)


def _print_summary(records: list[dict[str, Any]], code: int, req: RunRequest, log: Path) -> None:
    table = Table(title="Scenario results")
    for column in ("scenario", "device", "verdict", "duration"):
        table.add_column(column, justify="right" if column == "duration" else "left")
    for rec in records:
        style = VERDICT_STYLE.get(rec["outcome"], "")
        verdict = rec["outcome"] + (f" ({rec['kind']})" if rec.get("kind") else "")
        table.add_row(rec["scenario"], rec["device"], f"[{style}]{verdict}[/]", f"{rec['duration']:.1f}s")
    console.print(table)
    for rec in records:
        if rec["outcome"] in ("failed", "error") and rec.get("message"):
            console.print(f"[bold]{rec['scenario']}[/]: {rec['message']}")
    counts = {word: sum(r["outcome"] == word for r in records) for word in VERDICT_STYLE}
    console.print(", ".join(f"{n} {w}" for w, n in counts.items() if n) or "no scenarios ran")
    console.print(f"Allure results: {req.alluredir.resolve()}  (HTML: harness report)")
    console.print(f"pytest output: {log}")
    if code not in (0, 1):
        console.print(f"[yellow]pytest exited with {code} (usage, collection or internal error): see the log[/]")


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
) -> None:
    """List devices on an adb server with SIM, network, position, matched profile (and why) and decision."""
    import adbutils

    from harness.errors import HarnessError
    from harness.profile_match import ProfileSource
    from harness.session import DeviceSession

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


CHECKS = (_check_adb, _check_ports, _check_kvm, _check_sdk, _check_allure_cli, _check_virtual_emulator)


@app.command()
def doctor() -> None:
    """Check the lab: adb, ports, KVM, SDK, Allure CLI, and that a virtual emulator boots."""
    failed = False
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


ALLURE_HOWTO = ("install the Allure CLI: `npm install -g allure-commandline` (needs Java 8+), or let "
                "`harness report` use `npx allure-commandline` when npm is present")


def allure_command() -> list[str] | None:
    """How to call the Allure CLI here: `allure` on PATH, else npx (fetches allure-commandline once)."""
    if shutil.which("allure"):
        return ["allure"]
    if shutil.which("npx") and shutil.which("java"):
        return ["npx", "--yes", "allure-commandline"]
    return None


@app.command()
def report(
    alluredir: Annotated[Path, typer.Option(help="Allure results directory")] = Path("allure-results"),
    output: Annotated[Path, typer.Option("-o", "--output", help="HTML report directory")] = Path("allure-report"),
) -> None:
    """Build the Allure HTML report from a run's results."""
    if not alluredir.is_dir():
        console.print(f"[red]{alluredir} does not exist: run `harness run` first[/]")
        raise typer.Exit(2)
    tool = allure_command()
    if tool is None:
        console.print(f"[red]no Allure CLI here[/]: {ALLURE_HOWTO}")
        raise typer.Exit(2)
    result = subprocess.run([*tool, "generate", str(alluredir), "-o", str(output), "--clean"], check=False)
    if result.returncode != 0:
        raise typer.Exit(result.returncode)
    console.print(f"report: {(output / 'index.html').resolve()}  (serve it: {' '.join(tool)} open {output})")


if __name__ == "__main__":  # pragma: no cover
    main()
