"""The uiautomator2 server (u2.jar's `com.wetest.uia2.Main`): JSON-RPC over HTTP on the device.

Theory of operation
-------------------
uiautomator2 pushes u2.jar, runs `CLASSPATH=/data/local/tmp/u2.jar app_process / com.wetest.uia2.Main
-p 9008` over an adb shell stream, and then talks HTTP to device port 9008 through adb `tcp:9008`
streams: `GET /ping` answers `pong`, `POST /jsonrpc/0` carries JSON-RPC 2.0. The shell calls
`serve()` for that command; it listens on a free host port and publishes it in
`device.tcp_servers[9008]`, which is where adbd connects `tcp:9008` streams. The server lives as
long as the shell stream (closing it, or `kill` of the `uiautomator` process, stops it), as on a
device.

`U2Service` is the protocol without the sockets: `handle(body) -> bytes` turns one request body
into one response body, so it is tested without HTTP. Method names and parameter shapes are the
ones uiautomator2 3.x sends (see its `__init__.py`, `_selector.py`): positional params arrive as a
JSON array, a call without arguments as `{}`. Errors use the real server's shapes: a selector miss
says `androidx.test.uiautomator.UiObjectNotFoundException`, which the client turns into
UiObjectNotFoundError.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from emulators.virtual import display
from emulators.virtual.ui import input as ui_input
from emulators.virtual.ui.hierarchy import dump_xml, window_roots
from emulators.virtual.ui.selector import (
    SelectorError,
    UiSelector,
    find_nodes,
    parse_selector,
)
from emulators.virtual.ui.view import View

if TYPE_CHECKING:  # pragma: no cover
    from emulators.virtual.device import ShellIO, VirtualDevice

NOT_FOUND_EXCEPTION = "androidx.test.uiautomator.UiObjectNotFoundException"
STARTUP_LINES = (
    "[server] INFO: [UiAutomator2Server] Starting Server",
    'SLF4J: Failed to load class "org.slf4j.impl.StaticLoggerBinder".',
    "SLF4J: Defaulting to no-operation (NOP) logger implementation",
    "SLF4J: See http://www.slf4j.org/codes.html#StaticLoggerBinder for further details.",
)
ORIENTATIONS = {"natural": 0, "n": 0, "left": 1, "l": 1, "upsidedown": 2, "u": 2,
                "right": 3, "r": 3}


class RpcError(Exception):
    """A JSON-RPC error object: code, message (the Java exception line) and data."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def not_found(selector: object) -> RpcError:
    return RpcError(-32002, f"{NOT_FOUND_EXCEPTION}: {selector}", f"{NOT_FOUND_EXCEPTION}: "
                    f"{selector}\n\tat androidx.test.uiautomator.UiObject.getAccessibilityNodeInfo")


def illegal_argument(message: str) -> RpcError:
    return RpcError(-32001, f"java.lang.IllegalArgumentException: {message}",
                    f"java.lang.IllegalArgumentException: {message}")


# --------------------------------------------------------------------------------------------
# The service (sans-IO)
# --------------------------------------------------------------------------------------------

@dataclass
class ServerState:
    """What the real server keeps between calls."""

    screen_on: bool = True
    last_toast: str | None = None
    clipboard: str | None = None
    touch_down: tuple[int, int] | None = None
    objects: dict[str, View] = field(default_factory=dict)  # childByText & co. hand out names


Handler = Callable[..., Any]


class U2Service:
    """One server's JSON-RPC methods over one device."""

    def __init__(self, device: VirtualDevice, stopping: threading.Event | None = None) -> None:
        self.device = device
        self.state = ServerState()
        self.stopping = stopping or threading.Event()
        self.methods: dict[str, Handler] = self._method_table()

    # --- framing ---------------------------------------------------------------------------
    def handle(self, body: bytes) -> bytes:
        """One HTTP request body in, one JSON-RPC response body out."""
        request_id: Any = None
        try:
            try:
                request = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise RpcError(-32700, "Parse error", str(exc)) from exc
            if not isinstance(request, dict) or not isinstance(request.get("method"), str):
                raise RpcError(-32600, "Invalid Request")
            request_id = request.get("id")
            result = self.call(request["method"], request.get("params"))
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "result": result}
        except RpcError as exc:
            reply = {"jsonrpc": "2.0", "id": request_id, "error": exc.to_json()}
        return json.dumps(reply).encode("utf-8")

    def call(self, method: str, params: Any) -> Any:
        handler = self.methods.get(method)
        if handler is None:
            raise RpcError(-32601, "Method not found", method)
        args = list(params) if isinstance(params, list) else []
        if isinstance(params, dict) and params:
            raise RpcError(-32602, "Invalid params", "named parameters are not supported")
        try:
            return handler(*args)
        except TypeError as exc:
            raise RpcError(-32602, "Invalid params", f"{method}: {exc}") from exc
        except SelectorError as exc:
            raise illegal_argument(str(exc)) from exc
        except RpcError:
            raise
        except Exception as exc:  # a firmware callback failed: report it, keep serving
            self.device.log.log("E", "UiAutomator2Server", f"{method} failed: {exc!r}")
            raise RpcError(-32001, f"java.lang.RuntimeException: {exc}", repr(exc)) from exc

    def _method_table(self) -> dict[str, Handler]:
        return {
            # device
            "deviceInfo": self.device_info, "dumpWindowHierarchy": self.dump_window_hierarchy,
            "takeScreenshot": self.take_screenshot, "wakeUp": self.wake_up, "sleep": self.sleep,
            "isScreenOn": lambda: self.state.screen_on,
            "setOrientation": self.set_orientation, "freezeRotation": self.freeze_rotation,
            "waitForIdle": lambda *a: True, "waitForWindowUpdate": self.wait_for_window_update,
            "openNotification": lambda: True, "openQuickSettings": lambda: True,
            "getLastTraversedText": lambda: None, "clearLastTraversedText": lambda: None,
            "getLastToast": lambda *a: self.state.last_toast, "clearLastToast": self.clear_toast,
            "makeToast": self.make_toast,
            "getClipboard": lambda: self.state.clipboard, "setClipboard": self.set_clipboard,
            "pasteClipboard": self.paste_clipboard, "clearInputText": self.clear_input_text,
            # input by coordinates
            "click": self.click, "longClick": self.long_click, "swipe": self.swipe,
            "swipePoints": self.swipe_points, "drag": self.drag,
            "injectInputEvent": self.inject_input_event,
            "pressKey": self.press_key, "pressKeyCode": self.press_key_code,
            # selectors
            "exist": self.exist, "waitForExists": self.wait_for_exists,
            "waitUntilGone": self.wait_until_gone, "objInfo": self.obj_info,
            "objInfoOfAllInstances": self.obj_info_all, "count": self.count,
            "getText": self.get_text, "setText": self.set_text,
            "clearTextField": self.clear_text_field,
            "clickAndWaitForNewWindow": self.click_and_wait_for_new_window,
            "childByText": self.child_by_text, "childByDescription": self.child_by_description,
            "childByInstance": self.child_by_instance, "getChild": self.child_by_instance,
            "dragTo": self.drag_to,
            "scrollForward": lambda *a: False, "scrollBackward": lambda *a: False,
            "scrollToBeginning": lambda *a: True, "scrollToEnd": lambda *a: True,
            "scrollTo": self.scroll_to,
            "flingForward": lambda *a: False, "flingBackward": lambda *a: False,
            "flingToBeginning": lambda *a: True, "flingToEnd": lambda *a: True,
            "gesture": lambda *a: True, "pinchIn": lambda *a: True, "pinchOut": lambda *a: True,
        }

    # --- selectors -------------------------------------------------------------------------
    def _parse(self, raw: Any) -> UiSelector | str:
        """A selector dict, or the name of an object handed out by childByText & co."""
        if isinstance(raw, str):
            return raw
        return parse_selector(raw)

    def _resolve(self, raw: Any) -> list[View]:
        selector = self._parse(raw)
        with self.device.lock:
            if isinstance(selector, str):
                view = self.state.objects.get(selector)
                on_screen = view is not None and any(
                    view is v for root in window_roots(self.device) for v in root.walk())
                return [view] if on_screen and view is not None else []
            return [n.view for n in find_nodes(window_roots(self.device), selector)]

    def _one(self, raw: Any) -> View:
        found = self._resolve(raw)
        if not found:
            raise not_found(self._parse(raw))
        return found[0]

    def exist(self, raw: Any) -> bool:
        return bool(self._resolve(raw))

    def _peek(self, raw: Any) -> bool | None:
        """exist() for a wait_ui predicate, or None when the device lock is busy.

        wait_ui runs predicates holding `ui_changed`; a thread holding the device lock may be
        about to call notify_ui (which wants `ui_changed`). Blocking on the device lock here
        could deadlock, so a busy lock means "not yet" and wait_ui polls again shortly.
        """
        if not self.device.lock.acquire(blocking=False):
            return None
        try:
            return self.exist(raw)
        finally:
            self.device.lock.release()

    def wait_for_exists(self, raw: Any, timeout_ms: int = 0) -> bool:
        self._parse(raw)  # a malformed selector fails now, not after the timeout
        self.device.wait_ui(lambda: self.stopping.is_set() or self._peek(raw) is True,
                            max(0, int(timeout_ms)) / 1000)
        return self.exist(raw)

    def wait_until_gone(self, raw: Any, timeout_ms: int = 0) -> bool:
        self._parse(raw)
        self.device.wait_ui(lambda: self.stopping.is_set() or self._peek(raw) is False,
                            max(0, int(timeout_ms)) / 1000)
        return not self.exist(raw)

    def count(self, raw: Any) -> int:
        return len(self._resolve(raw))

    def obj_info(self, raw: Any) -> dict[str, Any]:
        view = self._one(raw)
        return obj_info(view, display.rect_to_display(self.device, view.bounds))

    def obj_info_all(self, raw: Any) -> list[dict[str, Any]]:
        return [obj_info(view, display.rect_to_display(self.device, view.bounds)) for view in self._resolve(raw)]

    def get_text(self, raw: Any) -> str:
        return self._one(raw).text

    def set_text(self, raw: Any, value: str) -> bool:
        ui_input.set_text(self.device, self._one(raw), str(value))
        return True

    def clear_text_field(self, raw: Any) -> None:
        ui_input.set_text(self.device, self._one(raw), "")

    def click_and_wait_for_new_window(self, raw: Any, timeout_ms: int = 5500) -> bool:
        before = self.device.top_screen()
        self._click_view(self._one(raw))
        return self._wait_new_window(before, timeout_ms)

    def _wait_new_window(self, before: object, timeout_ms: int) -> bool:
        # reads the list without the device lock, for the same reason as _peek
        def changed() -> bool:
            screens = self.device.screens
            return self.stopping.is_set() or (screens[-1] if screens else None) is not before

        return bool(self.device.wait_ui(changed, max(0, int(timeout_ms)) / 1000))

    def _center(self, view: View) -> tuple[int, int]:
        """Where the view is on the (rotated) display: what a touch there must hit."""
        return display.to_display(self.device, *view.center)

    def _click_view(self, view: View) -> bool:
        x, y = self._center(view)
        ui_input.tap(self.device, x, y)
        return True

    def _hand_out(self, view: View) -> str:
        name = str(uuid.uuid4())
        self.state.objects[name] = view
        return name

    def child_by_text(self, raw: Any, child_raw: Any, text: str, *scroll: Any) -> str:
        return self._child_matching(raw, child_raw, lambda v: v.text == text)

    def child_by_description(self, raw: Any, child_raw: Any, desc: str, *scroll: Any) -> str:
        return self._child_matching(raw, child_raw, lambda v: v.content_desc == desc)

    def child_by_instance(self, raw: Any, child_raw: Any, instance: int = 0) -> str:
        views = self._children(raw, child_raw)
        if not 0 <= int(instance) < len(views):
            raise not_found(self._parse(child_raw))
        return self._hand_out(views[int(instance)])

    def _children(self, raw: Any, child_raw: Any) -> list[View]:
        child_selector = parse_selector(child_raw)
        parents = self._resolve(raw)
        if not parents:
            raise not_found(self._parse(raw))
        with self.device.lock:
            return [n.view for n in find_nodes([parents[0]], child_selector)
                    if n.view is not parents[0]]

    def _child_matching(self, raw: Any, child_raw: Any, test: Callable[[View], bool]) -> str:
        """UiCollection.getChildByText: the child matching `child_raw` that has, or contains,
        a view with that text."""
        for view in self._children(raw, child_raw):
            if any(test(v) for v in view.walk()):
                return self._hand_out(view)
        raise not_found(self._parse(child_raw))

    def drag_to(self, raw: Any, *target: Any) -> bool:
        view = self._one(raw)
        if target and isinstance(target[0], (dict, str)):
            x2, y2 = self._center(self._one(target[0]))
        else:
            x2, y2 = int(target[0]), int(target[1])
        x1, y1 = self._center(view)
        ui_input.swipe(self.device, x1, y1, x2, y2, 500)
        return True

    def scroll_to(self, raw: Any, target_raw: Any = None, *rest: Any) -> bool:
        return self.exist(target_raw if target_raw is not None else raw)

    # --- input by coordinates --------------------------------------------------------------
    def click(self, *args: Any) -> bool:
        """click(selector) or click(x, y) or click(x, y, duration_ms) (a long click)."""
        if args and isinstance(args[0], (dict, str)):
            return self._click_view(self._one(args[0]))
        x, y = int(args[0]), int(args[1])
        if len(args) > 2 and int(args[2]) >= ui_input.LONG_PRESS_MS:
            ui_input.long_tap(self.device, x, y)
        else:
            ui_input.tap(self.device, x, y)
        return True

    def long_click(self, *args: Any) -> bool:
        if args and isinstance(args[0], (dict, str)):
            x, y = self._center(self._one(args[0]))
        else:
            x, y = int(args[0]), int(args[1])
        ui_input.long_tap(self.device, x, y)
        return True

    def swipe(self, *args: Any) -> bool:
        """swipe(x1, y1, x2, y2, steps) or swipe(selector, direction, steps)."""
        if args and isinstance(args[0], (dict, str)):
            self._one(args[0])
            return True
        x1, y1, x2, y2 = (int(a) for a in args[:4])
        steps = int(args[4]) if len(args) > 4 else 55
        return self._gesture(x1, y1, x2, y2, steps)

    def swipe_points(self, points: list[int], steps: int = 100) -> bool:
        coords = [int(p) for p in points]
        if len(coords) >= 4:
            self._gesture(coords[0], coords[1], coords[-2], coords[-1], int(steps))
        return True

    def drag(self, x1: int, y1: int, x2: int, y2: int, steps: int = 100) -> bool:
        return self._gesture(int(x1), int(y1), int(x2), int(y2), int(steps))

    def _gesture(self, x1: int, y1: int, x2: int, y2: int, steps: int) -> bool:
        """UiDevice injects one move per step, about 5 ms apart: the gesture takes that long."""
        ms = max(0, steps) * 5
        if self.stopping.wait(ms / 1000):
            return False
        ui_input.swipe(self.device, x1, y1, x2, y2, ms)
        return True

    def inject_input_event(self, action: int, x: float, y: float, meta: int = 0) -> bool:
        """MotionEvent ACTION_DOWN (0) / MOVE (2) / UP (1): a down then up in place is a tap."""
        point = (int(x), int(y))
        if int(action) == 0:
            self.state.touch_down = point
        elif int(action) == 1 and self.state.touch_down is not None:
            start, self.state.touch_down = self.state.touch_down, None
            ui_input.swipe(self.device, start[0], start[1], point[0], point[1], 100)
        return True

    def press_key(self, name: str) -> bool:
        code = ui_input.key_code(str(name))
        if code is None:
            return False  # the real server answers false for a key name it does not know
        self._press(code)
        return True

    def press_key_code(self, code: int, meta: int = 0) -> bool:
        self._press(int(code))
        return True

    def _press(self, code: int) -> None:
        if code in (26, 223):  # POWER toggles the screen, SLEEP turns it off
            self.state.screen_on = code == 26 and not self.state.screen_on
        elif code == 224:
            self.state.screen_on = True
        ui_input.key(self.device, code)

    # --- device ----------------------------------------------------------------------------
    def device_info(self) -> dict[str, Any]:
        g = display.geometry(self.device)
        width, height = g.rotated_size
        screen = self.device.top_screen()
        return {
            "currentPackageName": screen.package if screen else "com.android.systemui",
            "displayWidth": width, "displayHeight": height,
            "displayRotation": g.rotation,
            "displaySizeDpX": round(width * 160 / g.density),
            "displaySizeDpY": round(height * 160 / g.density),
            "productName": self.device.props.get("ro.product.name"),
            "naturalOrientation": g.rotation % 2 == 0,
            "screenOn": self.state.screen_on,
            "sdkInt": int(self.device.props.get("ro.build.version.sdk") or 0),
        }

    def dump_window_hierarchy(self, compressed: bool = False, max_depth: int | None = None,
                              *rest: Any) -> str:
        return dump_xml(self.device, bool(compressed), int(max_depth or 50))

    def take_screenshot(self, scale: float = 1.0, quality: int = 80) -> str:
        # imported here: PIL is loaded only by a server that is asked for a screenshot
        from emulators.virtual.ui.render import render_jpeg

        return base64.b64encode(render_jpeg(self.device, float(scale), int(quality))).decode()

    def wake_up(self) -> None:
        self.state.screen_on = True

    def sleep(self) -> None:
        self.state.screen_on = False

    def set_orientation(self, name: str) -> None:
        if str(name).lower() not in ORIENTATIONS:
            raise illegal_argument(f"Invalid orientation: {name}")
        # UiAutomation.setRotation(ROTATION_FREEZE_n): auto-rotate off, rotation n held
        display.set_user_rotation(self.device, ORIENTATIONS[str(name).lower()])

    def freeze_rotation(self, freeze: bool = True) -> None:
        if freeze:  # hold whatever the display shows now
            display.set_user_rotation(self.device, display.rotation(self.device))
        else:
            self.device.settings.put("system", "accelerometer_rotation", "1")

    def wait_for_window_update(self, package: str | None = None, timeout_ms: int = 1000) -> bool:
        return self._wait_new_window(self.device.top_screen(), timeout_ms)

    def make_toast(self, text: str, duration_ms: float = 1000) -> bool:
        self.state.last_toast = str(text)
        return True

    def clear_toast(self) -> None:
        self.state.last_toast = None

    def set_clipboard(self, label: str | None, text: str) -> None:
        self.state.clipboard = text

    def paste_clipboard(self) -> None:
        if self.state.clipboard:
            ui_input.text(self.device, self.state.clipboard)

    def clear_input_text(self) -> None:
        with self.device.lock:
            view = ui_input.focused_edit(self.device)
        if view is not None:
            ui_input.set_text(self.device, view, "")


def obj_info(view: View, on_display: tuple[int, int, int, int]) -> dict[str, Any]:
    """UiObject.getInfo() as the server serialises ObjInfo."""
    left, top, right, bottom = on_display  # where it is on the rotated display
    bounds = {"top": top, "bottom": bottom, "left": left, "right": right}
    return {
        "bounds": bounds, "checkable": view.checkable, "checked": view.checked,
        "childCount": len(view.children), "className": view.cls, "clickable": view.clickable,
        "contentDescription": view.content_desc or None, "enabled": view.enabled,
        "focusable": view.focusable, "focused": view.focused,
        "longClickable": view.long_clickable, "packageName": view.package,
        "resourceName": view.resource_id or None, "scrollable": view.scrollable,
        "selected": view.selected, "text": view.text, "visibleBounds": dict(bounds),
    }


# --------------------------------------------------------------------------------------------
# HTTP edge
# --------------------------------------------------------------------------------------------

def make_handler(service: U2Service) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "NanoHTTPD"
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/ping":
                self._reply(200, b"pong", "text/plain")
            else:
                self._reply(404, b"Not Found", "text/plain")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path.split("?")[0].rstrip("/") != "/jsonrpc/0":
                self._reply(404, b"Not Found", "text/plain")
                return
            self._reply(200, service.handle(body), "application/json")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the device log is not the place for an access log

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False


def _write(io: ShellIO, text: str) -> bool:
    try:
        io.stdout((text + "\n").encode())
        return True
    except (BrokenPipeError, OSError):
        return False


def serve(device: VirtualDevice, port: int, io: ShellIO) -> int:
    """Run the server for one `app_process ... com.wetest.uia2.Main -p PORT` command.

    Blocks until the shell stream closes or the `uiautomator` process is killed; returns the
    command's exit status (1 when another server already holds the port).
    """
    stopping = threading.Event()
    service = U2Service(device, stopping)
    httpd = _Server(("127.0.0.1", 0), make_handler(service))
    with device.lock:
        if port in device.tcp_servers:
            httpd.server_close()
            _write(io, STARTUP_LINES[0])
            _write(io, f"java.net.BindException: Address already in use (port {port})")
            return 1
        address = ("127.0.0.1", httpd.server_address[1])
        device.tcp_servers[port] = address
    proc = device.processes.spawn("uiautomator", stop=stopping.set)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"u2server-{port}", daemon=True)
    thread.start()
    device.log.i("UiAutomator2Server", f"listening on device port {port}")
    try:
        alive = all(_write(io, line) for line in STARTUP_LINES)
        while alive and not stopping.is_set() and not io.closed.is_set():
            io.closed.wait(0.1)
    finally:
        stopping.set()
        device.notify_ui()  # wake waitForExists callers so they return now
        with device.lock:
            if device.tcp_servers.get(port) == address:
                del device.tcp_servers[port]
        device.processes.exit(proc.pid)
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=2)
    return 0
