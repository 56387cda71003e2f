"""Tools that look like toybox's but read device state: the device's clock, its log, SELinux."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from emulators.virtual.shell.context import Ctx, UsageError, command
from emulators.virtual.shell.files import device_time, device_tz
from emulators.virtual.shell.toybox import split_flags

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


@command("getenforce")
def getenforce(ctx: Ctx) -> int:
    """SELinux is enforcing on an emulator image (toybox's would read the host's selinuxfs)."""
    ctx.out("Enforcing\n")
    return 0
