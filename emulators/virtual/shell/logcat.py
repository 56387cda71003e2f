"""`logcat`: dump, clear, filter specs and streaming, in liblog's output formats."""

from __future__ import annotations

from dataclasses import dataclass, field

from emulators.virtual.device import LOG_PRIORITIES, LogEntry, VirtualDevice
from emulators.virtual.shell.context import Ctx, UsageError, command
from emulators.virtual.shell.files import device_time

PRIORITY_ORDER = LOG_PRIORITIES + "S"  # S (silent) is above every real priority
FORMATS = ("threadtime", "time", "brief", "tag", "process", "raw", "long", "thread")
BEGINNING = "--------- beginning of main\n"


@dataclass
class LogcatOptions:
    dump: bool = False
    clear: bool = False
    fmt: str = "threadtime"
    tail: int | None = None  # -t N / -T N: only the last N entries
    follow_after_tail: bool = False  # -T keeps streaming, -t exits
    max_count: int | None = None
    specs: dict[str, str] = field(default_factory=dict)  # tag -> minimum priority; "*" default


def parse_args(args: list[str]) -> LogcatOptions:
    opts = LogcatOptions()
    silent = False
    it = iter(args)
    for arg in it:
        if arg in ("-d", "--dump"):
            opts.dump = True
        elif arg in ("-c", "--clear"):
            opts.clear = True
        elif arg in ("-v", "--format") or arg.startswith("-v"):
            value = arg[2:] if arg.startswith("-v") and len(arg) > 2 else next(it, "")
            if value in FORMATS:
                opts.fmt = value
        elif arg.startswith("--format="):
            opts.fmt = arg.split("=", 1)[1] if arg.split("=", 1)[1] in FORMATS else opts.fmt
        elif arg in ("-t", "-T"):
            opts.tail = _count(next(it, ""))
            opts.dump = opts.dump or arg == "-t"
            opts.follow_after_tail = arg == "-T"
        elif arg in ("-m", "--max-count"):
            opts.max_count = _count(next(it, ""))
        elif arg == "-s":
            silent = True
        elif arg in ("-b", "--buffer", "--pid", "-e", "--regex"):
            next(it, None)
        elif arg.startswith("-"):
            continue  # -B, --buffer=..., -D: accepted, no effect here
        else:
            _add_spec(opts.specs, arg)
    opts.specs.setdefault("*", "S" if silent else "V")
    return opts


def _count(text: str) -> int:
    if not text.isdigit():
        raise UsageError(f"logcat: -t/-T/-m needs a count, got '{text}'", 1)
    return int(text)


def _add_spec(specs: dict[str, str], spec: str) -> None:
    tag, _, priority = spec.partition(":")
    priority = (priority or "V").upper()[:1]
    if priority not in PRIORITY_ORDER:
        raise UsageError(f"Invalid filter expression '{spec}'", 1)
    specs[tag] = priority


def wanted(entry: LogEntry, specs: dict[str, str]) -> bool:
    minimum = specs.get(entry.tag, specs.get("*", "V"))
    return PRIORITY_ORDER.index(entry.priority) >= PRIORITY_ORDER.index(minimum)


def format_entry(device: VirtualDevice, entry: LogEntry, fmt: str) -> str:
    stamp = device_time(device, entry.wall_time)
    when = stamp.strftime("%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d}"
    p, tag = entry.priority, entry.tag
    lines = entry.message.split("\n")
    prefix = {
        "threadtime": f"{when} {entry.pid:5d} {entry.tid:5d} {p} {tag:<8}: ",
        "time": f"{when} {p}/{tag:<8}({entry.pid:5d}): ",
        "brief": f"{p}/{tag:<8}({entry.pid:5d}): ",
        "tag": f"{p}/{tag:<8}: ",
        "process": f"{p}({entry.pid:5d}) ",
        "thread": f"{p}({entry.pid:5d}:{entry.tid:5d}) ",
        "raw": "",
    }.get(fmt)
    if prefix is None:  # long
        return f"[ {when} {entry.pid:5d}:{entry.tid:5d} {p}/{tag} ]\n{entry.message}\n\n"
    suffix = f"  ({tag})" if fmt == "process" else ""
    return "".join(f"{prefix}{line}{suffix}\n" for line in lines)


@command("logcat")
def logcat(ctx: Ctx) -> int:
    opts = parse_args(ctx.args[1:])
    log = ctx.device.log
    if opts.clear:
        log.clear()
        return 0
    seq, entries = log.snapshot()
    entries = [e for e in entries if wanted(e, opts.specs)]
    if opts.tail is not None:
        entries = entries[-opts.tail:] if opts.tail else []
    printed = _emit(ctx, opts, entries, 0, header=True)
    if opts.dump or _done(opts, printed):
        return 0
    while not ctx.closed.is_set() and not _done(opts, printed):
        seq, new = log.wait_after(seq, 0.25)
        printed = _emit(ctx, opts, [e for e in new if wanted(e, opts.specs)], printed, header=printed == 0)
    return 0


def _done(opts: LogcatOptions, printed: int) -> bool:
    return opts.max_count is not None and printed >= opts.max_count


def _emit(ctx: Ctx, opts: LogcatOptions, entries: list[LogEntry], printed: int, header: bool) -> int:
    if opts.max_count is not None:
        entries = entries[: max(0, opts.max_count - printed)]
    if not entries:
        return printed
    text = "".join(format_entry(ctx.device, e, opts.fmt) for e in entries)
    ctx.out((BEGINNING if header and opts.fmt != "raw" else "") + text)
    return printed + len(entries)
