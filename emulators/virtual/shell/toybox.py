"""toybox applets: files, text filters, processes and the clock, in toybox's output formats."""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable, Iterator

from emulators.virtual.shell.context import COMMANDS, Ctx, UsageError, command
from emulators.virtual.shell.files import ls_long, touch, write_denied

# toybox's applet names that `toybox NAME` dispatches to (the rest are mksh builtins or framework)
APPLETS = frozenset(["cat", "chmod", "cp", "cut", "date", "echo", "env", "false", "getenforce", "getprop", "grep", "head", "id", "kill", "ls", "md5sum", "mkdir", "mv", "ps", "pwd", "rm", "rmdir", "setprop", "sleep", "stat", "tail", "test", "touch", "true", "uname", "wc", "which", "whoami", "log"])


def split_flags(args: list[str], with_value: str = "", *, digit_flags: bool = False
                ) -> tuple[set[str], dict[str, str], list[str]]:
    """Toybox-style option parsing: combined short flags (`-rf`), `-n 5`/`-n5`, `--` ends options.

    `-5` is an argument (a negative number) unless `digit_flags` (pm's `-3`)."""
    flags: set[str] = set()
    values: dict[str, str] = {}
    rest: list[str] = []
    it = iter(args)
    for arg in it:
        if arg == "--":
            rest.extend(it)
            break
        if len(arg) > 1 and arg[0] == "-" and (digit_flags or not arg[1:].isdigit()):
            for i, flag in enumerate(arg[1:]):
                if flag in with_value:
                    values[flag] = arg[i + 2:] or next(it, "")
                    break
                flags.add(flag)
        else:
            rest.append(arg)
    return flags, values, rest


@command("toybox")
def toybox(ctx: Ctx) -> int:
    if len(ctx.args) < 2:
        ctx.out(" ".join(sorted(APPLETS)) + "\n")
        return 0
    name = ctx.args[1]
    if name not in APPLETS or name not in COMMANDS:
        raise UsageError(f"Unknown command {name}", 1)
    ctx.args = ctx.args[1:]
    return COMMANDS[name](ctx)


# --- files ---------------------------------------------------------------------------------------

def _missing(ctx: Ctx, path: str) -> int:
    ctx.err(f"{ctx.name}: {path}: No such file or directory\n")
    return 1


def _check_write(ctx: Ctx, path: str) -> str | None:
    return write_denied(ctx.device, ctx.device_path(path), ctx.root)


@command("ls")
def ls(ctx: Ctx) -> int:
    flags, _, paths = split_flags(ctx.args[1:])
    status = 0
    files, dirs = [], []
    for path in paths or ["."]:
        host = ctx.host_path(path)
        if not host.exists():
            status = _missing(ctx, path) or 1
        elif host.is_dir() and "d" not in flags:
            dirs.append(path)
        else:
            files.append(path)
    for path in files:
        ctx.out(_ls_entry(ctx, path, path, flags) + "\n")
    for i, path in enumerate(dirs):
        if len(paths) > 1:
            ctx.out(("\n" if i or files else "") + f"{path}:\n")
        _ls_dir(ctx, path, flags)
    return status


def _ls_dir(ctx: Ctx, path: str, flags: set[str]) -> None:
    host = ctx.host_path(path)
    names = sorted(p.name for p in host.iterdir())
    if "a" in flags:
        names = [".", ".."] + names
    elif "A" not in flags:
        names = [n for n in names if not n.startswith(".")]
    if "l" in flags:
        ctx.out(f"total {len(names) * 4}\n")
    for name in names:
        ctx.out(_ls_entry(ctx, f"{path.rstrip('/')}/{name}", name, flags) + "\n")


def _ls_entry(ctx: Ctx, path: str, shown: str, flags: set[str]) -> str:
    if "l" not in flags:
        return shown
    return ls_long(ctx.device, ctx.host_path(path), ctx.device_path(path), shown)


def _each_file(ctx: Ctx, paths: list[str], use: Callable[[str, bytes], None]) -> int:
    """Toybox's loop over file operands: each readable file's bytes to `use`, errors as toybox words them."""
    status = 0
    for path in paths:
        host = ctx.host_path(path)
        if host.is_dir():
            ctx.err(f"{ctx.name}: {path}: Is a directory\n")
            status = 1
        elif not host.is_file():
            status = _missing(ctx, path)
        else:
            use(path, host.read_bytes())
    return status


@command("cat")
def cat(ctx: Ctx) -> int:
    paths = [a for a in ctx.args[1:] if a != "-"] if len(ctx.args) > 1 else []
    if not paths:
        while chunk := ctx.stdin(65536):
            ctx.stdout(chunk)
        return 0
    return _each_file(ctx, paths, lambda path, data: ctx.stdout(data))


@command("rm")
def rm(ctx: Ctx) -> int:
    flags, _, paths = split_flags(ctx.args[1:])
    status = 0
    for path in paths:
        host = ctx.host_path(path)
        if not host.exists():
            if "f" not in flags:
                status = _missing(ctx, path)
            continue
        denied = _check_write(ctx, path)
        if denied:
            ctx.err(f"rm: {path}: {denied}\n")
            status = 1
        elif host.is_dir():
            if "r" in flags or "R" in flags:
                shutil.rmtree(host)
            else:
                ctx.err(f"rm: {path}: Is a directory\n")
                status = 1
        else:
            host.unlink()
    return status


@command("rmdir")
def rmdir(ctx: Ctx) -> int:
    status = 0
    for path in ctx.args[1:]:
        try:
            ctx.host_path(path).rmdir()
        except OSError as error:
            ctx.err(f"rmdir: {path}: {error.strerror}\n")
            status = 1
    return status


@command("mkdir")
def mkdir(ctx: Ctx) -> int:
    flags, _, paths = split_flags(ctx.args[1:], with_value="m")
    status = 0
    for path in paths:
        host = ctx.host_path(path)
        denied = _check_write(ctx, path)
        if denied:
            ctx.err(f"mkdir: '{path}': {denied}\n")
            status = 1
        elif host.exists() and "p" not in flags:
            ctx.err(f"mkdir: '{path}': File exists\n")
            status = 1
        elif not host.parent.is_dir() and "p" not in flags:
            ctx.err(f"mkdir: '{path}': No such file or directory\n")
            status = 1
        else:
            host.mkdir(parents=True, exist_ok=True)
    return status


@command("chmod")
def chmod(ctx: Ctx) -> int:
    _, _, rest = split_flags(ctx.args[1:])
    if len(rest) < 2:
        raise UsageError("chmod: Needs 2 arguments", 1)
    mode, paths = rest[0], rest[1:]
    status = 0
    for path in paths:
        host = ctx.host_path(path)
        if not host.exists():
            status = _missing(ctx, path)
        elif _check_write(ctx, path):
            ctx.err(f"chmod: {path}: Operation not permitted\n")
            status = 1
        else:
            host.chmod(_chmod_mode(mode, host.stat().st_mode & 0o7777))
    return status


def _chmod_mode(spec: str, current: int) -> int:
    if re.fullmatch(r"[0-7]{1,4}", spec):
        return int(spec, 8)
    mode = current
    for clause in spec.split(","):
        match = re.fullmatch(r"([ugoa]*)([+\-=])([rwx]*)", clause)
        if not match:
            raise UsageError(f"chmod: bad mode '{spec}'", 1)
        who = match.group(1) or "a"
        bits = sum({"r": 4, "w": 2, "x": 1}[c] for c in match.group(3))
        mask = sum({"u": bits << 6, "g": bits << 3, "o": bits, "a": bits * 0o111}[w] for w in set(who))
        mode = mode | mask if match.group(2) == "+" else mode & ~mask if match.group(2) == "-" else mask
    return mode


@command("touch")
def touch_(ctx: Ctx) -> int:
    _, _, paths = split_flags(ctx.args[1:])
    status = 0
    for path in paths:
        denied = _check_write(ctx, path)
        if denied or not ctx.host_path(path).parent.is_dir():
            ctx.err(f"touch: '{path}': {denied or 'No such file or directory'}\n")
            status = 1
        else:
            touch(ctx.host_path(path))
    return status


@command("cp", "mv")
def cp(ctx: Ctx) -> int:
    flags, _, paths = split_flags(ctx.args[1:])
    if len(paths) < 2:
        raise UsageError(f"{ctx.name}: Needs 2 arguments", 1)
    *sources, dest = paths
    dest_host = ctx.host_path(dest)
    status = 0
    for source in sources:
        src = ctx.host_path(source)
        target = dest_host / src.name if dest_host.is_dir() else dest_host
        denied = _check_write(ctx, dest)
        if not src.exists():
            status = _missing(ctx, source)
        elif denied:
            ctx.err(f"{ctx.name}: '{dest}': {denied}\n")
            status = 1
        elif ctx.name == "mv":
            shutil.move(src, target)
        elif src.is_dir():
            if not ({"r", "R", "a"} & flags):
                ctx.err(f"cp: {source}: Is a directory\n")
                status = 1
            else:
                shutil.copytree(src, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(src, target)
    return status


@command("md5sum")
def md5sum(ctx: Ctx) -> int:
    _, _, paths = split_flags(ctx.args[1:])
    if not paths:
        ctx.out(f"{hashlib.md5(ctx.read_all()).hexdigest()}  -\n")
        return 0
    return _each_file(ctx, paths, lambda path, data: ctx.out(f"{hashlib.md5(data).hexdigest()}  {path}\n"))


@command("stat")
def stat_(ctx: Ctx) -> int:
    _, values, paths = split_flags(ctx.args[1:], with_value="c")
    status = 0
    for path in paths:
        host = ctx.host_path(path)
        if not host.exists():
            ctx.err(f"stat: '{path}': No such file or directory\n")
            status = 1
            continue
        st = host.stat()
        fmt = values.get("c")
        if fmt:
            ctx.out(fmt.replace("%s", str(st.st_size)).replace("%n", path)
                    .replace("%Y", str(int(st.st_mtime + ctx.device.clock.offset))) + "\n")
        else:
            kind = "directory" if host.is_dir() else "regular file"
            ctx.out(f"  File: {path}\n  Size: {st.st_size}\t Blocks: {(st.st_size + 511) // 512}\t"
                    f" IO Blocks: 4096\t{kind}\n")
    return status


# --- text filters --------------------------------------------------------------------------------

def iter_lines(ctx: Ctx, paths: list[str]) -> Iterator[bytes]:
    """Lines (with their newline) from files or, without files, as they arrive on stdin."""
    if paths:
        for path in paths:
            host = ctx.host_path(path)
            if host.is_file():
                yield from host.read_bytes().splitlines(keepends=True)
            else:
                _missing(ctx, path)
        return
    pending = b""
    while chunk := ctx.stdin(65536):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line + b"\n"
    if pending:
        yield pending


def _bre_to_python(pattern: str) -> str:
    """grep's basic regexes: `\\|`, `\\(`, `\\+` are operators; bare `|`, `(`, `+` are literals."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "|(){}+?":
            out.append(pattern[i + 1])
            i += 2
            continue
        out.append("\\" + ch if ch in "|(){}+?" else ch)
        if ch == "\\" and i + 1 < len(pattern):
            out.append(pattern[i + 1])
            i += 1
        i += 1
    return "".join(out)


@command("grep", "egrep", "fgrep")
def grep(ctx: Ctx) -> int:
    flags, values, rest = split_flags(ctx.args[1:], with_value="em")
    patterns = [values["e"]] if "e" in values else rest[:1]
    paths = rest if "e" in values else rest[1:]
    if not patterns:
        raise UsageError("usage: grep [-EFivwcloqsnh] PATTERN [FILE...]", 2)
    regex = _grep_regex(patterns[0], flags, ctx.name)
    count, limit = 0, int(values.get("m", "0") or 0)
    for line in iter_lines(ctx, paths):
        text = line.decode("utf-8", "replace").rstrip("\n")
        hit = bool(regex.search(text)) != ("v" in flags)
        if not hit:
            continue
        count += 1
        if "q" in flags:
            return 0
        if "c" not in flags:
            ctx.out(text + "\n")
        if limit and count >= limit:
            break
    if "c" in flags:
        ctx.out(f"{count}\n")
    return 0 if count else 1


def _grep_regex(pattern: str, flags: set[str], name: str) -> re.Pattern[str]:
    if "F" in flags or name == "fgrep":
        source = re.escape(pattern)
    elif "E" in flags or name == "egrep":
        source = pattern
    else:
        source = _bre_to_python(pattern)
    if "w" in flags:
        source = rf"\b(?:{source})\b"
    if "x" in flags:
        source = rf"^(?:{source})$"
    try:
        return re.compile(source, re.IGNORECASE if "i" in flags else 0)
    except re.error as error:
        raise UsageError(f"grep: bad regex '{pattern}': {error}", 2) from error


def _count_arg(args: list[str]) -> tuple[int, list[str]]:
    """`-n 5`, `-n5`, `-5`, or the default 10; returns (count, files)."""
    count, rest, it = 10, [], iter(args)
    for arg in it:
        if arg == "-n":
            count = int(next(it, "10"))
        elif arg.startswith("-n"):
            count = int(arg[2:])
        elif arg[:1] == "-" and arg[1:].isdigit():
            count = int(arg[1:])
        else:
            rest.append(arg)
    return count, rest


@command("head")
def head(ctx: Ctx) -> int:
    count, paths = _count_arg(ctx.args[1:])
    if count <= 0:
        return 0
    for i, line in enumerate(iter_lines(ctx, paths)):
        ctx.stdout(line)
        if i + 1 >= count:
            break
    return 0


@command("tail")
def tail(ctx: Ctx) -> int:
    count, paths = _count_arg(ctx.args[1:])
    lines = list(iter_lines(ctx, paths))
    for line in lines[-count:] if count > 0 else []:
        ctx.stdout(line)
    return 0


@command("wc")
def wc(ctx: Ctx) -> int:
    flags, _, paths = split_flags(ctx.args[1:])
    data = b"".join(iter_lines(ctx, paths))
    counts = {"l": data.count(b"\n"), "w": len(data.split()), "c": len(data)}
    chosen = [f for f in "lwc" if f in flags] or ["l", "w", "c"]
    if len(chosen) == 1:
        ctx.out(f"{counts[chosen[0]]}\n")
    else:
        ctx.out(" ".join(f"{counts[f]:7d}" for f in chosen) + "\n")
    return 0


@command("cut")
def cut(ctx: Ctx) -> int:
    _, values, paths = split_flags(ctx.args[1:], with_value="df")
    delim = values.get("d", "\t")
    wanted = _field_list(values.get("f", ""))
    for line in iter_lines(ctx, paths):
        fields = line.decode("utf-8", "replace").rstrip("\n").split(delim)
        ctx.out(delim.join(fields[i - 1] for i in wanted if i - 1 < len(fields)) + "\n")
    return 0


def _field_list(spec: str) -> list[int]:
    fields: list[int] = []
    for item in spec.split(","):
        if "-" in item:
            lo, _, hi = item.partition("-")
            fields.extend(range(int(lo or 1), int(hi or 64) + 1))
        elif item:
            fields.append(int(item))
    if not fields:
        raise UsageError("cut: usage: cut -f LIST [-d DELIM] [FILE...]", 1)
    return fields
