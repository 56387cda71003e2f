"""The uiautomator2 server: JSON-RPC methods (sans-IO) and `serve()` over a real local HTTP link."""

from __future__ import annotations

import base64
import http.client
import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from uiautomator2._selector import Selector  # type: ignore[import-untyped]

from emulators.virtual.builtin import LAUNCHER_COMPONENT, SETTINGS_COMPONENT, BuiltinFirmware
from emulators.virtual.device import DeviceConfig, ShellIO, VirtualDevice
from emulators.virtual.u2server import NOT_FOUND_EXCEPTION, U2Service, serve
from emulators.virtual.ui.view import Screen, View, column, label

LOCATION = "com.android.settings:id/location_switch"


@pytest.fixture
def device(tmp_path: Path) -> VirtualDevice:
    dev = VirtualDevice(DeviceConfig(data_dir=tmp_path), BuiltinFirmware())
    dev.boot()
    return dev


@pytest.fixture
def service(device: VirtualDevice) -> U2Service:
    return U2Service(device)


def rpc(service: U2Service, method: str, *params: Any) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params) if params else {}}
    reply: dict[str, Any] = json.loads(service.handle(json.dumps(body).encode()))
    return reply


def result(service: U2Service, method: str, *params: Any) -> Any:
    reply = rpc(service, method, *params)
    assert "error" not in reply, reply
    return reply["result"]


def sel(**kwargs: Any) -> dict[str, Any]:
    return json.loads(json.dumps(Selector(**kwargs)))


# --- sans-IO -----------------------------------------------------------------------------------

def test_device_info(service: U2Service) -> None:
    info = result(service, "deviceInfo")
    assert info["displayWidth"] == 1080 and info["displayHeight"] == 1920
    assert info["sdkInt"] == 31 and info["productName"] == "sdk_gphone64_x86_64"
    assert info["currentPackageName"] == "com.android.launcher3"
    assert info["screenOn"] is True and info["displayRotation"] == 0
    assert info["displaySizeDpX"] == 411


def test_dump_hierarchy(service: U2Service) -> None:
    xml = result(service, "dumpWindowHierarchy", False, 50)
    assert xml.startswith("<?xml") and 'text="Settings"' in xml
    assert "com.android.systemui:id/operator_name" in xml


def test_take_screenshot_is_base64_jpeg(service: U2Service) -> None:
    data = base64.b64decode(result(service, "takeScreenshot", 1, 80))
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (1080, 1920)


def test_click_selector_and_coordinates(service: U2Service, device: VirtualDevice) -> None:
    assert result(service, "click", sel(text="Settings")) is True
    assert device.top_screen().component == SETTINGS_COMPONENT  # type: ignore[union-attr]
    info = result(service, "objInfo", sel(resourceId=LOCATION))
    assert info["checked"] is True and info["className"] == "android.widget.Switch"
    b = info["bounds"]
    result(service, "click", (b["left"] + b["right"]) // 2, (b["top"] + b["bottom"]) // 2)
    assert result(service, "objInfo", sel(resourceId=LOCATION))["checked"] is False
    assert device.settings.get("secure", "location_mode") == "0"


def test_selector_miss_is_ui_object_not_found(service: U2Service) -> None:
    for method in ("objInfo", "getText", "click", "setText"):
        params = [sel(text="Nope")] + (["x"] if method == "setText" else [])
        error = rpc(service, method, *params)["error"]
        assert error["code"] == -32002
        assert NOT_FOUND_EXCEPTION in error["message"] and "TEXT=Nope" in error["message"]


def test_unknown_method(service: U2Service) -> None:
    reply = rpc(service, "teleport", 1)
    assert reply["error"]["code"] == -32601 and reply["error"]["message"] == "Method not found"
    assert reply["id"] == 1


def test_malformed_requests(service: U2Service) -> None:
    assert json.loads(service.handle(b"{nope"))["error"]["code"] == -32700
    assert json.loads(service.handle(b"[1]"))["error"]["code"] == -32600
    bad_regex = rpc(service, "exist", sel(textMatches="(x"))["error"]
    assert "PatternSyntaxException" in bad_regex["message"]


def test_exist_count_info_list(service: U2Service) -> None:
    assert result(service, "exist", sel(text="Settings")) is True
    assert result(service, "exist", sel(text="Nope")) is False
    assert result(service, "count", sel(className="android.widget.TextView")) >= 4
    infos = result(service, "objInfoOfAllInstances", sel(text="Phone"))
    assert [i["text"] for i in infos] == ["Phone"]
    assert result(service, "getText", sel(resourceId="com.android.systemui:id/operator_name")) \
        == "Android"


def test_wait_for_exists_wakes_on_ui_change(service: U2Service, device: VirtualDevice) -> None:
    timer = threading.Timer(0.2, device.firmware.open_settings)  # type: ignore[attr-defined]
    timer.start()
    start = time.monotonic()
    assert result(service, "waitForExists", sel(resourceId=LOCATION), 5000) is True
    assert time.monotonic() - start < 2
    assert result(service, "waitForExists", sel(text="Nope"), 100) is False


def test_wait_until_gone(service: U2Service, device: VirtualDevice) -> None:
    device.firmware.open_settings()  # type: ignore[attr-defined]
    threading.Timer(0.2, device.firmware.go_home).start()  # type: ignore[attr-defined]
    assert result(service, "waitUntilGone", sel(resourceId=LOCATION), 5000) is True
    assert result(service, "waitUntilGone", sel(text="Settings"), 100) is False


def test_press_key_names_and_codes(service: U2Service, device: VirtualDevice) -> None:
    device.firmware.open_settings()  # type: ignore[attr-defined]
    assert result(service, "pressKey", "back") is True
    assert device.top_screen().component == LAUNCHER_COMPONENT  # type: ignore[union-attr]
    device.firmware.open_settings()  # type: ignore[attr-defined]
    assert result(service, "pressKeyCode", 3) is True
    assert device.top_screen().component == LAUNCHER_COMPONENT  # type: ignore[union-attr]
    assert result(service, "pressKey", "no_such_key") is False


def test_set_and_clear_text(service: U2Service, device: VirtualDevice) -> None:
    edit = View(cls="android.widget.EditText", resource_id="p:id/name", clickable=True,
                focusable=True, style="edit")
    device.screens.append(Screen("p/.A", column("p", [edit])))
    assert result(service, "setText", sel(resourceId="p:id/name"), "Ana") is True
    assert result(service, "getText", sel(resourceId="p:id/name")) == "Ana"
    result(service, "clearTextField", sel(resourceId="p:id/name"))
    assert edit.text == ""


def test_child_by_text_hands_out_a_name(service: U2Service, device: VirtualDevice) -> None:
    row = View(cls="android.widget.LinearLayout", resource_id="p:id/row",
               children=[label("Wi-Fi", "p:id/label")])
    device.screens.append(Screen("p/.A", column("p", [row])))
    name = result(service, "childByText", sel(className="android.widget.LinearLayout"),
                  sel(resourceId="p:id/row"), "Wi-Fi")
    assert isinstance(name, str)
    assert result(service, "objInfo", name)["resourceName"] == "p:id/row"
    device.screens.pop()
    assert rpc(service, "objInfo", name)["error"]["code"] == -32002


def test_toast_clipboard_orientation(service: U2Service) -> None:
    result(service, "makeToast", "hi", 1000)
    assert result(service, "getLastToast") == "hi"
    result(service, "clearLastToast")
    assert result(service, "getLastToast") is None
    result(service, "setClipboard", None, "copied")
    assert result(service, "getClipboard") == "copied"
    result(service, "setOrientation", "left")
    assert result(service, "deviceInfo")["displayRotation"] == 1
    assert "error" in rpc(service, "setOrientation", "sideways")
    result(service, "sleep")
    assert result(service, "deviceInfo")["screenOn"] is False
    result(service, "wakeUp")
    assert result(service, "deviceInfo")["screenOn"] is True


def test_touch_down_up_is_a_tap(service: U2Service, device: VirtualDevice) -> None:
    x, y = next(v for s in [device.top_screen()] if s for v in s.root.walk()
                if v.text == "Settings").center
    result(service, "injectInputEvent", 0, x, y, 0)
    result(service, "injectInputEvent", 1, x, y, 0)
    assert device.top_screen().component == SETTINGS_COMPONENT  # type: ignore[union-attr]


def test_a_failing_callback_is_an_rpc_error(service: U2Service, device: VirtualDevice) -> None:
    def boom() -> None:
        raise RuntimeError("firmware bug")

    device.screens.append(Screen("p/.A", column("p", [
        View(cls="android.widget.Button", text="Boom", clickable=True, on_click=boom)])))
    error = rpc(service, "click", sel(text="Boom"))["error"]
    assert "firmware bug" in error["message"]


# --- serve() over HTTP ---------------------------------------------------------------------------

class FakeShellIO:
    """What adbd hands a shell command: collects stdout, `closed` is the stream closing."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.closed = threading.Event()

    def io(self) -> ShellIO:
        return ShellIO(stdin=lambda n: b"", stdout=self.out.extend, stderr=self.out.extend,
                       closed=self.closed)


@pytest.fixture
def running(device: VirtualDevice) -> Iterator[tuple[VirtualDevice, FakeShellIO, list[int]]]:
    shell = FakeShellIO()
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(serve(device, 9008, shell.io())))
    thread.start()
    deadline = time.monotonic() + 5
    while 9008 not in device.tcp_servers and time.monotonic() < deadline:
        time.sleep(0.01)
    yield device, shell, codes
    shell.closed.set()
    thread.join(5)


def request(device: VirtualDevice, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
    host, port = device.tcp_servers[9008]
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        payload = json.dumps(body) if body is not None else None
        conn.request(method, path, payload, {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_serve_answers_ping_and_jsonrpc(running: Any) -> None:
    device, shell, _ = running
    assert request(device, "GET", "/ping") == (200, b"pong")
    status, body = request(device, "POST", "/jsonrpc/0",
                        {"jsonrpc": "2.0", "id": 7, "method": "deviceInfo", "params": {}})
    assert status == 200 and json.loads(body)["result"]["sdkInt"] == 31
    assert request(device, "GET", "/nowhere")[0] == 404
    assert b"[UiAutomator2Server] Starting Server" in shell.out
    assert any(p.name == "uiautomator" for p in device.processes.procs.values())


def test_closing_the_stream_stops_the_server(running: Any) -> None:
    device, shell, codes = running
    shell.closed.set()
    deadline = time.monotonic() + 5
    while not codes and time.monotonic() < deadline:
        time.sleep(0.01)
    assert codes == [0]
    assert 9008 not in device.tcp_servers
    assert not any(p.name == "uiautomator" for p in device.processes.procs.values())


def test_kill_stops_the_server(running: Any) -> None:
    device, _, codes = running
    (pid,) = [p.pid for p in device.processes.procs.values() if p.name == "uiautomator"]
    assert device.processes.kill(pid)
    deadline = time.monotonic() + 5
    while not codes and time.monotonic() < deadline:
        time.sleep(0.01)
    assert codes == [0] and 9008 not in device.tcp_servers


def test_a_second_server_on_the_port_fails(running: Any) -> None:
    device, _, _ = running
    second = FakeShellIO()
    assert serve(device, 9008, second.io()) == 1
    assert b"java.net.BindException: Address already in use" in second.out
    assert request(device, "GET", "/ping") == (200, b"pong")  # the first one is unharmed


def test_wait_does_not_deadlock_with_a_notifier_holding_the_device_lock(
        service: U2Service, device: VirtualDevice) -> None:
    """A firmware hook may call notify_ui while its caller holds the device lock."""
    def push_under_lock() -> None:
        with device.lock:
            device.firmware.open_settings()  # type: ignore[attr-defined]
            device.notify_ui()

    threading.Timer(0.1, push_under_lock).start()
    assert result(service, "waitForExists", sel(resourceId=LOCATION), 5000) is True


def test_repeated_screenshots_reuse_the_encoded_jpeg(service: U2Service) -> None:
    assert result(service, "takeScreenshot", 1, 80) == result(service, "takeScreenshot", 1, 80)
