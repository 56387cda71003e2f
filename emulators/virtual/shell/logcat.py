"""`logcat`: dump, clear, filter specs, buffers, regex, pid, file output and streaming, in liblog's
output formats. `-g` and `-S` report and exit, as logcat does."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from emulators.virtual.device import LOG_BUFFERS, LOG_PRIORITIES, LogEntry, VirtualDevice
from emulators.virtual.shell.context import Ctx, UsageError, command
from emulators.virtual.shell.files import device_time, write_denied

PRIORITY_ORDER = LOG_PRIORITIES + "S"  # S (silent) is above every real priority
FORMATS = ("threadtime", "time", "brief", "tag", "process", "raw", "long", "thread")
DEFAULT_BUFFERS = ("main", "system", "crash")  # logcat's default without -b
TextOut = Callable[[str], None]
RING_KIB = 256  # each buffer's size as `logcat -g` reports it on an emulator


@dataclass
class LogcatOptions:
    dump: bool = False
    clear: bool = False
    fmt: str = "threadtime"
    tail: int | None = None  # -t N / -T N: only the last N entries
    follow_after_tail: bool = False  # -T keeps streaming, -t exits
    max_count: int | None = None
    specs: dict[str, str] = field(default_factory=dict)  # tag -> minimum priority; "*" default
    buffers: tuple[str, ...] = DEFAULT_BUFFERS
    regex: re.Pattern[str] | None = None  # -e: only messages it matches
    pid: int | None = None  # --pid
    file: str | None = None  # -f: write there instead of stdout
    sizes: bool = False  # -g: print the buffers' sizes and exit
    statistics: bool = False  # -S: print statistics and exit


def _value(arg: str, it: object, long: str) -> str:
    """The value of `-x V`, `-xV`, `--long V` or `--long=V`."""
    if arg.startswith(f"{long}="):
        return arg.split("=", 1)[1]
    if len(arg) > 2 and not arg.startswith("--"):
        return arg[2:]
    return next(it, "")  # type: ignore[call-overload]


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
        elif arg.startswith(("-b", "--buffer")):
            opts.buffers = _buffers(_value(arg, it, "--buffer"), opts.buffers)
        elif arg.startswith(("-e", "--regex")):
            opts.regex = _regex(_value(arg, it, "--regex"))
        elif arg.startswith("--pid"):
            opts.pid = _count(_value(arg, it, "--pid"))
        elif arg.startswith(("-f", "--file")):
            opts.file = _value(arg, it, "--file")
        elif arg in ("-g", "--buffer-size"):
            opts.sizes = True
        elif arg in ("-S", "--statistics"):
            opts.statistics = True
        elif arg.startswith("-"):
            continue  # -B, -D, -r/-n (rotation): accepted, no effect here
        else:
            _add_spec(opts.specs, arg)
    opts.specs.setdefault("*", "S" if silent else "V")
    return opts


def _buffers(text: str, current: tuple[str, ...]) -> tuple[str, ...]:
    names: list[str] = [] if current == DEFAULT_BUFFERS else list(current)  # -b repeats add up
    for name in text.split(","):
        if name == "all":
            names += LOG_BUFFERS
        elif name == "default":
            names += DEFAULT_BUFFERS
        elif name in LOG_BUFFERS:
            names.append(name)
        else:
            raise UsageError(f"logcat: Unknown buffer '{name}'.", 1)
    return tuple(dict.fromkeys(names))


def _regex(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as error:
        raise UsageError(f"logcat: invalid regex '{text}': {error}", 1) from error


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


def wanted(entry: LogEntry, opts: LogcatOptions) -> bool:
    minimum = opts.specs.get(entry.tag, opts.specs.get("*", "V"))
    return (entry.buffer in opts.buffers and PRIORITY_ORDER.index(entry.priority) >= PRIORITY_ORDER.index(minimum)
            and (opts.pid is None or entry.pid == opts.pid)
            and (opts.regex is None or opts.regex.search(entry.message) is not None))


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
        log.clear(opts.buffers)
        return 0
    seq, entries = log.snapshot()
    if opts.sizes or opts.statistics:
        ctx.out(_sizes(opts, entries) if opts.sizes else _statistics(opts, entries))
        return 0
    out = ctx.out if opts.file is None else _file_writer(ctx, opts.file)
    entries = [e for e in entries if wanted(e, opts)]
    if opts.tail is not None:
        entries = entries[-opts.tail:] if opts.tail else []
    started: set[str] = set()
    printed = _emit(ctx, out, opts, entries, 0, started)
    if opts.dump or _done(opts, printed):
        return 0
    while not ctx.closed.is_set() and not _done(opts, printed):
        seq, new = log.wait_after(seq, 0.25)
        printed = _emit(ctx, out, opts, [e for e in new if wanted(e, opts)], printed, started)
    return 0


def _file_writer(ctx: Ctx, target: str) -> TextOut:
    denied = write_denied(ctx.device, ctx.device_path(target), ctx.root)
    host = ctx.host_path(target)
    if denied or not host.parent.is_dir():
        raise UsageError(f"logcat: cannot open output file {target}: {denied or 'No such file or directory'}", 1)
    host.write_text("")

    def append(text: str) -> None:
        with host.open("a", encoding="utf-8") as handle:
            handle.write(text)
    return append


def _sizes(opts: LogcatOptions, entries: list[LogEntry]) -> str:
    lines = []
    for name in opts.buffers:
        used = sum(len(e.message) + len(e.tag) + 28 for e in entries if e.buffer == name)
        lines.append(f"{name}: ring buffer is {RING_KIB} KiB ({min(used // 1024, RING_KIB)} KiB consumed), "
                     "max entry is 5120 B, max payload is 4068 B\n")
    return "".join(lines)


def _statistics(opts: LogcatOptions, entries: list[LogEntry]) -> str:
    counts = {name: sum(1 for e in entries if e.buffer == name) for name in opts.buffers}
    header = "size/num " + " ".join(f"{name:<15}" for name in opts.buffers) + " Total\n"
    total = "Total    " + " ".join(f"{counts[n]:<15}" for n in opts.buffers) + f" {sum(counts.values())}\n"
    return header + total


def _done(opts: LogcatOptions, printed: int) -> bool:
    return opts.max_count is not None and printed >= opts.max_count


def _emit(ctx: Ctx, out: TextOut, opts: LogcatOptions, entries: list[LogEntry], printed: int,
          started: set[str]) -> int:
    if opts.max_count is not None:
        entries = entries[: max(0, opts.max_count - printed)]
    if not entries:
        return printed
    parts = []
    for entry in entries:
        if entry.buffer not in started and opts.fmt != "raw":  # liblog's per-buffer header
            started.add(entry.buffer)
            parts.append(f"--------- beginning of {entry.buffer}\n")
        parts.append(format_entry(ctx.device, entry, opts.fmt))
    out("".join(parts))
    return printed + len(entries)
