"""mksh builtins and the small identity tools: echo, test, cd, exit, sh -c, su, id, which..."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

from emulators.virtual.device import uid_line
from emulators.virtual.shell.context import COMMANDS, Ctx, ShellExit, UsageError, command


@command("true", ":")
def true_(ctx: Ctx) -> int:
    return 0


@command("false")
def false_(ctx: Ctx) -> int:
    return 1


@command("echo")
def echo(ctx: Ctx) -> int:
    args = ctx.args[1:]
    newline, escapes = True, False
    while args and args[0] in ("-n", "-e", "-ne", "-en", "-E"):
        flag = args.pop(0)
        newline = newline and "n" not in flag
        escapes = "e" in flag
    text = " ".join(args)
    if escapes:
        text, stop = _unescape(text)
        newline = newline and not stop
    ctx.out(text + ("\n" if newline else ""))
    return 0


def _unescape(text: str) -> tuple[str, bool]:
    """`echo -e`: backslash escapes; `\\c` stops output (and the newline)."""
    stop = "\\c" in text
    text = text.split("\\c", 1)[0]
    return codecs.decode(text.encode("latin-1", "backslashreplace"), "unicode_escape"), stop


@command("printf")
def printf(ctx: Ctx) -> int:
    """`printf FORMAT [ARG...]`: %s %d %i %x %c %% and backslash escapes; the format repeats for extra args."""
    if len(ctx.args) < 2:
        raise UsageError("printf: Needs 1 argument", 1)
    fmt, args = _unescape(ctx.args[1])[0], ctx.args[2:]
    per_round = sum(1 for spec in _PRINTF_SPEC.findall(fmt) if spec != "%%") or 1
    rounds = max(1, -(-len(args) // per_round))
    out = [_printf_round(fmt, iter(args[i * per_round:(i + 1) * per_round])) for i in range(rounds)]
    ctx.out("".join(out))
    return 0


_PRINTF_SPEC = re.compile(r"%[-+ 0#]*\d*(?:\.\d+)?[sdixXcfu%]")


def _printf_round(fmt: str, args: Iterator[str]) -> str:
    return _PRINTF_SPEC.sub(lambda m: _printf_one(m.group(0), args), fmt)


def _printf_one(spec: str, args: Iterator[str]) -> str:
    if spec == "%%":
        return "%"
    value = next(args, "")
    kind = spec[-1]
    if kind in "dixXu":
        try:
            number = int(value or "0", 0)
        except ValueError as error:
            raise UsageError(f"printf: invalid number '{value}'", 1) from error
        return (spec[:-1] + ("d" if kind == "u" else kind)) % number
    if kind == "f":
        return spec % float(value or "0")
    if kind == "c":
        return value[:1]
    return spec % value


@command("test", "[")
def test(ctx: Ctx) -> int:
    args = ctx.args[1:]
    if ctx.name == "[":
        if not args or args[-1] != "]":
            raise UsageError("[: missing ]", 2)
        args = args[:-1]
    negate = bool(args) and args[0] == "!"
    if negate:
        args = args[1:]
    result = _test(ctx, args)
    return 0 if result != negate else 1


def _test(ctx: Ctx, args: list[str]) -> bool:
    if not args:
        return False
    if len(args) == 1:
        return args[0] != ""
    if len(args) == 2:
        op, operand = args
        if op in ("-e", "-f", "-d", "-s", "-r", "-w", "-x"):
            host = ctx.host_path(operand)
            return {"-e": host.exists(), "-f": host.is_file(), "-d": host.is_dir(),
                    "-s": host.is_file() and host.stat().st_size > 0}.get(op, host.exists())
        if op in ("-z", "-n"):
            return (operand == "") == (op == "-z")
        raise UsageError(f"test: {op}: unknown operand", 2)
    left, op, right = args[:3]
    if op in ("=", "=="):
        return left == right
    if op == "!=":
        return left != right
    numeric = {"-eq": int.__eq__, "-ne": int.__ne__, "-lt": int.__lt__, "-le": int.__le__,
               "-gt": int.__gt__, "-ge": int.__ge__}
    if op in numeric:
        try:
            return bool(numeric[op](int(left), int(right)))
        except ValueError as error:
            raise UsageError(f"test: bad number '{left if not left.lstrip('-').isdigit() else right}'",
                             2) from error
    raise UsageError(f"test: {op}: unknown operand", 2)


@command("exit")
def exit_(ctx: Ctx) -> int:
    if ctx.shell.su_stack:  # leaves the `su` of an interactive session, not the session
        ctx.shell.root = ctx.shell.su_stack.pop()
        return 0
    status = int(ctx.args[1]) if len(ctx.args) > 1 and ctx.args[1].isdigit() else ctx.shell.status
    raise ShellExit(status & 0xFF)


@command("cd")
def cd(ctx: Ctx) -> int:
    target = ctx.args[1] if len(ctx.args) > 1 else "/"
    if not ctx.host_path(target).is_dir():
        raise UsageError(f"/system/bin/sh: cd: {target}: No such file or directory", 2)
    ctx.shell.cwd = ctx.device_path(target)
    return 0


@command("pwd")
def pwd(ctx: Ctx) -> int:
    ctx.out(ctx.shell.cwd + "\n")
    return 0


@command("export")
def export(ctx: Ctx) -> int:
    for arg in ctx.args[1:]:
        name, eq, value = arg.partition("=")
        if eq:
            ctx.shell.env[name] = value
    return 0


@command("unset")
def unset(ctx: Ctx) -> int:
    for name in ctx.args[1:]:
        ctx.shell.env.pop(name, None)
    return 0


@command("env", "printenv")
def env(ctx: Ctx) -> int:
    for key, value in sorted(ctx.env.items()):
        ctx.out(f"{key}={value}\n")
    return 0


@command("sh")
def sh(ctx: Ctx) -> int:
    """`sh -c 'CMD'` runs CMD in a subshell; `sh` alone reads commands from stdin."""
    args = ctx.args[1:]
    sub = ctx.shell.child()
    streams = _streams(ctx)
    if args and args[0] == "-c":
        if len(args) < 2:
            raise UsageError("/system/bin/sh: -c: option requires an argument", 1)
        return sub.run_text(args[1], streams)
    return sub.run_text(ctx.read_all().decode("utf-8", "replace"), streams)


@command("su")
def su(ctx: Ctx) -> int:
    """userdebug images ship /system/xbin/su, usable from the shell uid: `su 0 CMD...`, `su root CMD`."""
    if ctx.device.props.get("ro.build.type", "userdebug") == "user":
        raise UsageError("/system/bin/sh: su: inaccessible or not found", 127)
    args = ctx.args[1:]
    if args and args[0] in ("0", "root"):
        args = args[1:]
    elif args and (args[0].isdigit() or args[0] == "shell"):
        raise UsageError(f"su: only root is supported here, not '{args[0]}'", 1)
    if args and args[0] == "-c":
        args = args[1:]
    if not args and ctx.shell.interactive:  # `adb shell` then `su`: the session becomes root
        ctx.shell.su_stack.append(ctx.shell.root)
        ctx.shell.root = True
        return 0
    sub = ctx.shell.child(root=True)
    sub.env["USER"] = sub.env["LOGNAME"] = "root"
    if not args:
        return sub.run_text(ctx.read_all().decode("utf-8", "replace"), _streams(ctx))
    from emulators.virtual.shell.interp import call, lookup

    if len(args) == 1 and " " in args[0]:  # `su -c 'a; b'` / `su 0 'getprop x'`
        return sub.run_text(args[0], _streams(ctx))
    fn = lookup(args[0])
    if fn is None:
        raise UsageError(f"su: exec failed for {args[0]} Error:No such file or directory", 255)
    return call(fn, Ctx(ctx.device, sub, args, ctx.stdin, ctx.stdout, ctx.stderr, ctx.closed, sub.env))


def _streams(ctx: Ctx):  # -> Streams (imported lazily: interp imports this module's table)
    from emulators.virtual.shell.interp import Streams

    return Streams(ctx.stdin, ctx.stdout, ctx.stderr, ctx.closed)


@command("nohup", "exec")
def nohup(ctx: Ctx) -> int:
    """Run the rest of the line as a command; `exec` then ends the shell with its status."""
    from emulators.virtual.shell.interp import call, lookup

    args = ctx.args[1:]
    if not args:
        return 0
    fn = lookup(args[0])
    if fn is None:
        raise UsageError(f"/system/bin/sh: {args[0]}: inaccessible or not found", 127)
    status = call(fn, Ctx(ctx.device, ctx.shell, args, ctx.stdin, ctx.stdout, ctx.stderr, ctx.closed, ctx.env))
    if ctx.name == "exec":
        raise ShellExit(status)
    return status


@command("which", "command")
def which(ctx: Ctx) -> int:
    args = [a for a in ctx.args[1:] if not a.startswith("-")]
    status = 0
    for name in args:
        if name in COMMANDS:
            ctx.out(f"/system/bin/{name}\n")
        else:
            status = 1
    return status


@command("id")
def id_(ctx: Ctx) -> int:
    flags = "".join(a.lstrip("-") for a in ctx.args[1:])
    if "u" in flags and "n" in flags:
        ctx.out("root\n" if ctx.root else "shell\n")
    elif "u" in flags:
        ctx.out("0\n" if ctx.root else "2000\n")
    else:
        ctx.out(uid_line(ctx.root) + "\n")
    return 0


@command("whoami")
def whoami(ctx: Ctx) -> int:
    ctx.out("root\n" if ctx.root else "shell\n")
    return 0


@command("sleep")
def sleep(ctx: Ctx) -> int:
    if len(ctx.args) < 2:
        raise UsageError("sleep: Need 1 argument\nsleep: see sleep --help", 1)
    try:
        seconds = sum(_duration(a) for a in ctx.args[1:])
    except ValueError as error:
        raise UsageError(f"sleep: Not a number '{ctx.args[1]}'", 1) from error
    return 130 if ctx.wait(seconds) else 0


def _duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text and text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


@command("getenforce")
def getenforce(ctx: Ctx) -> int:
    ctx.out("Enforcing\n")
    return 0


@command("uname")
def uname(ctx: Ctx) -> int:
    flags = "".join(a.lstrip("-") for a in ctx.args[1:]) or "s"
    fields = {"s": "Linux", "n": "localhost", "r": "5.10.66-android12-9-00041-gfa9c9074531e-ab7914766",
              "v": "#1 SMP PREEMPT Fri Nov 12 17:48:34 UTC 2021", "m": "x86_64", "o": "Toybox"}
    order = "snrvmo" if "a" in flags else flags
    ctx.out(" ".join(fields[f] for f in order if f in fields) + "\n")
    return 0
