"""harness.backends.exitproxy: pure header/URI handling, then real forwarding over local sockets.

The origin is a tiny ThreadingHTTPServer on 127.0.0.1:0 that echoes what it received as JSON, so
each test sees exactly what left the proxy.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from typing import Any

import pytest

from harness.backends.exitproxy import (
    ExitProxy,
    ExitProxyPool,
    ProxyRequestError,
    Target,
    forward_headers,
    parse_absolute_uri,
    parse_authority,
    response_headers,
)
from harness.iprange import UnknownCountry

# --------------------------------------------------------------------------------------------
# Pure parts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("uri", "target"), [
    ("http://example.org/v1/activate", Target("example.org", 80, "/v1/activate")),
    ("http://127.0.0.1:8080/a?b=1&c=2", Target("127.0.0.1", 8080, "/a?b=1&c=2")),
    ("http://host:81", Target("host", 81, "/")),
    ("HTTP://Host/x", Target("host", 80, "/x")),
])
def test_parse_absolute_uri(uri: str, target: Target) -> None:
    assert parse_absolute_uri(uri) == target


@pytest.mark.parametrize("uri", ["/v1/activate", "https://example.org/", "http:///x", "http://h:99999/"])
def test_parse_absolute_uri_rejects_what_a_forward_proxy_cannot_serve(uri: str) -> None:
    with pytest.raises(ProxyRequestError):
        parse_absolute_uri(uri)


def test_parse_authority() -> None:
    assert parse_authority("example.org:443") == ("example.org", 443)
    assert parse_authority("[::1]:8443") == ("::1", 8443)
    with pytest.raises(ProxyRequestError, match="host:port"):
        parse_authority("example.org")


def test_forward_headers_replace_the_clients_forwarded_for_and_drop_per_hop_ones() -> None:
    sent = [("Host", "proxy:1"), ("Proxy-Connection", "keep-alive"), ("Connection", "keep-alive"),
            ("X-Forwarded-For", "6.6.6.6"), ("x-forwarded-for", "7.7.7.7"), ("Content-Type", "application/json"),
            ("Proxy-Authorization", "Basic x"), ("Content-Length", "3"), ("User-Agent", "dalvik")]
    out = forward_headers(sent, Target("srv", 8080, "/"), "2.184.0.1")
    assert out == [("Host", "srv:8080"), ("Content-Type", "application/json"), ("User-Agent", "dalvik"),
                   ("X-Forwarded-For", "2.184.0.1"), ("Connection", "close")]
    assert forward_headers([], Target("srv", 80, "/"), "1.2.3.4")[0] == ("Host", "srv")


def test_response_headers_relay_the_body_whole() -> None:
    out = response_headers([("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked"),
                            ("Content-Length", "99"), ("Keep-Alive", "5")], 12)
    assert out == [("Content-Type", "text/plain"), ("Content-Length", "12"), ("Connection", "close")]


# --------------------------------------------------------------------------------------------
# Over real sockets
# --------------------------------------------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with what it saw: method, path, headers, body, TCP peer."""

    protocol_version = "HTTP/1.1"

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        data = json.dumps({"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                           "xff": self.headers.get_all("X-Forwarded-For"), "body": body,
                           "peer": self.client_address[0]}).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Origin", "echo")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_HEAD = do_PUT = _echo

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def proxy() -> Iterator[ExitProxy]:
    with ExitProxy("175.45.176.10", country="KP") as running:
        yield running


def _via(proxy: ExitProxy, url: str, data: bytes | None = None, method: str | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """A proxy-aware client, as an app honouring `http_proxy` is: urllib with a ProxyHandler."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": f"http://{proxy.address}"}))
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def test_get_is_forwarded_with_the_countrys_address(proxy: ExitProxy, origin: str) -> None:
    status, headers, body = _via(proxy, f"{origin}/v1/devices?x=1")
    seen = json.loads(body)
    assert status == 200
    assert seen["method"] == "GET" and seen["path"] == "/v1/devices?x=1"  # origin-form upstream
    assert seen["xff"] == ["175.45.176.10"]
    assert seen["headers"]["Host"] == origin.removeprefix("http://")
    assert "Proxy-Connection" not in seen["headers"]
    assert headers["X-Origin"] == "echo"  # the origin's own headers come back


def test_post_body_arrives_intact_and_a_client_forwarded_for_is_replaced(proxy: ExitProxy, origin: str) -> None:
    payload = json.dumps({"imei": ["490154203237518"], "signals": "x" * 5000}).encode()
    status, _, body = _via(proxy, f"{origin}/v1/activate", data=payload,
                           headers={"Content-Type": "application/json", "X-Forwarded-For": "8.8.8.8"})
    seen = json.loads(body)
    assert status == 201
    assert seen["body"] == payload.decode()
    assert seen["xff"] == ["175.45.176.10"]  # the device's claim never reaches the server


def test_chunked_request_body_is_forwarded_with_a_length(proxy: ExitProxy, origin: str) -> None:
    host, port = proxy.address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST {origin}/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".encode())
        reply = _read_all(sock)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 201")
    assert json.loads(body)["body"] == "hello world"


def test_head_gets_no_body(proxy: ExitProxy, origin: str) -> None:
    status, _, body = _via(proxy, f"{origin}/h", method="HEAD")
    assert status == 200 and body == b""


def test_origin_form_request_is_refused_with_400(proxy: ExitProxy) -> None:
    host, port = proxy.address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /v1/activate HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = _read_all(sock)
    assert reply.startswith(b"HTTP/1.1 400")
    assert b"absolute http:// URI" in reply


def test_unreachable_origin_is_a_502_naming_it(proxy: ExitProxy) -> None:
    dead = _closed_port()
    status, _, body = _via(proxy, f"http://127.0.0.1:{dead}/v1/activate")
    assert status == 502
    assert f"127.0.0.1:{dead}".encode() in body
    assert proxy.forwarded[-1].status == 502


def test_connect_tunnels_bytes_both_ways(proxy: ExitProxy) -> None:
    upstream = socket.create_server(("127.0.0.1", 0))
    upstream.settimeout(10)

    def serve_one() -> None:
        conn, _ = upstream.accept()
        with conn:
            conn.sendall(conn.recv(100).upper())

    worker = threading.Thread(target=serve_one, daemon=True)
    worker.start()
    host, port = proxy.address.split(":")
    with upstream, socket.create_connection((host, int(port)), timeout=10) as sock:
        target = f"127.0.0.1:{upstream.getsockname()[1]}"
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        assert _read_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 200")
        sock.sendall(b"tls bytes")
        assert _read_until(sock, b"BYTES") == b"TLS BYTES"
    worker.join(5)


def test_requests_are_recorded(proxy: ExitProxy, origin: str) -> None:
    _via(proxy, f"{origin}/one")
    _via(proxy, f"{origin}/two", data=b"{}")
    assert [(f.method, f.url.removeprefix(origin), f.status) for f in proxy.forwarded] == [
        ("GET", "/one", 200), ("POST", "/two", 201)]


def test_stop_closes_the_port_and_is_idempotent() -> None:
    running = ExitProxy(IPv4Address("2.184.0.1")).start()
    port = int(running.address.split(":")[1])
    running.stop()
    running.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with pytest.raises(RuntimeError, match="before start"):
        _ = running.address


# --------------------------------------------------------------------------------------------
# The pool
# --------------------------------------------------------------------------------------------


def test_pool_starts_one_proxy_per_country_lazily_and_stops_all(origin: str) -> None:
    picked: list[str] = []

    def pick(country: str) -> IPv4Address:
        picked.append(country)
        return IPv4Address({"IR": "2.184.0.1", "CU": "152.207.0.1"}[country])

    pool = ExitProxyPool(pick)
    try:
        assert pool.running() == {}
        iran = pool.for_country("ir")
        assert pool.for_country("IR") is iran and picked == ["IR"]
        cuba = pool.for_country("CU")
        assert iran.address != cuba.address
        assert json.loads(_via(cuba, f"{origin}/")[2])["xff"] == ["152.207.0.1"]
    finally:
        pool.stop_all()
    pool.stop_all()
    assert pool.running() == {}


def test_pool_uses_the_harness_table_by_default() -> None:
    pool = ExitProxyPool()
    try:
        assert pool.for_country("KP").forwarded_for == "175.45.178.1"
        with pytest.raises(UnknownCountry):
            pool.for_country("ZZ")
    finally:
        pool.stop_all()


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------------------------
# The backends' proxy_for_country and the --exit-proxy option
# --------------------------------------------------------------------------------------------


def test_virtual_backend_starts_a_stand_in_per_country_and_stops_it_at_teardown() -> None:
    from harness.backends.base import BackendOptions, DeviceHandle
    from harness.backends.virtual import VirtualBackend

    backend = VirtualBackend(BackendOptions(exit_proxies=(("UA", "10.0.0.5:3128"),)))
    ops = backend.device_ops(DeviceHandle(serial="emulator-40000", kind="virtual"))
    try:
        address = ops.proxy_for_country("ir")
        assert address is not None and address.startswith("127.0.0.1:")
        assert ops.proxy_for_country("IR") == address  # one per country, reused
        assert backend.exit_proxies.running()["IR"].forwarded_for == "2.184.0.1"
        assert ops.proxy_for_country("UA") == "10.0.0.5:3128"  # the user's real exit wins
        assert ops.proxy_for_country("ZZ") is None  # no range: the step is skipped, not faked
        assert ops.proxy_for_country(None) is None
    finally:
        backend.teardown()
    assert backend.exit_proxies.running() == {}
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(address.split(":")[1])), timeout=2).close()


def test_adb_backend_offers_only_configured_proxies() -> None:
    from harness.backends.adb import AdbBackend
    from harness.backends.base import BackendOptions, DeviceHandle

    backend = AdbBackend(BackendOptions(exit_proxies=(("IR", "proxy.lab:3128"),)))
    ops = backend.device_ops(DeviceHandle(serial="R58M", kind="adb"))
    assert ops.proxy_for_country("ir") == "proxy.lab:3128"
    assert ops.proxy_for_country("CU") is None
    assert ops.proxy_for_country(None) is None


@pytest.mark.parametrize(("text", "parsed"), [
    ("IR=proxy.lab:3128", ("IR", "proxy.lab:3128")),
    ("cu=10.1.2.3:8080", ("CU", "10.1.2.3:8080")),
])
def test_exit_proxy_option_parses(text: str, parsed: tuple[str, str]) -> None:
    from harness.pytest_plugin import _exit_proxy

    assert _exit_proxy(text) == parsed


@pytest.mark.parametrize(("text", "message"), [
    ("proxy.lab:3128", "two-letter country"),
    ("IRN=proxy.lab:3128", "two-letter country"),
    ("IR=proxy.lab", "port 1-65535"),
    ("IR=proxy.lab:0", "port 1-65535"),
    ("IR=:3128", "port 1-65535"),
])
def test_exit_proxy_option_rejects_with_a_usage_error(text: str, message: str) -> None:
    from harness.pytest_plugin import _exit_proxy

    with pytest.raises(pytest.UsageError, match=message):
        _exit_proxy(text)
