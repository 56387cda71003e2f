"""PNG rendering of the screen (screencap, takeScreenshot): what a person reads in a report.

Each View's `style` picks how it is drawn: titles large, body text wrapped inside its bounds,
buttons as rounded rectangles, switches with an on/off track, list items with a divider, edit
fields with an underline. A screen holding a `notice` view is drawn the way lock notices look:
dark red, white text, full screen. The status bar shows the operator name and the clock.

Rendering a 1080x1920 frame costs tens of milliseconds, and harnesses take many screenshots of
an unchanged screen while they poll, so the last frame is cached per device under a signature of
everything drawn (the views' visible attributes, the status bar text). A change anywhere gives a
new signature; no one has to remember to bump a counter.
"""

from __future__ import annotations

import io
import struct
import threading
import unicodedata
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

from emulators.virtual.display import rotation
from emulators.virtual.ui.hierarchy import clock_text, operator_name
from emulators.virtual.ui.view import DISPLAY_HEIGHT, DISPLAY_WIDTH, STATUS_BAR_HEIGHT, View

if TYPE_CHECKING:  # pragma: no cover
    from emulators.virtual.device import VirtualDevice
    from emulators.virtual.ui.view import Screen

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    background: RGB
    text: RGB
    muted: RGB
    accent: RGB
    accent_text: RGB
    divider: RGB


NORMAL = Palette((250, 250, 250), (32, 33, 36), (95, 99, 104), (26, 115, 232), (255, 255, 255),
                 (218, 220, 224))
NOTICE = Palette((122, 14, 14), (255, 255, 255), (255, 220, 220), (255, 255, 255), (122, 14, 14),
                 (190, 80, 80))
STATUS_BAR_BG: RGB = (32, 33, 36)
DISABLED: RGB = (189, 193, 198)


# A system TrueType font with Latin-1 accents (Spanish screens) when the host has one; Pillow's
# bundled Aileron has no accented glyphs, so with it text is shown transliterated (sesion).
SYSTEM_FONTS = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "Arial.ttf")


@lru_cache(maxsize=1)
def _system_font_name() -> str | None:
    for name in SYSTEM_FONTS:
        try:
            ImageFont.truetype(name, 12)
            return name
        except OSError:
            continue
    return None


@lru_cache(maxsize=16)
def font(size: int) -> Font:
    """A readable font at this pixel size; never downloads anything."""
    name = _system_font_name()
    if name is not None:
        return ImageFont.truetype(name, size)
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow < 10.1 or no FreeType
        return ImageFont.load_default()


# Persian and Arabic text: a Persian face (Debian's fonts-farsiweb) when installed, else DejaVu Sans,
# which covers the Arabic script too. Pillow lays it out with libraqm (shaping, bidi).
ARABIC_FONTS = ("nazli.ttf", "DejaVuSans.ttf")


@lru_cache(maxsize=16)
def arabic_font(size: int) -> Font:
    for name in ARABIC_FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return font(size)


def _arabic(text: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" or "\ufb50" <= c <= "\ufeff" for c in text)


def font_for(text: str, size: int) -> Font:
    return arabic_font(size) if _arabic(text) else font(size)


def is_rtl(text: str) -> bool:
    """Android's default text direction (firstStrong): the first strongly directional character decides."""
    for c in text:
        kind = unicodedata.bidirectional(c)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def displayable(text: str) -> str:
    """Text the font can show: ASCII-folded when only the bundled font is available."""
    if _system_font_name() is not None or text.isascii():
        return text
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if c.isascii())


# --------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------

@dataclass
class _Frame:
    signature: tuple[object, ...]
    image: Image.Image
    png: bytes | None = None
    jpegs: dict[tuple[float, int], bytes] = field(default_factory=dict)  # (scale, quality)


_frames: weakref.WeakKeyDictionary[object, _Frame] = weakref.WeakKeyDictionary()
_frames_lock = threading.Lock()


def _view_signature(view: View) -> tuple[object, ...]:
    return (view.cls, view.text, view.content_desc, view.bounds, view.style, view.enabled,
            view.checked, view.selected, view.focused, view.password,
            tuple(_view_signature(c) for c in view.children))


def signature(device: VirtualDevice) -> tuple[object, ...]:
    """Everything the frame shows; equal signatures mean an identical picture."""
    with device.lock:
        screen = device.top_screen()
        body = None if screen is None else (screen.component, screen.secure,
                                            _view_signature(screen.root))
        return (operator_name(device), clock_text(device), body, rotation(device))


_TURNS = {1: Image.Transpose.ROTATE_90, 2: Image.Transpose.ROTATE_180, 3: Image.Transpose.ROTATE_270}


def render_image(device: VirtualDevice) -> Image.Image:
    """The current frame as an RGB image. Shared with the cache: callers must not modify it."""
    sig = signature(device)
    with _frames_lock:
        frame = _frames.get(device)
        if frame is not None and frame.signature == sig:
            return frame.image
    with device.lock:
        image = draw_frame(device.top_screen(), operator_name(device), clock_text(device))
    turn = rotation(device)
    if turn:  # the natural layout as the rotated display shows it (see emulators.virtual.display)
        image = image.transpose(_TURNS[turn])
    with _frames_lock:
        _frames[device] = _Frame(sig, image)
    return image


def render_png(device: VirtualDevice) -> bytes:
    """`screencap -p`: the current frame as PNG bytes (cached while the screen is unchanged)."""
    image = render_image(device)
    with _frames_lock:
        frame = _frames.get(device)
        if frame is not None and frame.image is image and frame.png is not None:
            return frame.png
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)  # speed over size: it crosses a local link
    png = out.getvalue()
    with _frames_lock:
        frame = _frames.get(device)
        if frame is not None and frame.image is image:
            frame.png = png
    return png


def render_raw(device: VirtualDevice) -> bytes:
    """`screencap` without -p: width, height, format (1 = RGBA_8888) as little-endian u32, then pixels."""
    image = render_image(device)
    header = struct.pack("<III", image.width, image.height, 1)
    return header + image.convert("RGBA").tobytes()


def render_jpeg(device: VirtualDevice, scale: float = 1.0, quality: int = 80) -> bytes:
    """uiautomator2's takeScreenshot(scale, quality): a JPEG of the frame (cached like the PNG)."""
    scale = float(scale or 1.0)
    quality = max(1, min(100, int(quality or 80)))
    image = render_image(device)
    with _frames_lock:
        frame = _frames.get(device)
        if frame is not None and frame.image is image and (scale, quality) in frame.jpegs:
            return frame.jpegs[(scale, quality)]
    jpeg = encode_jpeg(image, scale, quality)
    with _frames_lock:
        frame = _frames.get(device)
        if frame is not None and frame.image is image:
            frame.jpegs[(scale, quality)] = jpeg
    return jpeg


def encode_jpeg(image: Image.Image, scale: float, quality: int) -> bytes:
    if abs(scale - 1.0) > 1e-6:
        size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        image = image.resize(size)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------

def draw_frame(screen: Screen | None, operator: str, clock: str) -> Image.Image:
    """One frame: the screen's views under the status bar. Pure: no device access."""
    if screen is not None and screen.secure:  # FLAG_SECURE: screencap sees black
        return Image.new("RGB", (DISPLAY_WIDTH, DISPLAY_HEIGHT), (0, 0, 0))
    notice = screen is not None and any(v.style == "notice" for v in screen.root.walk())
    palette = NOTICE if notice else NORMAL
    image = Image.new("RGB", (DISPLAY_WIDTH, DISPLAY_HEIGHT), palette.background)
    draw = ImageDraw.Draw(image)
    if screen is not None:
        for view in screen.root.walk():
            draw_view(draw, view, palette)
    draw_status_bar(draw, operator, clock)
    return image


def draw_status_bar(draw: ImageDraw.ImageDraw, operator: str, clock: str) -> None:
    draw.rectangle((0, 0, DISPLAY_WIDTH, STATUS_BAR_HEIGHT), fill=STATUS_BAR_BG)
    f = font(34)
    _text(draw, (32, STATUS_BAR_HEIGHT // 2), operator, font=f, fill=(255, 255, 255), anchor="lm")
    _text(draw, (DISPLAY_WIDTH - 32, STATUS_BAR_HEIGHT // 2), clock, font=f, fill=(255, 255, 255),
              anchor="rm")


def _text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, **kwargs: object) -> None:
    given = kwargs.get("font")
    if _arabic(text) and isinstance(given, ImageFont.FreeTypeFont):
        kwargs["font"] = arabic_font(int(given.size))
    draw.text(xy, displayable(text), **kwargs)  # type: ignore[arg-type]


def wrap(text: str, f: Font, width: int) -> list[str]:
    """Greedy word wrap to a pixel width (a word longer than a line gets a line of its own)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and draw_width(candidate, f) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def draw_width(text: str, f: Font) -> float:
    return f.getlength(text) if hasattr(f, "getlength") else len(text) * 6


def _text_block(draw: ImageDraw.ImageDraw, view: View, size: int, fill: RGB,
                *, inset: int = 0) -> None:
    left, top, right, bottom = view.bounds
    f = font_for(view.text, size)
    rtl = is_rtl(view.text)  # right to left: lines start at the right edge
    y = top + inset
    for line in wrap(displayable(view.text), f, right - left - 2 * inset):
        if y + size > bottom + size // 2:
            break  # clip like a TextView with a fixed height
        if rtl:
            _text(draw, (right - inset, y), line, font=f, fill=fill, anchor="ra")
        else:
            _text(draw, (left + inset, y), line, font=f, fill=fill)
        y += int(size * 1.35)


def _button(draw: ImageDraw.ImageDraw, view: View, p: Palette) -> None:
    fill = p.accent if view.enabled else DISABLED
    draw.rounded_rectangle(view.bounds, radius=(view.bounds[3] - view.bounds[1]) // 2, fill=fill)
    label = view.text or view.content_desc
    x, y = view.center
    _text(draw, (x, y), label, font=font(46), fill=p.accent_text, anchor="mm")


def _switch(draw: ImageDraw.ImageDraw, view: View, p: Palette) -> None:
    left, top, right, bottom = view.bounds
    mid = (top + bottom) // 2
    rtl = is_rtl(view.text)  # a mirrored layout: label on the right, track on the left
    if rtl:
        _text(draw, (right, mid), view.text, font=font(44), fill=p.text, anchor="rm")
    else:
        _text(draw, (left, mid), view.text, font=font(44), fill=p.text, anchor="lm")
    track = (left + 10, mid - 28, left + 150, mid + 28) if rtl else (right - 150, mid - 28, right - 10, mid + 28)
    on = view.checked
    draw.rounded_rectangle(track, radius=28, fill=p.accent if on else DISABLED)
    knob_x = track[2] - 28 if on else track[0] + 28
    draw.ellipse((knob_x - 24, mid - 24, knob_x + 24, mid + 24), fill=(255, 255, 255))
    _text(draw, (track[2] + 20, mid) if rtl else (track[0] - 20, mid), "ON" if on else "OFF", font=font(30),
          fill=p.muted, anchor="lm" if rtl else "rm")
    draw.line((left, bottom, right, bottom), fill=p.divider, width=2)


def _list_item(draw: ImageDraw.ImageDraw, view: View, p: Palette) -> None:
    left, top, right, bottom = view.bounds
    if view.selected or view.checked:
        draw.rectangle(view.bounds, fill=p.divider)
    mid = (top + bottom) // 2
    label = view.text or view.content_desc
    rtl = is_rtl(label)
    if view.selected or view.checked:  # a drawn dot: the bundled font has no bullet glyph
        dot = right - 36 if rtl else left + 16
        draw.ellipse((dot, mid - 10, dot + 20, mid + 10), fill=p.accent)
    _text(draw, (right - 56, mid) if rtl else (left + 56, mid), label,
          font=font(44), fill=p.text if view.enabled else DISABLED, anchor="rm" if rtl else "lm")
    draw.line((left, bottom, right, bottom), fill=p.divider, width=2)


def _edit(draw: ImageDraw.ImageDraw, view: View, p: Palette) -> None:
    left, top, right, bottom = view.bounds
    shown = "*" * len(view.text) if view.password else (view.text or view.content_desc)
    fill = p.text if view.text else p.muted
    _text(draw, (left + 8, (top + bottom) // 2), shown, font=font(44), fill=fill, anchor="lm")
    draw.line((left, bottom - 8, right, bottom - 8), fill=p.accent if view.focused else p.muted,
              width=4 if view.focused else 2)


def _icon(draw: ImageDraw.ImageDraw, view: View, p: Palette) -> None:
    """A launcher icon: a rounded tile with the initial, the label under it."""
    left, top, right, bottom = view.bounds
    label = view.text or view.content_desc
    side = min(right - left, bottom - top - 60, 160)
    x0 = (left + right - side) // 2
    draw.rounded_rectangle((x0, top, x0 + side, top + side), radius=side // 4, fill=p.accent)
    _text(draw, (x0 + side // 2, top + side // 2), label[:1].upper(), font=font(side // 2),
              fill=p.accent_text, anchor="mm")
    _text(draw, ((left + right) // 2, top + side + 12), label, font=font(34), fill=p.text,
              anchor="ma")


def _plain(draw: ImageDraw.ImageDraw, view: View, p: Palette) -> None:
    if view.clickable and (view.text or view.content_desc):
        draw.rounded_rectangle(view.bounds, radius=16, outline=p.accent, width=3)
        x, y = view.center
        _text(draw, (x, y), view.text or view.content_desc, font=font(40), fill=p.accent,
                  anchor="mm")
    elif view.text:
        _text_block(draw, view, 40, p.text)


def draw_view(draw: ImageDraw.ImageDraw, view: View, p: Palette) -> None:
    """Draw one view (not its children: the caller walks the tree)."""
    style = view.style
    if style == "title":
        _text_block(draw, view, 64, p.text)
    elif style == "body":
        _text_block(draw, view, 42, p.text if view.enabled else p.muted)
    elif style == "notice":
        _text_block(draw, view, 56 if len(view.text) < 40 else 44, p.text)
    elif style == "button":
        _button(draw, view, p)
    elif style == "switch":
        _switch(draw, view, p)
    elif style == "list_item":
        _list_item(draw, view, p)
    elif style == "edit" or view.cls.endswith("EditText"):
        _edit(draw, view, p)
    elif style == "icon":
        _icon(draw, view, p)
    else:
        _plain(draw, view, p)
