"""toybox applets about the system rather than files: processes, the clock, the log."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from emulators.virtual.shell.context import Ctx, UsageError, command
from emulators.virtual.shell.files import device_time, device_tz
from emulators.virtual.shell.toybox import split_flags

# --- processes -----------------------------------------------------------------------------------

# The system processes every image runs: (pid, ppid, user, vsz, rss, wchan, name).
SYSTEM_PROCS = (
    (1, 0, "root", 10902064, 9768, "do_epoll_wait", "init"),
    (2, 0, "root", 0, 0, "kthreadd", "[kthreadd]"),
    (145, 1, "logd", 10811540, 6612, "sigsuspend", "logd"),
    (160, 1, "system", 10761804, 4732, "binder_ioctl", "servicemanager"),
    (302, 1, "root", 14813428, 132160, "do_sys_poll", "zygote64"),
    (303, 1, "root", 1729748, 112852, "do_sys_poll", "zygote"),
    (378, 1, "shell", 10868072, 5012, "do_epoll_wait", "adbd"),
    (581, 302, "system", 15765316, 283404, "do_epoll_wait", "system_server"),
    (812, 302, "u0_a104", 14963308, 172820, "do_epoll_wait", "com.android.systemui"),
    (901, 302, "radio", 14446856, 98820, "do_epoll_wait", "com.android.phone"),
)
_PS_HEADER = "USER           PID  PPID     VSZ    RSS WCHAN            ADDR S NAME"


def _ps_rows(ctx: Ctx, everything: bool) -> list[tuple[int, int, str, int, int, str, str]]:
    rows = list(SYSTEM_PROCS) if everything else []
    for proc in sorted(ctx.device.processes.procs.values(), key=lambda p: p.pid):
        if everything or proc.user == "shell":
            rows.append((proc.pid, 378 if proc.user == "shell" else 302, proc.user, 12748560,
                         41024, "do_epoll_wait", proc.name))
    me = ctx.shell.pid
    user = "root" if ctx.root else "shell"
    rows.append((me, 378, user, 10825416, 3628, "sigsuspend", "sh"))
    rows.append((me + 1, me, user, 10870700, 3632, "0", "ps"))
    return rows


@command("ps")
def ps(ctx: Ctx) -> int:
    flags, _, names = split_flags(ctx.args[1:], with_value="opu")
    rows = _ps_rows(ctx, everything=bool({"A", "e"} & flags))
    if names:
        rows = [r for r in rows if r[6] in names or str(r[0]) in names]
    if "f" in flags:
        ctx.out("UID            PID  PPID C STIME TTY          TIME CMD\n")
        for pid, ppid, user, *_, name in rows:
            ctx.out(f"{user:<12} {pid:>5} {ppid:>5} 0 07:58:20 ?     00:00:00 {name}\n")
        return 0
    ctx.out(_PS_HEADER + "\n")
    for pid, ppid, user, vsz, rss, wchan, name in rows:
        state = "R" if name == "ps" else "S"
        ctx.out(f"{user:<12} {pid:>5} {ppid:>5} {vsz:>7} {rss:>6} {wchan:<16} {0:>4} {state} {name}\n")
    return 0


@command("kill")
def kill(ctx: Ctx) -> int:
    args = [a for a in ctx.args[1:] if not a.startswith("-")]
    if "-s" in ctx.args:
        args = args[1:]
    if not args:
        raise UsageError("kill: Needs 1 argument", 1)
    status = 0
    system = {row[0]: row[2] for row in SYSTEM_PROCS}
    for arg in args:
        if not arg.isdigit():
            ctx.err(f"kill: unknown pid '{arg}'\n")
            status = 1
            continue
        pid = int(arg)
        proc = ctx.device.processes.procs.get(pid)
        owner = proc.user if proc else system.get(pid)
        if owner is None:
            ctx.err(f"kill: pid {pid}: No such process\n")
            status = 1
        elif not ctx.root and owner != "shell":
            ctx.err(f"kill: pid {pid}: Operation not permitted\n")
            status = 1
        elif proc is not None:
            ctx.device.processes.kill(pid)
    return status


# --- the clock -----------------------------------------------------------------------------------

_DEFAULT_DATE = "%a %b %e %H:%M:%S %Z %Y"


@command("date")
def date(ctx: Ctx) -> int:
    flags, values, rest = split_flags(ctx.args[1:], with_value="dsD")
    fmt = next((a[1:] for a in rest if a.startswith("+")), _DEFAULT_DATE)
    setting = values.get("s") or next((a for a in rest if not a.startswith("+")), None)
    tz = UTC if "u" in flags else device_tz(ctx.device)
    if setting is not None:
        if not ctx.root:
            raise UsageError("date: cannot set date: Operation not permitted", 1)
        epoch = _parse_set_date(setting, ctx, tz)
        ctx.device.clock.set(epoch)
        ctx.device.log.i("AlarmManager", f"Setting time of day to sec={int(epoch)}")
    when = device_time(ctx.device)
    if "d" in values:
        when = datetime.fromtimestamp(_parse_display_date(values["d"], ctx, tz), tz)
    ctx.out(format_date(when.astimezone(tz), fmt) + "\n")
    return 0


def format_date(when: datetime, fmt: str) -> str:
    """strftime plus the GNU/toybox extras clients use: %s (epoch), %N (nanoseconds)."""
    fmt = fmt.replace("%s", str(int(when.timestamp()))).replace("%N", f"{when.microsecond * 1000:09d}")
    return when.strftime(fmt)


def _parse_set_date(text: str, ctx: Ctx, tz: object) -> float:
    """toybox: `MMDDhhmm[[CC]YY][.ss]`, `@EPOCH`, or `-s 'YYYY-MM-DD hh:mm[:ss]'`."""
    if text.startswith("@"):
        return float(text[1:])
    match = re.fullmatch(r"(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?(\d\d)?(?:\.(\d\d))?", text)
    now = device_time(ctx.device).astimezone(tz)  # type: ignore[arg-type]
    if match:
        month, day, hour, minute, cc, yy, sec = match.groups()
        year = now.year
        if yy is not None:
            year = int(cc + yy)
        elif cc is not None:
            year = 2000 + int(cc)
        try:
            return now.replace(year=year, month=int(month), day=int(day), hour=int(hour), minute=int(minute),
                               second=int(sec or 0), microsecond=0).timestamp()
        except ValueError as error:
            raise UsageError(f"date: bad date '{text}'", 1) from error
    return _parse_display_date(text, ctx, tz)


def _parse_display_date(text: str, ctx: Ctx, tz: object) -> float:
    if text.startswith("@"):
        try:
            return float(text[1:])
        except ValueError as error:
            raise UsageError(f"date: bad date '{text}'", 1) from error
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=tz).timestamp()  # type: ignore[arg-type]
        except ValueError:
            continue
    raise UsageError(f"date: bad date '{text}'", 1)


@command("log")
def log(ctx: Ctx) -> int:
    """`log [-p PRIO] [-t TAG] MESSAGE`: writes one entry to the main buffer."""
    _, values, rest = split_flags(ctx.args[1:], with_value="pt")
    priority = values.get("p", "i").upper()[:1]
    ctx.device.log.log(priority if priority in "VDIWEF" else "I", values.get("t", "log"), " ".join(rest),
                       pid=ctx.shell.pid)
    return 0
