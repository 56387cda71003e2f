"""`screenrecord`: the screen as an H.264 video in an MP4 file, as Android's
(frameworks/av/cmds/screenrecord) records it.

It records until SIGINT (or SIGHUP), the time limit (180 s by default and at most) or the caller's
hang-up, then finishes the file, so a script's `screenrecord f.mp4 & ... kill -INT $! ; wait` finds
a playable video. Like the real one it writes a frame when the screen changes (a variable frame
rate), at the display's size or `--size`, at `--bit-rate` (20 Mbps by default).

Frames are encoded by FFmpeg's libx264 through PyAV rather than by our own code: PyAV is the
maintained binding, and its wheels carry FFmpeg with libx264, so the device needs no system package.
"""

from __future__ import annotations

import signal
import time
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from emulators.virtual.shell.context import Ctx, UsageError, command
from emulators.virtual.shell.files import write_denied

if TYPE_CHECKING:  # PIL is imported where a frame is drawn: a device that never records does not load it
    from PIL import Image

MAX_TIME_LIMIT = 180
DEFAULT_BIT_RATE = 20_000_000
BIT_RATE_RANGE = (100_000, 200_000_000)
MS = Fraction(1, 1000)
POLL = 0.1  # how often the screen is looked at; frames are written only when it changed
USAGE = f"""Usage: screenrecord [options] <filename>

Android screenrecord v1.3.  Records the device's display to a .mp4 file.

Options:
--size WIDTHxHEIGHT
    Set the video size, e.g. "1280x720".  Default is the device's main
    display resolution (if supported), 1280x720 if not.  For best results,
    use a size supported by the AVC encoder.
--bit-rate RATE
    Set the video bit rate, in bits per second.  Value may be specified as
    bits or megabits, e.g. '4000000' is equivalent to '4M'.  Default {DEFAULT_BIT_RATE // 1_000_000}Mbps.
--bugreport
    Add additional information, such as a timestamp overlay, that is helpful
    in videos captured to illustrate bugs.
--time-limit TIME
    Set the maximum recording time, in seconds.  Default / maximum is {MAX_TIME_LIMIT}.
--display-id ID
    specify the physical display ID to record. Default is the primary display.
--verbose
    Display interesting information on stdout.
--output-format FORMAT
    Format of the output: mp4 (default) or h264 (raw H.264 stream).
--help
    Show this message.

Recording continues until Ctrl-C is hit or the time limit is reached.
"""
WITH_VALUE = ("--size", "--bit-rate", "--time-limit", "--display-id", "--output-format")


def _parse(args: list[str]) -> tuple[dict[str, str], set[str], list[str]]:
    values: dict[str, str] = {}
    flags: set[str] = set()
    rest: list[str] = []
    it = iter(args)
    for arg in it:
        name, eq, inline = arg.partition("=")
        if name in WITH_VALUE:
            value = inline if eq else next(it, None)
            if value is None:
                raise UsageError(USAGE, 2)
            values[name] = value
        elif arg in ("--bugreport", "--verbose", "--rotate", "--help"):
            flags.add(arg)
        elif arg.startswith("-") and arg != "-":
            raise UsageError(f"Unknown option '{arg}'\n{USAGE}".rstrip(), 2)
        else:
            rest.append(arg)
    return values, flags, rest


def _bit_rate(text: str) -> int:
    scale = 1_000_000 if text[-1:] in ("m", "M") else 1
    number = text[:-1] if scale > 1 else text
    if not number.isdigit():
        raise UsageError(f"Invalid bit rate '{text}'", 2)
    rate = int(number) * scale
    low, high = BIT_RATE_RANGE
    if not low <= rate <= high:
        raise UsageError(f"Bit rate {rate}bps outside acceptable range [{low},{high}]", 2)
    return rate


def _size(text: str) -> tuple[int, int]:
    width, x, height = text.partition("x")
    if not (x and width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
        raise UsageError(f"Invalid size '{text}', must be width x height", 2)
    return int(width), int(height)


def _time_limit(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_TIME_LIMIT:
        raise UsageError(f"Time limit {text}s outside acceptable range [1,{MAX_TIME_LIMIT}]", 2)
    return int(text)


@command("screenrecord")
def screenrecord(ctx: Ctx) -> int:
    values, flags, rest = _parse(ctx.args[1:])
    if "--help" in flags:
        ctx.out(USAGE)
        return 0
    if len(rest) != 1:
        raise UsageError("Must specify output file (see --help).", 2)
    rate = _bit_rate(values.get("--bit-rate", str(DEFAULT_BIT_RATE)))
    limit = _time_limit(values.get("--time-limit", str(MAX_TIME_LIMIT)))
    fmt = values.get("--output-format", "mp4")
    if fmt not in ("mp4", "h264"):
        raise UsageError(f"Unknown format '{fmt}'", 2)
    if values.get("--display-id", "0") not in ("0", "4619827259835644672"):
        raise UsageError(f"Invalid physical display ID: {values['--display-id']}", 1)
    from emulators.virtual.ui import render

    first = render.render_image(ctx.device)
    # H.264 at 4:2:0 wants even sizes; the real encoder rounds the same way
    width, height = _size(values["--size"]) if "--size" in values else first.size
    width, height = max(2, width - width % 2), max(2, height - height % 2)

    target = rest[0]
    denied = write_denied(ctx.device, ctx.device_path(target), ctx.root)
    host = ctx.host_path(target)
    if denied or not host.parent.is_dir():
        ctx.err(f"Unable to open '{target}': {denied or 'No such file or directory'}\n")
        return 1
    stop = ctx.signals.catch(signal.SIGINT, signal.SIGHUP)
    verbose = "--verbose" in flags
    if verbose:
        ctx.out(f"Main display is {first.width}x{first.height} @60.00fps (orientation=ROTATION_0)\n"
                f"Configuring recorder for {width}x{height} video/avc at {rate / 1e6:.2f}Mbps\n")
    import av

    frames = 0
    with av.open(str(host), "w", format=fmt) as container:
        stream: Any = container.add_stream("libx264", rate=60)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = rate
        # pts in ms, in the encoder too: frames come when the screen changes, not at a fixed rate
        stream.codec_context.time_base = stream.time_base = MS
        # one thread and the fastest preset: the device shares its machine with the tests
        stream.codec_context.options = {"preset": "ultrafast", "threads": "1"}
        last: Image.Image | None = None
        last_pts = -1
        started = time.monotonic()  # the first frame is at 0, as the real encoder's
        while True:
            elapsed = time.monotonic() - started
            done = stop.is_set() or ctx.closed.is_set() or elapsed >= limit
            image = render.render_image(ctx.device)
            pts = int(min(elapsed, limit) * 1000)
            # the last frame too, so the video lasts as long as the recording did
            if (image is not last or "--bugreport" in flags or done) and pts > last_pts:
                frame = av.VideoFrame.from_image(_frame(image, (width, height), "--bugreport" in flags, frames))
                frame.pts, frame.time_base = pts, MS
                container.mux(stream.encode(frame))
                last, last_pts, frames = image, pts, frames + 1
            if done:
                break
            stop.wait(POLL)
        container.mux(stream.encode(None))
    if verbose:
        ctx.out(f"Encoder stopping; recorded {frames} frames in {int(time.monotonic() - started)} seconds\n")
    return 0


def _frame(image: Image.Image, size: tuple[int, int], bugreport: bool, number: int) -> Image.Image:
    """The screen scaled to the video, with `--bugreport`'s overlay: the time and the frame number."""
    out = image if image.size == size else image.resize(size)
    if bugreport:
        out = out.copy() if out is image else out
        from PIL import ImageDraw

        stamp = time.strftime("%H:%M:%S") + f".{int(time.time() * 1000) % 1000:03d} #{number}"
        ImageDraw.Draw(out).text((4, 4), stamp, fill=(255, 255, 255))
    return out
